// What the /v1 route tests share: a Router with the real Authenticator (the admin token, and API
// keys kept in the store), a SqliteStore in a fresh temporary directory seeded with the default
// rooms "1000" and "echo", the RoomDirectory, MeetingCalendar, EventLog and a ConferenceService
// whose UdpPortPool sits on free loopback ports (no media workers). Requests go straight to
// Router::handle: no sockets for HTTP.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "conference/conference_service.hpp"
#include "conference/store/sqlite_store.hpp"
#include "rest-api/api/api_services.hpp"
#include "rest-api/api/meeting_routes.hpp"
#include "rest-api/api/room_routes.hpp"
#include "rest-api/router.hpp"
#include "signaling/message/message_parser.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/temp_dir.hpp"

namespace chorus::rest::api_test {

namespace http = boost::beast::http;
using nlohmann::json;

inline std::chrono::system_clock::time_point utc(int year, unsigned month, unsigned day, int hour, int minute = 0) {
  using namespace std::chrono;
  return sys_days{std::chrono::year{year} / month / day} + hours{hour} + minutes{minute};
}

// The authenticator's API keys, looked up in the store as the server does.
class StoreKeys : public ApiKeyLookup {
 public:
  explicit StoreKeys(conference::Store& store) : store_(store) {}
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override {
    const auto key = store_.find_api_key_by_token_hash(token_hash);
    if (!key) return std::nullopt;
    const auto scopes = ScopeSet::parse(key->scopes);
    if (!scopes) return std::nullopt;
    return ApiKeyPrincipal{key->id, key->name, *scopes};
  }

 private:
  conference::Store& store_;
};

struct Call {
  http::verb method = http::verb::get;
  std::string target;
  std::optional<json> body;
  std::string token;  // empty: the admin token; "-": none
  std::string if_match;
  std::string content_type = "application/json";
  std::string raw_body;  // sent as is when `body` is empty
};

class ApiRoutesTest : public ::testing::Test {
 protected:
  static constexpr std::string_view kAdminToken = "chorus-admin-token-for-tests";
  static constexpr std::string_view kReaderToken = "chorus_reader_token_for_tests";
  static constexpr std::string_view kSipHost = "conf.example.org";

  ApiRoutesTest() {
    for (const auto& room : {conference::default_room(), conference::echo_room()}) {
      auto created = store_->create_room(room);
      if (!created) throw std::runtime_error("seed: " + created.error().message);
      rooms_.add(*created);
    }
    auto reader =
        store_->create_api_key({"key-reader", "reader", {"rooms:read"}, hash_token(kReaderToken), utc(2026, 1, 1, 0)});
    if (!reader) throw std::runtime_error("api key: " + reader.error().message);

    const std::uint16_t first = chorus::test::free_udp_range(4);
    ports_ = std::make_unique<media::UdpPortPool>("127.0.0.1", first, static_cast<std::uint16_t>(first + 3));
    conference_ = std::make_unique<conference::ConferenceService>(rooms_, *ports_, sdp::MediaPolicy{});
    conference_->set_calendar(&calendar_);
    services_ = std::make_unique<ApiServices>(ApiServices{
        .store = *store_,
        .rooms = rooms_,
        .calendar = calendar_,
        .conference = *conference_,
        .events = events_,
        .metrics = metrics_,
        .sip_host = std::string(kSipHost),
        .ready = [] { return true; },
        .drain = [] {},
        .hang_up = [](sip::CallHandle, std::string_view) { return false; },
        .now = [this] { return now_; },
    });
    add_room_routes(router_, *services_);
    add_meeting_routes(router_, *services_);
  }

  static std::unique_ptr<conference::SqliteStore> open_store(const std::filesystem::path& dir) {
    auto opened = conference::SqliteStore::open((dir / "chorus.db").string());
    if (!opened) throw std::runtime_error("store: " + opened.error());
    return std::move(*opened);
  }

  HttpResponse call(const Call& c) { return router_.handle(request_of(c)); }
  static HttpRequest request_of(const Call& c) {
    HttpRequest request;
    request.message.method(c.method);
    request.message.target(c.target);
    request.message.version(11);
    if (c.token != "-") {
      request.message.set(http::field::authorization,
                          "Bearer " + (c.token.empty() ? std::string(kAdminToken) : c.token));
    }
    if (!c.if_match.empty()) request.message.set(http::field::if_match, c.if_match);
    if (c.body || !c.raw_body.empty()) {
      request.message.set(http::field::content_type, c.content_type);
      request.message.body() = c.body ? c.body->dump() : c.raw_body;
    }
    return request;
  }
  HttpResponse get(std::string target, std::string token = {}) {
    return call({.method = http::verb::get, .target = std::move(target), .token = std::move(token)});
  }
  HttpResponse post(std::string target, json body, std::string token = {}) {
    return call({.method = http::verb::post, .target = std::move(target), .body = std::move(body), .token = token});
  }
  HttpResponse patch(std::string target, json body, std::string if_match) {
    return call({.method = http::verb::patch,
                 .target = std::move(target),
                 .body = std::move(body),
                 .if_match = std::move(if_match)});
  }
  HttpResponse del(std::string target, std::string if_match = {}) {
    return call({.method = http::verb::delete_, .target = std::move(target), .if_match = std::move(if_match)});
  }

  static json body_of(const HttpResponse& response) { return json::parse(response.message.body()); }
  static std::string header_of(const HttpResponse& response, http::field field) {
    return std::string(std_view(response.message[field]));
  }
  static std::string etag_of(const HttpResponse& response) { return header_of(response, http::field::etag); }
  // The JSON Pointers a 422/400 answer names.
  static std::vector<std::string> error_fields(const HttpResponse& response) {
    std::vector<std::string> fields;
    for (const auto& error : body_of(response).value("errors", json::array())) fields.push_back(error.at("field"));
    return fields;
  }
  // Event types published so far, oldest first.
  std::vector<std::string> event_types() const {
    std::vector<std::string> types;
    for (const auto& event : events_.since(0, 1000).events) types.push_back(event.type);
    return types;
  }
  conference::Event last_event() const { return events_.since(0, 1000).events.back(); }

  // A caller in `room_id` (a real participant of the ConferenceService, with leased ports).
  void join(const std::string& room_id, sip::CallHandle handle) {
    auto invite = sip::parse_message("INVITE sip:" + room_id +
                                     "@127.0.0.1 SIP/2.0\r\n"
                                     "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKrest\r\n"
                                     "From: <sip:alice@example.com>;tag=a\r\n"
                                     "To: <sip:" +
                                     room_id +
                                     "@127.0.0.1>\r\n"
                                     "Call-ID: rest-1\r\n"
                                     "CSeq: 1 INVITE\r\n"
                                     "Content-Length: 0\r\n\r\n");
    ASSERT_TRUE(invite.has_value());
    sip::CallInfo info;
    info.handle = handle;
    info.call_id = "rest-" + std::to_string(handle);
    info.request_user = room_id;
    info.from_uri = "sip:alice@example.com";
    const std::string offer =
        "v=0\r\no=alice 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
        "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    const auto decision = conference_->on_incoming_call(info, *invite, offer);
    ASSERT_EQ(decision.status, 200) << decision.reason;
  }

  chorus::test::TempDir temp_;  // declared before the store: removed after it is closed
  std::filesystem::path dir_ = temp_.path();
  std::chrono::system_clock::time_point now_ = utc(2026, 3, 10, 12);
  std::unique_ptr<conference::SqliteStore> store_ = open_store(dir_);
  conference::RoomDirectory rooms_;
  conference::MeetingCalendar calendar_;
  conference::EventLog events_;
  MetricsRegistry metrics_;
  std::unique_ptr<media::UdpPortPool> ports_;
  std::unique_ptr<conference::ConferenceService> conference_;
  std::unique_ptr<ApiServices> services_;
  StoreKeys keys_{*store_};
  Authenticator authenticator_{kAdminToken, keys_};
  RateLimiter limiter_{RateLimitConfig{.requests_per_second = 0}};
  Router router_{authenticator_, limiter_};
};

}  // namespace chorus::rest::api_test
