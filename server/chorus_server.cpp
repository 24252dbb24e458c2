#include "server/chorus_server.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>

#include "common/log.hpp"
#include "common/log_counters.hpp"
#include "rest-api/api/web_client_config.hpp"
#include "server/domain_store.hpp"
#include "server/process_hardening.hpp"

namespace chorus::server {
namespace {

sip::TransportConfig transport_config(const Config& c, DscpFailures* dscp_failures) {
  sip::TransportConfig t;
  t.marking = SocketMarking{c.dscp_sip, dscp_failures};  // issue 15: CS3 by default
  t.bind_address = c.bind;
  t.public_address = c.public_ip;
  t.udp_port = c.sip_port;
  t.udp_receive_buffer = c.sip_udp_rcvbuf;
  t.tcp_port = c.sip_port;
  t.tls_port = c.sips_port;
  t.tls_cert_file = c.tls_cert;
  t.tls_key_file = c.tls_key;
  t.max_connections_per_ip = c.max_connections_per_ip;
  t.idle_timeout = std::chrono::duration_cast<Millis>(c.tcp_idle_timeout);
  // Issue 12: pike-like messages per source IP, checked before anything is parsed.
  t.source_limits.rate = c.sip_requests_per_second_per_source;
  t.source_limits.burst = c.sip_burst_per_source;
  t.source_limits.block_time = c.sip_block_seconds;
  t.source_limits.trusted = c.sip_trusted_sources;
  // RFC 7118: browsers (the page at http_port) join over WebSocket; WSS listens only with a certificate.
  t.ws_port = c.ws_port;
  t.wss_port = c.wss_port;
  t.ws_allowed_origins = c.ws_allowed_origins;
  if (t.ws_allowed_origins.empty()) {
    // The server's own page, reached at the address the transport will announce or over loopback.
    // With http_port 0 the page's port is not known yet: only Origin-less UAs get in then.
    boost::system::error_code ec;
    const auto bind = boost::asio::ip::make_address(c.bind, ec);  // a literal: the config checked it
    const std::string host = !c.public_ip.empty() ? c.public_ip : ec ? c.bind : sip::guess_public_address(bind);
    if (c.http_port != 0) t.ws_allowed_origins = sip::own_http_origins(host, c.http_port);
  }
  return t;
}

sdp::MediaPolicy media_policy(const Config& c) {
  sdp::MediaPolicy policy;
  policy.audio_codecs.clear();
  for (const auto& codec : c.audio_codecs)
    policy.audio_codecs.push_back(sdp::Codec{codec.name, static_cast<int>(codec.clock_rate), codec.channels});
  return policy;
}

// Issue 12: the SDP address policy, latch window and media timeouts (validated when loaded).
conference::MediaGuardSettings media_guard(const Config& c) {
  conference::MediaGuardSettings guard;
  for (const auto& text : c.media_deny_ranges)
    if (auto range = conference::parse_ip_range(text)) guard.deny_ranges.push_back(*range);
  guard.latch_window = c.media_latch_window;
  guard.media_timeout = c.media_timeout;
  guard.hold_timeout = c.media_hold_timeout;
  return guard;
}

}  // namespace

ChorusServer::ChorusServer(Config config)
    : config_(std::move(config)),
      ports_(config_.bind, config_.rtp_ports.first, config_.rtp_ports.last, config_.media_rcvbuf,
             SocketMarking{config_.dscp_audio, &dscp_failures_},
             warm_port_pairs(config_.max_calls, config_.fds_per_call)) {
  transport_ = std::make_unique<sip::TransportLayer>(io_, transport_config(config_, &dscp_failures_), relay_);
  relay_.metrics = &sip_metrics_;
  sender_ = std::make_unique<CountingSender>(*transport_, sip_metrics_);
  make_dtls_identity();
  workers_ = std::make_unique<media::MediaWorkerPool>(config_.workers, dtls_context_ ? &*dtls_context_ : nullptr);
  workers_->set_marking(media::MediaMarking{config_.dscp_audio, config_.dscp_video, &dscp_failures_});
  for (const auto& published : dscp_failures_.published()) engine_counters_.push_back(published);
  engine_counters_.push_back(deferred_log_lines_dropped_counter());
  apply_media_realtime_priority();
  // Each worker's reactor state for as many sockets as its calls can use (media_worker.hpp).
  const std::size_t rtp_ports = config_.rtp_ports.last - config_.rtp_ports.first + 1U;
  workers_->reserve_socket_states(std::min<std::size_t>(rtp_ports, 4U * config_.max_calls));
  conference::SecurityOptions security;
  if (dtls_context_) security.dtls_fingerprint = dtls_context_->local_fingerprint();
  conference_ = std::make_unique<conference::ConferenceService>(rooms_, ports_, media_policy(config_), workers_.get(),
                                                                std::move(security));
  conference_->set_media_guard(media_guard(config_));
  // A worker finds a silent session on its own thread; the hang-up happens on the control loop.
  workers_->set_media_timeout_handler([this](std::uint64_t session_id) {
    boost::asio::post(io_, [this, session_id] { conference_->on_media_timeout(session_id); });
  });
  sip::UserAgentConfig ua;
  ua.max_calls = config_.max_calls;
  ua.max_calls_per_source = config_.max_calls_per_source;
  ua.trusted_sources = config_.sip_trusted_sources;
  ua.session_timer.session_expires = static_cast<std::uint32_t>(config_.session_expires.count());
  ua.session_timer.min_se = static_cast<std::uint32_t>(config_.min_se.count());
  // Issue 14: with a PostgreSQL store, calls reach the conference through the cluster's call gate.
  if (auto clustered = cluster_settings(config_))
    cluster_ = std::make_unique<ClusterHost>(std::move(*clustered),
                                             ClusterHost::Domain{io_, rooms_, calendar_, events_, *conference_});
  sip::CallListener& calls = cluster_ ? cluster_->call_listener() : static_cast<sip::CallListener&>(*conference_);
  user_agent_ = std::make_unique<sip::UserAgent>(timers_, *sender_, calls, ua);
  // Dial-out (POST /v1/conferences/{id}/participants): the conference asks the UA to INVITE, to
  // targets the egress policy allows; names resolve off the control loop (issue 12).
  conference_->set_dialer([this](const sip::OutgoingCallRequest& request) { return user_agent_->dial(request); });
  // load_config checked every entry: parse again, without a way to fail.
  conference_->set_dial_out_policy(conference::DialOutPolicy(
      conference::parse_dial_out_allow(config_.dial_out_allow).value_or(conference::DialOutAllowList{})));
  resolver_ = std::make_unique<sip::AsioHostResolver>(
      io_, sip::AsioHostResolverConfig{.timeout = config_.dial_out_dns_timeout, .max_pending = 16});
  user_agent_->set_resolver(*resolver_);
  // Issue 15: dial-out targets and trunks are located by RFC 3263 (NAPTR → SRV → A/AAAA, ordered
  // hops for failover); the resolver above stays for what needs only an address.
  try {
    locator_ = std::make_unique<sip::DnsSipLocator>(
        io_, sip::DnsSipLocatorConfig{.timeout = config_.dial_out_dns_timeout, .servers = config_.sip_dns_servers});
    user_agent_->set_locator(*locator_);
    for (const auto& published : locator_->counters().published()) engine_counters_.push_back(published);
  } catch (const std::exception& error) {
    CHORUS_LOG(kWarn, "sip", "no RFC 3263 locator: dial-out resolves A/AAAA only", {"error", error.what()});
  }
  transactions_ = std::make_unique<sip::TransactionLayer>(
      timers_, *sender_, *user_agent_, sip::TimerConfig{config_.sip_t1, config_.sip_t2, config_.sip_t4},
      sip::ServerLimits{.max_server_transactions = effective_max_server_transactions(config_)});
  // Issue 12: a response counts only when it comes from where its request went.
  transactions_->set_response_source_check(config_.sip_response_source_check);
  relay_.target = transactions_.get();
  user_agent_->attach(*transactions_);
  // The roster (issue 15, RFC 4575 over RFC 6665): SUBSCRIBE to a room's URI or in a call's dialog;
  // participants of the room and trusted sources only (conference/roster/README.md).
  roster_ = std::make_unique<conference::RosterService>(rooms_, *conference_);
  sip::SubscriptionConfig subscriptions;
  subscriptions.trusted_sources = config_.sip_trusted_sources;
  subscriptions_ =
      std::make_unique<sip::SubscriptionManager>(*user_agent_, timers_, *roster_, std::move(subscriptions));
  roster_->set_notifier(subscriptions_.get());
  roster_->watch(events_);
  for (const auto& published : subscriptions_->counters().published()) engine_counters_.push_back(published);
  conference_->set_roster_changed([this](std::string_view room_id) { roster_->on_room_changed(room_id); });
}

void ChorusServer::make_dtls_identity() {
  auto certificate = config_.dtls_cert.empty()
                         ? media::dtls::DtlsCertificate::generate()
                         : media::dtls::DtlsCertificate::load_pem(config_.dtls_cert, config_.dtls_key);
  if (!certificate) {
    dtls_error_ = "DTLS certificate: " + certificate.error();
    return;
  }
  auto context = media::dtls::DtlsContext::create(*certificate);
  if (!context) {
    dtls_error_ = "DTLS context: " + context.error();
    return;
  }
  dtls_certificate_.emplace(std::move(*certificate));
  dtls_context_.emplace(std::move(*context));
}

ChorusServer::~ChorusServer() {
  if (transport_) transport_->stop();
}

std::expected<void, std::string> ChorusServer::start() {
  if (!dtls_error_.empty()) return std::unexpected(dtls_error_);
  auto share = locate_share_files(config_.share_dir, running_executable(), build_tree_locations());
  if (!share) return std::unexpected(share.error());
  share_ = std::move(*share);
  CHORUS_LOG(kInfo, "server", "share dir", {"share_dir", share_.share_dir.string()},
             {"found", share_origin_name(share_.origin)}, {"prompts", share_.prompts_dir.string()},
             {"web", share_.web_root.string()});
  if (auto opened = open_domain(); !opened) return opened;
  if (auto started = transport_->start(); !started) return started;
  conference_->set_media_address(transport_->public_address());
  // Chat (issue 15): MESSAGE in rooms (RFC 3428) and /v1/conferences/{id}/messages; CPIM's To names
  // the room by the address callers reach.
  conference_->set_chat(std::make_unique<conference::ChatService>(
      *user_agent_, std::make_unique<conference::ConferenceRoster>(*conference_, rooms_), &events_,
      conference::ChatSettings{.sip_host = transport_->via_sent_by(sip::TransportKind::kUdp)}));
  user_agent_->add_method_handler("MESSAGE", conference::kChatBodyTypes, *conference_->chat());
  for (const auto& published : conference_->chat()->counters().published()) engine_counters_.push_back(published);
  if (auto rest = start_rest(); !rest) return rest;
  if (auto joined = start_cluster(); !joined) return joined;
  start_trunks();
  wait_for_signals();
  roster_->set_host(transport_->via_sent_by(sip::TransportKind::kUdp));  // the room URIs' host
  const std::string dial = "sip:1000@" + transport_->via_sent_by(sip::TransportKind::kUdp);
  CHORUS_LOG(kInfo, "server", "ready", {"sip_udp", transport_->udp_port()}, {"sip_tcp", transport_->tcp_port()},
             {"sips", transport_->tls_port() ? std::to_string(*transport_->tls_port()) : std::string("off")},
             {"rtp_ports", std::to_string(config_.rtp_ports.first) + "-" + std::to_string(config_.rtp_ports.last)},
             {"data_dir", config_.data_dir}, {"dial", dial}, {"media_workers", workers_->size()},
             {"dtls_fingerprint", dtls_context_->local_fingerprint()});
  ready_ = true;
  CHORUS_LOG(kInfo, "server", "room 1000 is open: dial it from any SIP phone", {"uri", dial},
             {"example", "sipp -sn uac " + transport_->via_sent_by(sip::TransportKind::kUdp) + " -s 1000 -m 1"});
  return {};
}

void ChorusServer::start_trunks() {
  // After the transport is bound (our Contact names its address) and the REST host (whose writes
  // now reach the registrations through the directory's listener).
  trunk_registrations_ =
      std::make_unique<TrunkRegistrations>(*user_agent_, timers_, *resolver_, trunks_, &events_, locator_.get());
  trunks_.set_listener([this](std::string_view id, const conference::Trunk* trunk) {
    if (trunk_registrations_ && !draining_) trunk_registrations_->apply(id, trunk);
  });
  for (const conference::Trunk* trunk : trunks_.all()) trunk_registrations_->apply(trunk->id, trunk);
}

std::expected<void, std::string> ChorusServer::start_audio() {
  const std::filesystem::path dir =
      config_.prompts_dir.empty() ? share_.prompts_dir : std::filesystem::path(config_.prompts_dir);
  auto prompts = mixer::PromptLibrary::load(dir, mixer::kStandardPrompts);
  // A PIN room without its prompts would leave callers in silence: refuse to start instead.
  if (!prompts) return std::unexpected("prompts (" + dir.string() + "): " + prompts.error());
  prompts_ = std::move(*prompts);
  CHORUS_LOG(kInfo, "server", "prompts loaded", {"dir", dir.string()}, {"count", prompts_->size()});
  conference::ConferenceService::AudioHooks hooks;
  hooks.post_to_control = [this](std::function<void()> work) { boost::asio::post(io_, std::move(work)); };
  hooks.hang_up = [this](sip::CallHandle call, std::string_view reason) { return user_agent_->hang_up(call, reason); };
  hooks.reject_early = [this](sip::CallHandle call, int status, std::string_view reason,
                              const std::vector<sip::Header>& headers) {
    return user_agent_->reject_after_early_media(call, status, reason, headers);
  };
  hooks.prompts = prompts_ ? &*prompts_ : nullptr;
  hooks.store = store_.get();
  hooks.timers = &timers_;
  conference_->set_audio_hooks(std::move(hooks));
  conference::PinSecuritySettings pins;
  pins.entry_timeout = config_.pin_entry_timeout;
  pins.guard.max_failures = static_cast<int>(config_.pin_max_failures);
  pins.guard.room_max_failures = static_cast<int>(config_.pin_room_max_failures);
  pins.guard.window = config_.pin_failure_window;
  pins.guard.first_lockout = config_.pin_lockout;
  pins.guard.max_lockout = config_.pin_lockout_max;
  conference_->audio().set_pin_security(pins);
  for (const auto& published : conference_->audio().engine().counters().published())
    engine_counters_.push_back(published);
  for (const auto& published : conference_->audio().pin_counters().published()) engine_counters_.push_back(published);
  start_video();
  return {};
}

void ChorusServer::start_video() {
  conference::ConferenceService::VideoHooks hooks;
  hooks.post_to_control = [this](std::function<void()> work) { boost::asio::post(io_, std::move(work)); };
  hooks.send_info = [this](sip::CallHandle call, std::string_view package, std::string_view content_type,
                           std::string body) {
    return user_agent_->send_info(call, package, content_type, std::move(body));
  };
  conference::VideoSettings video;
  video.max_slots = config_.max_video_slots;
  video.max_producers = config_.max_video_producers;
  video.router.max_producer_bps = std::uint64_t{config_.max_producer_kbps} * 1000;
  video.router.default_receive_bps = std::uint64_t{config_.default_receive_kbps} * 1000;
  conference_->set_video(video, std::move(hooks));
  for (const auto& published : conference_->video().counters().published()) engine_counters_.push_back(published);
  for (const auto& published : conference_->video_mcu().counters().published()) engine_counters_.push_back(published);
  // The SIP per-source limits (issue 12): counters on /metrics and in the status line.
  for (const auto& published : transport_->source_limiter().counters().published())
    engine_counters_.push_back(published);
  for (const auto& published : transactions_->limit_counters().published()) engine_counters_.push_back(published);
  for (const auto& published : transactions_->response_source_counters().published())
    engine_counters_.push_back(published);
  for (const auto& published : user_agent_->counters().published()) engine_counters_.push_back(published);
}

std::expected<void, std::string> ChorusServer::open_domain() {
  auto store = open_store(config_.data_dir, config_.store);
  if (!store) return std::unexpected(store.error());
  store_ = std::move(*store);
  if (cluster_) {  // issue 14: the placement tables, and every room/meeting write told to the other nodes
    if (auto opened = cluster_->open(); !opened) return opened;
    store_ = cluster_->wrap_store(std::move(store_));
    for (const auto& published : cluster_->published()) engine_counters_.push_back(published);
  }
  if (auto loaded = load_domain(*store_, rooms_, calendar_); !loaded) return loaded;
  if (auto loaded = load_trunks(*store_, trunks_); !loaded) return loaded;
  conference_->set_trunks(&trunks_);  // issue 15: dial-in through a trunk (conference/trunks/trunk_dial_in.hpp)
  conference_->set_calendar(&calendar_);
  conference_->set_event_log(&events_);
  return {};
}

std::expected<void, std::string> ChorusServer::open_recordings() {
  conference::RecordingSettings settings;
  settings.dir = std::filesystem::path(config_.data_dir) / "recordings";
  settings.quota_bytes = std::uint64_t{config_.recordings_quota_mb} << 20U;
  settings.max_concurrent = config_.recordings_max_concurrent;
  settings.retention = std::chrono::days(config_.recordings_retention_days);
  settings.announce = config_.recording_announce;
  recordings_ = std::make_unique<conference::RecordingService>(
      settings, *conference_, &events_, [this](std::function<void()> work) { boost::asio::post(io_, std::move(work)); },
      &timers_);
  if (auto opened = recordings_->open(); !opened) return std::unexpected("recordings: " + opened.error());
  for (const auto& published : recordings_->counters().published()) engine_counters_.push_back(published);
  return {};
}

std::expected<void, std::string> ChorusServer::start_rest() {
  RestHostConfig rest;
  rest.data_dir = config_.data_dir;
  rest.bind_address = config_.bind;
  rest.http_port = config_.http_port;
  rest.admin_token = config_.admin_token;
  rest.sip_host = transport_->via_sent_by(sip::TransportKind::kUdp);
  rest.web_root = share_.web_root;
  rest.public_host = transport_->public_address();
  // The page joins rooms over SIP over WebSocket (RFC 7118): the ports bound (empty when off).
  rest.ws_port = transport_->ws_port();
  rest.wss_port = transport_->wss_port();
  rest.min_pin_digits = config_.min_pin_digits;
  rest.webhook_policy = {.allow_private = config_.webhook_allow_private, .allow_ranges = config_.webhook_allow_ranges};
  rest.webhook_queue_max = config_.webhook_queue_max;
  rest.retention = {.max_deliveries = config_.webhook_deliveries_max,
                    .delivery_max_age = config_.webhook_deliveries_max_age};

  // Issue 12, REST API exhaustion (docs/security.md "REST API").
  rest.http_limits.max_connections = config_.http_max_connections;
  rest.http_limits.max_connections_per_ip = config_.http_max_connections_per_ip;
  rest.http_limits.header_timeout = config_.http_header_timeout;
  rest.http_limits.body_timeout = config_.http_body_timeout;
  rest.event_streams.max_per_key = config_.http_max_event_streams_per_key;
  rest.event_streams.max_streams = config_.http_max_event_streams;
  rest.rate_limit.requests_per_second = config_.http_requests_per_second;
  rest.rate_limit.burst = config_.http_burst;
  rest.rate_limit.admin_requests_per_second = config_.http_admin_requests_per_second;
  rest.rate_limit.admin_burst = config_.http_admin_burst;
  rest.shared_store = cluster_ != nullptr;  // issue 13's in-memory reads: a single node only
  if (auto opened = open_recordings(); !opened) return opened;
  RestHostHooks hooks;
  hooks.ready = [this] { return ready_ && !draining_ && !(cluster_ && cluster_->draining()); };
  hooks.drain = [this] { begin_drain("REST drain"); };
  hooks.system_status = [this] {
    if (cluster_) return cluster_->status();
    return nlohmann::json{{"node_id", config_.node_id},
                          {"draining", draining_},
                          {"live_conferences", conference_->active_rooms().size()},
                          {"clustered", false}};
  };
  if (cluster_) {  // issue 14: the node's own drain, and 307 for conferences other nodes run
    hooks.cluster_drain = [this](bool draining) { cluster_->set_draining(draining); };
    hooks.conference_node_url = [this](std::string_view room) { return cluster_->conference_node_url(room); };
    hooks.node_id = config_.node_id;
  }
  hooks.hang_up = [this](sip::CallHandle call, std::string_view reason) { return user_agent_->hang_up(call, reason); };
  auto host = RestHost::open(std::move(rest), io_,
                             RestDomain{*store_, rooms_, calendar_, events_, *conference_, recordings_.get(), &trunks_},
                             std::move(hooks));
  if (!host) return std::unexpected(host.error());
  rest_ = std::move(*host);
  if (auto audio = start_audio(); !audio) return audio;
  sip_metrics_.attach(rest_->metrics());
  register_metrics();
  refresh_metrics_snapshot();
  if (auto started = rest_->start(); !started) return std::unexpected("http: " + started.error());
  CHORUS_LOG(kInfo, "server", "REST API listening", {"http_port", rest_->port()});
  return {};
}

// Issue 14: once both listeners are bound, the node's addresses are known (the settings, or the
// SIP listener's host:port and http://<public address>:<http port>) and it joins the cluster.
std::expected<void, std::string> ChorusServer::start_cluster() {
  if (!cluster_) return {};
  ClusterHost::Runtime runtime{
      .sip_address = transport_->via_sent_by(sip::TransportKind::kUdp),
      .http_url = "http://" + rest::web_url_host(transport_->public_address()) + ":" + std::to_string(rest_->port()),
      .calls = [this] { return user_agent_->call_count(); },
      .set_options_unavailable = [this](bool unavailable) { user_agent_->set_options_unavailable(unavailable); },
      .reload_webhooks = [this] { rest_->reload_webhooks(); }};
  return cluster_->start(std::move(runtime));
}

void ChorusServer::register_metrics() {
  auto& m = rest_->metrics();
  auto& calls = m.gauge("chorus_sip_active_calls", "SIP dialogs (calls) in progress");
  auto& server_tx = m.gauge("chorus_sip_server_transactions", "SIP server transactions alive");
  auto& client_tx = m.gauge("chorus_sip_client_transactions", "SIP client transactions alive");
  auto& rooms = m.gauge("chorus_rooms", "Rooms configured");
  auto& active = m.gauge("chorus_conferences_active", "Rooms with participants now");
  auto& mcu = m.gauge("chorus_participants", "Participants connected", {{"mode", "mcu"}});
  auto& sfu = m.gauge("chorus_participants", "Participants connected", {{"mode", "sfu"}});
  auto& rtp_in = m.gauge("chorus_media_packets_received", "RTP/RTCP packets accepted by the media workers");
  auto& rtp_out = m.gauge("chorus_media_packets_sent", "RTP/RTCP packets sent by the media workers");
  auto& srtp_auth = m.gauge("chorus_srtp_failures", "SRTP/SRTCP packets dropped", {{"reason", "auth"}});
  auto& srtp_replay = m.gauge("chorus_srtp_failures", "SRTP/SRTCP packets dropped", {{"reason", "replay"}});
  auto& sessions = m.gauge("chorus_media_sessions", "Media sessions on the workers");
  auto& foreign = m.gauge("chorus_media_foreign_source_drops",
                          "Plain RTP/SDES packets dropped because their source was not the latched peer");
  auto& media_timeouts = m.gauge("chorus_media_timeouts", "Calls whose peer sent no RTP/RTCP for the media timeout");
  auto& malformed = m.gauge("chorus_media_dropped_malformed",
                            "Datagrams the media workers dropped: over the 1,500-byte limit, not RTP/RTCP/STUN/DTLS, "
                            "or arriving before their keys");
  auto& feedback_unmatched = m.counter("chorus_media_rtcp_feedback_unmatched_total",
                                       "RTCP feedback (PLI, FIR, NACK, TMMBR) naming a stream this server never sent");
  auto& send_failures = m.counter("chorus_media_send_failures_total",
                                  "RTP/RTCP the media workers could not send: the kernel refused it (a full socket "
                                  "buffer, an unreachable address), or no destination or keys yet");
  // The engines' own counters (published(): name, help, value), followed as registry counters.
  std::vector<std::pair<rest::Counter*, const std::atomic<std::uint64_t>*>> engine_counters;
  for (const auto& published : engine_counters_)
    engine_counters.emplace_back(&m.counter(std::string(published.metric), std::string(published.help)),
                                 published.value);
  m.on_collect([this, &calls, &server_tx, &client_tx, &rooms, &active, &mcu, &sfu, &rtp_in, &rtp_out, &srtp_auth,
                &srtp_replay, &sessions, &foreign, &media_timeouts, &malformed, &feedback_unmatched, &send_failures,
                engine_counters] {
    // Runs on the REST thread: the media counters are atomics; the control-loop counts are read
    // racily as plain integers, which a scrape tolerates (they are gauges of the moment).
    const auto media = workers_->counters();
    rtp_in.set(static_cast<double>(media.packets_in));
    rtp_out.set(static_cast<double>(media.packets_out));
    srtp_auth.set(static_cast<double>(media.dropped_auth));
    srtp_replay.set(static_cast<double>(media.dropped_replay));
    sessions.set(static_cast<double>(media.sessions));
    foreign.set(static_cast<double>(media.foreign_source_drops));
    media_timeouts.set(static_cast<double>(media.media_timeouts));
    malformed.set(static_cast<double>(media.dropped_malformed));
    // A counter (it only grows), followed like the engines' below.
    feedback_unmatched.inc(media.feedback_unmatched - std::min(media.feedback_unmatched, feedback_unmatched.value()));
    send_failures.inc(media.dropped_send - std::min(media.dropped_send, send_failures.value()));
    // The engines' counters only grow; the registry's counters follow them (collects are serial).
    for (const auto& [counter, value] : engine_counters) {
      const auto now = value->load(std::memory_order_relaxed);
      counter->inc(now - std::min(now, counter->value()));
    }
    calls.set(static_cast<double>(metrics_snapshot_.calls.load()));
    server_tx.set(static_cast<double>(metrics_snapshot_.server_transactions.load()));
    client_tx.set(static_cast<double>(metrics_snapshot_.client_transactions.load()));
    rooms.set(static_cast<double>(metrics_snapshot_.rooms.load()));
    active.set(static_cast<double>(metrics_snapshot_.active_conferences.load()));
    mcu.set(static_cast<double>(metrics_snapshot_.participants_mcu.load()));
    sfu.set(static_cast<double>(metrics_snapshot_.participants_sfu.load()));
  });
}

void ChorusServer::refresh_metrics_snapshot() {
  metrics_snapshot_.calls = user_agent_->call_count();
  metrics_snapshot_.server_transactions = transactions_->server_count();
  metrics_snapshot_.client_transactions = transactions_->client_count();
  metrics_snapshot_.rooms = rooms_.size();
  metrics_snapshot_.active_conferences = conference_->active_rooms().size();
  std::uint64_t mcu = 0;
  std::uint64_t sfu = 0;
  for (const auto& room_id : conference_->active_rooms()) {
    const auto* room = rooms_.find(room_id);
    (room && room->mode == conference::RoomMode::kSfu ? sfu : mcu) += conference_->participants_in(room_id);
  }
  metrics_snapshot_.participants_mcu = mcu;
  metrics_snapshot_.participants_sfu = sfu;
  const auto trims = idle_memory_return_.trims();
  const std::uint64_t in_flight =
      user_agent_->call_count() + transactions_->server_count() + transactions_->client_count();
  idle_memory_return_.observe(in_flight, user_agent_->calls_started(), std::chrono::steady_clock::now());
  if (idle_memory_return_.trims() != trims) CHORUS_LOG(kInfo, "server", "idle: heap returned to the system");
  metrics_timer_.expires_after(std::chrono::seconds(1));
  metrics_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) refresh_metrics_snapshot();
  });
}

int ChorusServer::run() {
  io_.run();
  // The REST server stops taking requests and joins; what its handlers left queued on the control
  // loop runs now, while everything they reach still exists (rest_host.hpp).
  if (rest_) rest_->stop();
  io_.restart();
  io_.poll();
  // Issue 14: the rooms still held are released and the cluster link stops.
  if (cluster_) cluster_->stop();
  // Recordings still running are finalized before the process ends (their files stay playable
  // either way; this also closes their sidecars as "stopped").
  if (recordings_) recordings_->stop_all();
  log_status();
  CHORUS_LOG(kInfo, "server", "stopped");
  return 0;
}

void ChorusServer::apply_media_realtime_priority() {
  const int priority = config_.media_realtime_priority;
  if (priority == 0) return;
  if (const int error = workers_->set_realtime_priority(priority); error != 0) {
    CHORUS_LOG(kWarn, "server", "media workers stay at normal priority: late mixer frames are possible under load",
               {"media_realtime_priority", priority}, {"error", std::strerror(error)},
               {"hint", "grant CAP_SYS_NICE, or systemd LimitRTPRIO="});
    return;
  }
  CHORUS_LOG(kInfo, "server", "media workers run SCHED_RR", {"priority", priority}, {"workers", workers_->size()});
}

void ChorusServer::log_status() const {
  const auto media = workers_->counters();
  std::vector<LogField> fields{{"server_transactions", transactions_->server_count()},
                               {"client_transactions", transactions_->client_count()},
                               {"dialogs", user_agent_->call_count()},
                               {"media_ports", ports_.bound_ports()},
                               {"media_ports_warm", ports_.warm_pairs() * 2},
                               {"participants", conference_->participant_count()},
                               {"connections", transport_->connection_count()},
                               {"heap_in_use_bytes", heap_in_use_bytes()},
                               {"media_packets_in", media.packets_in},
                               {"media_packets_out", media.packets_out},
                               {"media_dropped_auth", media.dropped_auth},
                               {"media_dropped_replay", media.dropped_replay},
                               {"media_dropped_source", media.dropped_source},
                               {"media_foreign_source_drops", media.foreign_source_drops},
                               {"media_timeouts", media.media_timeouts},
                               {"media_dropped_dtls_unvalidated", media.dropped_dtls_unvalidated},
                               {"media_dropped_malformed", media.dropped_malformed},
                               {"media_dropped_send", media.dropped_send},
                               {"media_dropped_unroutable", media.dropped_unroutable},
                               {"media_rtcp_feedback_unmatched", media.feedback_unmatched},
                               {"media_dtls_connected", media.dtls_connected},
                               {"media_dtls_failed", media.dtls_failed},
                               {"media_stun_answered", media.stun_answered},
                               {"media_source_changes", media.source_changes},
                               {"media_sessions", media.sessions}};
  for (const auto& published : engine_counters_)
    fields.emplace_back(published.status_key, published.value->load(std::memory_order_relaxed));
  write_log(LogLevel::kInfo, "server", "status", std::span<const LogField>(fields));
}

void ChorusServer::wait_for_signals() {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  signals_.add(SIGUSR1);
  signals_.add(SIGHUP);  // main() ignored it until now (server/process_hardening.hpp)
  wait_for_signals_again();
}

void ChorusServer::wait_for_signals_again() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGUSR1) {
      log_status();
    } else if (signal == SIGHUP) {
      reload();
    } else if (draining_) {  // a second SIGTERM/SIGINT: stop at once
      CHORUS_LOG(kWarn, "server", "second signal, stopping now");
      transport_->stop();
      io_.stop();
      return;
    } else {
      begin_drain(signal == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    wait_for_signals_again();
  });
}

void ChorusServer::reload() {
  if (!reloader_) {
    CHORUS_LOG(kInfo, "server", "SIGHUP ignored: no configuration to reload");
    return;
  }
  auto fresh = reloader_();
  if (!fresh) {  // a broken file must not take a running server down, nor half-apply
    CHORUS_LOG(kWarn, "server", "SIGHUP: configuration not reloaded, keeping the running one",
               {"error", fresh.error()});
    return;
  }
  std::string applied;
  std::string restart;
  for (const std::string& key : changed_settings(config_, *fresh)) {
    std::string& list = key == "log_level" ? applied : restart;
    list += list.empty() ? key : "," + key;
  }
  // Logged before the new level applies, so a reload to `warn` still shows that it happened.
  CHORUS_LOG(kInfo, "server", "SIGHUP: configuration reloaded", {"applied", applied.empty() ? "none" : applied},
             {"log_level", std::string(log_level_name(fresh->log_level))});
  if (!restart.empty())
    CHORUS_LOG(kWarn, "server", "SIGHUP: changed settings apply only after a restart", {"keys", restart});
  config_.log_level = fresh->log_level;
  set_log_level(config_.log_level);
}

void ChorusServer::begin_drain(std::string_view why) {
  if (draining_) return;
  draining_ = true;
  CHORUS_LOG(kInfo, "server", "draining: refusing new calls and hanging up", {"signal", why},
             {"calls", user_agent_->call_count()});
  subscriptions_->shutdown();  // NOTIFY terminated;reason=deactivated, before the BYEs end shared dialogs
  if (trunk_registrations_) trunk_registrations_->stop_all();  // Expires: 0 to each trunk's registrar
  user_agent_->shutdown();                                     // BYE on every dialog
  // Give the BYEs their transactions (or shutdown_timeout, whichever is first), checking every 50 ms.
  const auto deadline = std::chrono::duration_cast<Millis>(config_.shutdown_timeout) - Millis(500);
  finish_when_quiet(static_cast<int>(std::max<Millis::rep>(1, deadline.count() / 50)));
}

void ChorusServer::finish_when_quiet(int remaining_checks) {
  if (transactions_->clients_awaiting_final() == 0 || remaining_checks <= 0) {
    transport_->stop();
    signals_.cancel();
    drain_timer_.cancel();
    metrics_timer_.cancel();
    io_.stop();
    return;
  }
  drain_timer_.expires_after(Millis(50));
  drain_timer_.async_wait([this, remaining_checks](const boost::system::error_code& ec) {
    if (!ec) finish_when_quiet(remaining_checks - 1);
  });
}

}  // namespace chorus::server
