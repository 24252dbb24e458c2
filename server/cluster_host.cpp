#include "server/cluster_host.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "conference/cluster/cluster_tables.hpp"
#include "conference/cluster/notify_codec.hpp"
#include "conference/store/postgres_connection.hpp"
#include "server/cluster_views.hpp"
#include "server/config.hpp"
#include "server/domain_store.hpp"

namespace chorus::server {
namespace {

namespace cluster = conference::cluster;

constexpr auto kTick = std::chrono::seconds(1);
constexpr unsigned kWebhookReloadTicks = 10;  // webhooks written through other nodes: re-read every 10 s

// The control loop waits for these statements (a claim decides a call): short bounds.
conference::pg::PgSettings control_settings(const std::string& store) {
  return {.conninfo = store, .connect_timeout = std::chrono::seconds(2), .statement_timeout = std::chrono::seconds(2)};
}

}  // namespace

std::optional<ClusterSettings> cluster_settings(const Config& config) {
  if (store_backend(config.store) != StoreBackend::kPostgres) return std::nullopt;
  return ClusterSettings{.store = config.store,
                         .node_id = config.node_id,
                         .sip_address = config.node_sip_address,
                         .http_url = config.node_http_url,
                         .lease = config.placement_lease_s};
}

ClusterHost::ClusterHost(ClusterSettings settings, Domain domain)
    : settings_(std::move(settings)),
      domain_(domain),
      gate_(domain_.conference, *this,
            cluster::CallGate::Domain{.room_of_dial = [this](std::string_view dialled) -> std::optional<std::string> {
                                        const auto* room = domain_.rooms.find_by_dial_string(dialled);
                                        if (room == nullptr) return std::nullopt;
                                        return room->id;
                                      },
                                      .live = [this](std::string_view room) { return live(room); },
                                      .room_of_call = [this](sip::CallHandle call) -> std::optional<std::string> {
                                        const auto* participant = domain_.conference.participant(call);
                                        if (participant == nullptr) return std::nullopt;
                                        return participant->room_id;
                                      }},
            cluster::CallGate::Settings{}) {
  published_ = {
      {"chorus_cluster_rooms_claimed_total", "Rooms whose conference started here after this node claimed them",
       "cluster_rooms_claimed", &claimed_},
      {"chorus_cluster_calls_redirected_total", "INVITEs answered 302: another node runs the room's conference",
       "cluster_calls_redirected", &redirected_},
      {"chorus_cluster_claims_unavailable_total", "INVITEs answered 503: the placement could not be claimed",
       "cluster_claims_unavailable", &unavailable_},
      {"chorus_cluster_calls_refused_draining_total", "INVITEs answered 503 while draining (a room not live here)",
       "cluster_calls_refused_draining", &refused_draining_},
      {"chorus_cluster_placements_lost_total", "Live rooms whose lease another node took (it could not be renewed)",
       "cluster_placements_lost", &lost_},
      {"chorus_cluster_notifications_sent_total", "NOTIFYs sent (events and store changes)", "cluster_notify_sent",
       &sent_},
      {"chorus_cluster_notifications_received_total", "Notifications from other nodes handled",
       "cluster_notify_received", &received_},
      {"chorus_cluster_notifications_outgoing_dropped_total",
       "Notifications not sent: the outgoing queue was full (the database was away too long)",
       "cluster_notify_dropped_out", &dropped_outgoing_},
      {"chorus_cluster_notifications_incoming_dropped_total",
       "Other nodes' notifications dropped: too many waited for the control loop (a resync follows)",
       "cluster_notify_dropped_in", &dropped_incoming_},
      {"chorus_cluster_events_truncated_total", "Events sent without their data: too big for a notification",
       "cluster_events_truncated", &truncated_},
      {"chorus_cluster_events_relayed_total", "Other nodes' events added to this node's event log",
       "cluster_events_relayed", &relayed_},
      {"chorus_cluster_heartbeat_failures_total", "Heartbeats (chorus_nodes row, lease renewal) that failed",
       "cluster_heartbeat_failures", &heartbeat_failures_},
      {"chorus_cluster_resyncs_total", "Full re-reads of rooms and meetings after notifications may have been missed",
       "cluster_resyncs", &resyncs_},
  };
}

ClusterHost::~ClusterHost() {
  stop();
}

std::expected<void, std::string> ClusterHost::open() {
  auto db = conference::pg::PgConnection::open(control_settings(settings_.store));
  if (!db) return std::unexpected("cluster: " + db.error().message);
  if (auto tables = cluster::ensure_cluster_tables(**db); !tables)
    return std::unexpected("cluster: creating chorus_nodes/chorus_placements: " + tables.error().message);
  placements_ = std::make_unique<cluster::Placements>(std::move(*db), settings_.node_id, settings_.lease);
  auto stale = placements_->release_stale();
  if (!stale) return std::unexpected("cluster: " + stale.error().message);
  if (*stale > 0)
    CHORUS_LOG(kInfo, "cluster", "placements of an earlier run removed", {"node", settings_.node_id},
               {"rooms", *stale});
  return {};
}

std::unique_ptr<conference::Store> ClusterHost::wrap_store(std::unique_ptr<conference::Store> inner) {
  auto wrapped =
      std::make_unique<cluster::NotifyingStore>(std::move(inner), [this](const cluster::StoreChange& change) {
        if (link_) link_->notify(std::string(cluster::kStoreChannel), cluster::encode_store_change(change));
      });
  store_ = wrapped.get();
  return wrapped;
}

std::expected<void, std::string> ClusterHost::start(Runtime runtime) {
  runtime_ = std::move(runtime);
  sip_address_ = settings_.sip_address.empty() ? runtime_.sip_address : settings_.sip_address;
  http_url_ = settings_.http_url.empty() ? runtime_.http_url : settings_.http_url;
  if (!placements_) return std::unexpected("cluster: not open");
  // The first row before any call is taken, so another node redirecting to us finds our address.
  {
    auto db = conference::pg::PgConnection::open(control_settings(settings_.store));
    if (!db) return std::unexpected("cluster: " + db.error().message);
    const cluster::NodeRow row{settings_.node_id, sip_address_, http_url_, draining_, 0};
    if (auto written = cluster::write_heartbeat(**db, row); !written)
      return std::unexpected("cluster: chorus_nodes: " + written.error().message);
  }
  cluster::LinkSettings link;
  link.database.conninfo = settings_.store;
  link.database.connect_timeout = std::chrono::seconds(2);
  link.database.statement_timeout = std::chrono::seconds(5);
  link.node_id = settings_.node_id;
  link.channels = {std::string(cluster::kEventsChannel), std::string(cluster::kStoreChannel)};
  link.lease = settings_.lease;
  link_ = std::make_unique<cluster::ClusterLink>(
      std::move(link),
      cluster::ClusterLink::Handlers{
          .post = [this](std::function<void()> work) { boost::asio::post(domain_.control, std::move(work)); },
          .on_notification = [this](const cluster::PgNotification& n) { on_notification(n); },
          .on_not_renewed =
              [this](std::vector<std::string> rooms) {
                placements_->reclaim(rooms, [this](std::string_view room) { return live(room); });
              },
          .on_resync = [this] { resync(); }});
  bridge_ = std::make_unique<cluster::EventBridge>(domain_.events, settings_.node_id, [this](std::string payload) {
    return link_->notify(std::string(cluster::kEventsChannel), std::move(payload));
  });
  push_state(/*urgent=*/true);
  link_->start();
  timer_.emplace(domain_.control);
  tick();
  CHORUS_LOG(kInfo, "cluster", "node joined the cluster", {"node", settings_.node_id}, {"sip_address", sip_address_},
             {"http_url", http_url_}, {"lease_s", settings_.lease.count()},
             {"store", describe_store({}, settings_.store)});
  return {};
}

void ClusterHost::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (timer_) timer_->cancel();
  bridge_.reset();  // no more events out
  if (placements_) placements_->release_all();
  if (link_) link_->stop();
}

bool ClusterHost::live(std::string_view room_id) const {
  return domain_.conference.participants_in(room_id) > 0;
}

cluster::ClaimResult ClusterHost::claim(std::string_view room_id) {
  if (!placements_) return {cluster::ClaimStatus::kUnavailable, {}, "the cluster's database is not open yet"};
  return placements_->claim(room_id);
}

void ClusterHost::release(std::string_view room_id) {
  if (placements_) placements_->release(room_id);
}

void ClusterHost::set_draining(bool draining) {
  if (draining_ == draining) return;
  draining_ = draining;
  if (runtime_.set_options_unavailable) runtime_.set_options_unavailable(draining);
  CHORUS_LOG(kInfo, "cluster", draining ? "draining: no new conferences here, live ones go on" : "drain ended",
             {"node", settings_.node_id}, {"live_conferences", domain_.conference.active_rooms().size()});
  if (link_) push_state(/*urgent=*/true);
}

nlohmann::json ClusterHost::status() const {
  return {{"node_id", settings_.node_id},
          {"draining", draining_},
          {"live_conferences", domain_.conference.active_rooms().size()},
          {"clustered", true}};
}

std::optional<std::string> ClusterHost::conference_node_url(std::string_view room_id) {
  if (!placements_ || live(room_id)) return std::nullopt;
  auto holder = placements_->elsewhere(room_id);
  if (!holder || holder->http_url.empty()) return std::nullopt;
  return holder->http_url;
}

void ClusterHost::on_notification(const cluster::PgNotification& notification) {
  if (notification.channel == cluster::kEventsChannel) {
    if (bridge_) bridge_->on_payload(notification.payload);
    return;
  }
  if (notification.channel != cluster::kStoreChannel || store_ == nullptr) return;
  const auto change = cluster::decode_store_change(notification.payload);
  if (!change) {
    CHORUS_LOG(kDebug, "cluster", "store notification not understood",
               {"payload", notification.payload.substr(0, 200)});
    return;
  }
  if (apply_store_change(*store_, domain_.rooms, domain_.calendar, *change) == ViewUpdate::kNeedsReload) resync();
}

void ClusterHost::resync() {
  if (store_ == nullptr) return;
  bump(resyncs_);
  if (auto reloaded = reload_views(*store_, domain_.rooms, domain_.calendar); !reloaded)
    CHORUS_LOG(kWarn, "cluster", "rooms and meetings not re-read", {"error", reloaded.error()});
  if (runtime_.reload_webhooks) runtime_.reload_webhooks();
}

void ClusterHost::push_state(bool urgent) {
  const std::size_t calls = runtime_.calls ? runtime_.calls() : 0;
  link_->set_state({.node = {settings_.node_id, sip_address_, http_url_, draining_, static_cast<std::int64_t>(calls)},
                    .live_rooms = domain_.conference.active_rooms()},
                   urgent);
}

void ClusterHost::tick() {
  push_state(/*urgent=*/false);
  placements_->tick([this](std::string_view room) { return live(room); });
  if (++ticks_ % kWebhookReloadTicks == 0 && runtime_.reload_webhooks) runtime_.reload_webhooks();
  update_counters();
  timer_->expires_after(kTick);
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) tick();
  });
}

void ClusterHost::update_counters() {
  const auto set = [](std::atomic<std::uint64_t>& counter, std::uint64_t value) {
    counter.store(value, std::memory_order_relaxed);
  };
  const auto& placed = placements_->counters();
  set(claimed_, placed.claimed);
  set(redirected_, placed.redirected);
  set(unavailable_, placed.unavailable);
  set(lost_, placed.lost);
  set(refused_draining_, gate_.refused_draining());
  const auto link = link_->counters();
  set(sent_, link.sent);
  set(received_, link.received);
  set(dropped_outgoing_, link.dropped_outgoing);
  set(dropped_incoming_, link.dropped_incoming);
  set(heartbeat_failures_, link.heartbeat_failures);
  if (bridge_) {
    set(truncated_, bridge_->counters().truncated);
    set(relayed_, bridge_->counters().relayed);
  }
}

}  // namespace chorus::server
