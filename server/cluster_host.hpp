// ClusterHost: one chorusd's part in a cluster of nodes sharing one PostgreSQL store (issue 14,
// DESIGN §7), made by ChorusServer exactly when the `store` setting is a PostgreSQL URI; with
// SQLite there is none and nothing below runs. It wires conference/cluster/ into this process:
//
//   SIP       the UA's CallListener is the CallGate in front of the ConferenceService: a room's
//             conference starts here only after this node claimed the room's placement; a room
//             another node holds gets 302 to that node, a failed claim 503 (call_gate.hpp).
//   leases    a control-loop tick (1 s) hands the link this node's row (SIP address, REST URL,
//             draining, calls) and live rooms; the link's heartbeat (2 s) writes the row and renews
//             the leases; a lease it could not renew is claimed again here, or reported lost.
//   events    every event of this node goes out on chorus_events, other nodes' come into the local
//             event log marked with their node (event_bridge.hpp), so SSE on any node sees all.
//   store     the store is wrapped so each room/meeting write is notified on chorus_store; another
//             node's write is read back into the views the SIP path reads (cluster_views.hpp), and
//             everything is read again after a lost LISTEN session or dropped notifications
//             (webhooks too: their list is re-read then and every 10 s, as no notification names them).
//   REST      status() for GET /v1/system; set_draining() for POST/DELETE /v1/system/drain (the UA
//             answers OPTIONS 503, chorus_nodes.draining, no new rooms); conference_node_url() for
//             the 307 of a conference another node runs.
//
// Threading: control loop, except the link's thread (cluster_link.hpp), which posts back to it.
// Stop (stop(), or the destructor) before the domain it was given goes.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <expected>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/published_counter.hpp"
#include "conference/cluster/call_gate.hpp"
#include "conference/cluster/cluster_link.hpp"
#include "conference/cluster/event_bridge.hpp"
#include "conference/cluster/notifying_store.hpp"
#include "conference/cluster/placements.hpp"
#include "conference/conference_service.hpp"
#include "conference/events/event_log.hpp"
#include "conference/room.hpp"
#include "conference/schedule/meeting_calendar.hpp"

namespace chorus::server {

struct Config;

struct ClusterSettings {
  std::string store;  // the PostgreSQL URI (secret: never logged as is)
  std::string node_id;
  std::string sip_address;  // host:port; empty: the SIP listener's, given to start()
  std::string http_url;     // http://host:port; empty: the HTTP listener's, given to start()
  std::chrono::seconds lease{10};
};

// The settings when `config` makes this node part of a cluster (its store is PostgreSQL).
std::optional<ClusterSettings> cluster_settings(const Config& config);

class ClusterHost final : private conference::cluster::CallPlacement {
 public:
  struct Domain {
    boost::asio::io_context& control;
    conference::RoomDirectory& rooms;
    conference::MeetingCalendar& calendar;
    conference::EventLog& events;
    conference::ConferenceService& conference;
  };
  // What start() learns once the listeners are bound.
  struct Runtime {
    std::string sip_address;                            // the SIP listener's host:port (used when the setting is empty)
    std::string http_url;                               // the HTTP listener's URL (used when the setting is empty)
    std::function<std::size_t()> calls;                 // the UA's calls, for chorus_nodes.calls
    std::function<void(bool)> set_options_unavailable;  // the UA's OPTIONS answer while draining
    std::function<void()> reload_webhooks;              // the REST host's webhook list
  };

  // No I/O: the gate is ready at once and refuses calls (503) until open() succeeded.
  ClusterHost(ClusterSettings settings, Domain domain);
  ~ClusterHost() override;
  ClusterHost(const ClusterHost&) = delete;
  ClusterHost& operator=(const ClusterHost&) = delete;

  // The UA's listener.
  [[nodiscard]] sip::CallListener& call_listener() { return gate_; }
  // Connects, creates chorus_nodes/chorus_placements when missing, and removes the placements a
  // previous run of this node left (it holds none yet). The error names what failed.
  std::expected<void, std::string> open();
  // `inner` wrapped so that its room and meeting writes are notified to the other nodes.
  std::unique_ptr<conference::Store> wrap_store(std::unique_ptr<conference::Store> inner);
  // Writes this node's row, starts the link, the event bridge and the tick.
  std::expected<void, std::string> start(Runtime runtime);
  // Releases the rooms still held and stops the link; idempotent.
  void stop();

  void set_draining(bool draining);
  [[nodiscard]] bool draining() const override { return draining_; }
  // {"node_id", "draining", "live_conferences", "clustered": true}
  [[nodiscard]] nlohmann::json status() const;
  // The REST URL of the node running the room's conference when that is another node.
  std::optional<std::string> conference_node_url(std::string_view room_id);
  [[nodiscard]] const std::string& node_id() const { return settings_.node_id; }
  [[nodiscard]] const std::string& sip_address() const { return sip_address_; }
  [[nodiscard]] const std::string& http_url() const { return http_url_; }
  // Counters for /metrics and the status line (updated by the tick).
  [[nodiscard]] const std::vector<PublishedCounter>& published() const { return published_; }

 private:
  // CallPlacement (the gate's): the placements once open, else the database is not there yet.
  conference::cluster::ClaimResult claim(std::string_view room_id) override;
  void release(std::string_view room_id) override;

  void on_notification(const conference::cluster::PgNotification& notification);
  void resync();
  void tick();
  void push_state(bool urgent);
  [[nodiscard]] bool live(std::string_view room_id) const;
  void update_counters();

  ClusterSettings settings_;
  Domain domain_;
  conference::cluster::CallGate gate_;
  std::unique_ptr<conference::cluster::Placements> placements_;
  conference::Store* store_ = nullptr;  // the wrapped store (ChorusServer owns it)
  std::unique_ptr<conference::cluster::ClusterLink> link_;
  std::unique_ptr<conference::cluster::EventBridge> bridge_;
  Runtime runtime_;
  std::string sip_address_;
  std::string http_url_;
  bool draining_ = false;
  bool stopped_ = false;
  unsigned ticks_ = 0;
  std::optional<boost::asio::steady_timer> timer_;

  // Published counters (published_ points into these).
  std::atomic<std::uint64_t> claimed_{0}, redirected_{0}, unavailable_{0}, refused_draining_{0}, lost_{0}, sent_{0},
      received_{0}, dropped_outgoing_{0}, dropped_incoming_{0}, truncated_{0}, relayed_{0}, heartbeat_failures_{0},
      resyncs_{0};
  std::vector<PublishedCounter> published_;
};

}  // namespace chorus::server
