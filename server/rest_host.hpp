// RestHost: everything behind the REST API in one chorusd — webhooks, the metrics, auth, the /v1
// router, and the Beast server on --http-port (DESIGN §2, §3 "REST") — over the domain the server
// owns and lends it (RestDomain: the store, the rooms and calendar the SIP path reads, the event log,
// the conference).
//
// Threading: constructed and started on the control loop's thread. The HTTP server runs its own
// thread; each request's handler is co_spawned onto the control loop, where the router, the store
// and the domain live, except what Router::handle_local answers on the HTTP thread itself (issue 13:
// GET /v1/rooms from its snapshot, for the admin token or a cached API key; single node only). Shutdown: stop() (the
// HTTP server stops taking requests and joins), then the control loop runs what is still queued, then RestHost is
// destroyed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "common/asio_timer_queue.hpp"
#include "conference/conference_service.hpp"
#include "conference/events/event_log.hpp"
#include "conference/room.hpp"

#include "conference/events/retention.hpp"
#include "conference/schedule/meeting_calendar.hpp"
#include "conference/store/store.hpp"
#include "rest-api/api/api_services.hpp"
#include "rest-api/api/room_list_snapshot.hpp"
#include "rest-api/api_key_cache.hpp"
#include "rest-api/auth.hpp"
#include "rest-api/http_server.hpp"
#include "rest-api/metrics.hpp"
#include "rest-api/rate_limiter.hpp"
#include "rest-api/router.hpp"
#include "rest-api/webhooks/webhook_dispatcher.hpp"
#include "rest-api/write_group.hpp"

namespace chorus::server {

struct RestHostConfig {
  std::filesystem::path data_dir;
  std::string bind_address;
  std::uint16_t http_port = 8080;
  std::string admin_token;  // empty: generated into data_dir/admin-token
  std::string sip_host;     // host[:port] for room SIP URIs
  std::filesystem::path web_root;
  // The page (rest-api/api/web_routes.hpp): the public address makes meetings' join_url
  // (http://<public_host>:<http port>/?room=…) and is the WebSocket host for a request without a
  // usable Host; the ports are where the page's SIP over WebSocket connects (empty: not served).
  std::string public_host;
  std::optional<std::uint16_t> ws_port;
  std::optional<std::uint16_t> wss_port;
  std::size_t min_pin_digits = 6;  // the shortest PIN a room may be given over REST
  // Issue 12: where webhooks may go, how many deliveries may wait, what is kept of them.
  conference::WebhookTargetPolicy webhook_policy;
  std::size_t webhook_queue_max = 10'000;
  conference::RetentionLimits retention;

  // Issue 12, REST API exhaustion: connection caps and read deadlines, event streams, rates.
  rest::HttpServerConfig http_limits;  // its limit fields only (address, port and metrics are set here)
  rest::EventStreamLimits event_streams;
  rest::RateLimitConfig rate_limit;
  // Issue 14: other nodes write the same store. Then nothing read from it is kept in memory here
  // (API keys by hash, the room list): their changes would not reach this node's copies in time.
  bool shared_store = false;
};

// What the server owns and the REST layer works on (server/domain_store.hpp opened and loaded it).
struct RestDomain {
  conference::Store& store;
  conference::RoomDirectory& rooms;
  conference::MeetingCalendar& calendar;
  conference::EventLog& events;
  conference::ConferenceService& conference;
  conference::RecordingService* recordings = nullptr;  // null: the recording routes answer 503
  conference::TrunkDirectory* trunks = nullptr;        // issue 15; null: /v1/trunks writes the store only
};

struct RestHostHooks {
  std::function<bool()> ready;
  std::function<void()> drain;
  std::function<bool(sip::CallHandle, std::string_view)> hang_up;
  // GET /v1/system, and issue 14's clustered node (ApiServices has the rules; unset on a single node).
  std::function<nlohmann::json()> system_status;
  std::function<void(bool)> cluster_drain;
  std::function<std::optional<std::string>(std::string_view)> conference_node_url;
  std::string node_id;  // clustered only: conferences are listed with it
};

class RestHost {
 public:
  // Loads (or generates) the admin token and builds the router over `domain`. The error says what
  // failed.
  static std::expected<std::unique_ptr<RestHost>, std::string> open(RestHostConfig config,
                                                                    boost::asio::io_context& control, RestDomain domain,
                                                                    RestHostHooks hooks);
  ~RestHost();
  RestHost(const RestHost&) = delete;
  RestHost& operator=(const RestHost&) = delete;

  std::expected<void, std::string> start();  // binds --http-port
  void stop();                               // idempotent

  [[nodiscard]] std::uint16_t port() const { return http_ ? http_->port() : 0; }
  [[nodiscard]] rest::MetricsRegistry& metrics() { return metrics_; }
  [[nodiscard]] const rest::AdminToken& admin_token() const { return admin_token_; }
  // Re-reads the webhooks from the store (issue 14: another node may have added or deleted one).
  void reload_webhooks();

 private:
  class ControlHandler;
  class WebhookFanoutHolder;
  RestHost(RestHostConfig config, boost::asio::io_context& control, RestDomain domain, RestHostHooks hooks);
  std::expected<void, std::string> load();
  void add_routes();
  void register_egress_metrics();
  void prune_every_minute();

  RestHostConfig config_;
  boost::asio::io_context& control_;
  RestDomain domain_;
  RestHostHooks hooks_;
  rest::MetricsRegistry metrics_;
  std::unique_ptr<rest::HttpMetrics> http_metrics_;
  rest::AdminToken admin_token_;
  std::unique_ptr<rest::ApiKeyLookup> key_lookup_;
  // Issue 13, single node only (null with a shared store): keys by hash, and the GET /v1/rooms
  // snapshot, which listens to domain_.rooms.
  std::unique_ptr<rest::ApiKeyCache> key_cache_;
  std::unique_ptr<rest::ApiKeyLookup> cached_lookup_;
  std::unique_ptr<rest::RoomListSnapshot> room_list_;
  std::unique_ptr<rest::Authenticator> authenticator_;
  AsioTimerQueue timers_{control_};  // before router_: the event routes' registry schedules on it
  rest::RateLimiter limiter_;
  std::unique_ptr<rest::Router> router_;
  std::unique_ptr<rest::ApiServices> services_;
  std::unique_ptr<rest::DeliveryRecorder> recorder_;
  std::unique_ptr<rest::WebhookDispatcher> dispatcher_;
  std::unique_ptr<WebhookFanoutHolder> fanout_;
  std::unique_ptr<conference::RetentionPruner> pruner_;
  std::optional<boost::asio::steady_timer> retention_timer_;  // on the control loop
  std::unique_ptr<rest::WriteGroupQueue> write_groups_;
  std::unique_ptr<ControlHandler> handler_;
  std::unique_ptr<rest::HttpServer> http_;  // last: destroyed first
};

}  // namespace chorus::server
