// Shared by the system, API-key, webhook and event route tests: a real SqliteStore in a temporary
// directory, the ApiServices a server would wire, and a Router whose Authenticator finds API keys
// in that store (StoreApiKeyLookup). The test thread plays the control loop: it calls
// router_.handle() directly and owns the store.
#pragma once

#include <gtest/gtest.h>

#include <boost/beast/http.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "conference/conference_service.hpp"
#include "conference/events/event_log.hpp"
#include "conference/store/sqlite_store.hpp"
#include "rest-api/api/api_key_routes.hpp"
#include "rest-api/api/api_services.hpp"
#include "rest-api/auth.hpp"
#include "rest-api/metrics.hpp"
#include "rest-api/problem.hpp"
#include "rest-api/rate_limiter.hpp"
#include "rest-api/router.hpp"
#include "tests/unit/conference/store/store_test_support.hpp"

namespace chorus::rest::test {

namespace http = boost::beast::http;

inline constexpr std::string_view kAdminToken = "admin-token-for-tests";

inline std::unique_ptr<conference::SqliteStore> open_test_store(const std::filesystem::path& dir) {
  if (dir.empty()) throw std::runtime_error("mkdtemp failed");
  auto opened = conference::SqliteStore::open((dir / "chorus.db").string());
  if (!opened) throw std::runtime_error("store: " + opened.error());
  return std::move(*opened);
}

inline nlohmann::json body_of(const HttpResponse& response) {
  return nlohmann::json::parse(response.message.body(), nullptr, false);
}

inline std::string header_of(const HttpResponse& response, http::field field) {
  return std::string(std_view(response.message[field]));
}

// The `field`s of a problem's errors[].
inline std::vector<std::string> error_fields(const HttpResponse& response) {
  std::vector<std::string> fields;
  const auto body = body_of(response);
  if (body.contains("errors")) {
    for (const auto& error : body["errors"]) fields.push_back(error.value("field", ""));
  }
  return fields;
}

class AdminApiTest : public ::testing::Test {
 protected:
  struct Header {
    std::string name;
    std::string value;
  };

  static HttpRequest make_request(http::verb method, std::string target, std::string_view token = kAdminToken,
                                  const nlohmann::json& body = nullptr, std::vector<Header> headers = {}) {
    HttpRequest request;
    request.message.method(method);
    request.message.target(target);
    request.message.version(11);
    if (!token.empty()) request.message.set(http::field::authorization, "Bearer " + std::string(token));
    if (!body.is_null()) {
      request.message.set(http::field::content_type, "application/json");
      request.message.body() = body.dump();
    }
    for (const auto& header : headers) request.message.set(header.name, header.value);
    request.message.prepare_payload();
    return request;
  }

  HttpResponse call(http::verb method, std::string target, std::string_view token = kAdminToken,
                    const nlohmann::json& body = nullptr, std::vector<Header> headers = {}) {
    return router_.handle(make_request(method, std::move(target), token, body, std::move(headers)));
  }

  conference::test::TempDir dir_;
  std::unique_ptr<conference::SqliteStore> store_ = open_test_store(dir_.path());
  conference::RoomDirectory rooms_;
  conference::MeetingCalendar calendar_;
  media::UdpPortPool ports_{"127.0.0.1", 40000, 40003};  // nothing is leased: no socket is bound
  sdp::MediaPolicy policy_;
  conference::ConferenceService conference_{rooms_, ports_, policy_};
  conference::EventLog events_;
  MetricsRegistry metrics_;
  bool ready_ = true;
  int drains_ = 0;
  ApiServices services_{.store = *store_,
                        .rooms = rooms_,
                        .calendar = calendar_,
                        .conference = conference_,
                        .events = events_,
                        .metrics = metrics_,
                        .sip_host = "127.0.0.1",
                        .ready = [this] { return ready_; },
                        .drain =
                            [this] {
                              ++drains_;
                              ready_ = false;
                            },
                        .hang_up = [](sip::CallHandle, std::string_view) { return false; }};
  StoreApiKeyLookup keys_{*store_};
  Authenticator authenticator_{kAdminToken, keys_};
  RateLimiter limiter_{RateLimitConfig{.requests_per_second = 0, .burst = 0}};
  Router router_{authenticator_, limiter_};
};

}  // namespace chorus::rest::test
