#include "media/transport/media_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>

#include "common/log.hpp"
#include "common/random.hpp"

namespace chorus::media {

namespace {

rtcp::RtcpReporterConfig reporter_config(const MediaSessionSpec& spec) {
  rtcp::RtcpReporterConfig config;
  config.ssrc = spec.local_ssrc;
  config.cname = spec.cname.empty() ? std::string("chorus") : spec.cname;
  config.session_bandwidth_bps = static_cast<std::uint32_t>(spec.session_bandwidth_bps);
  return config;
}

// A draw from [0, 1] for the RTCP interval's randomisation (RFC 3550 §6.3.1).
double uniform_draw() {
  return static_cast<double>(random_u64() >> 11) / static_cast<double>(std::uint64_t{1} << 53);
}

// The streams a spec describes: its own list, or the one implicit stream of an unbundled session.
std::vector<MediaStreamSpec> streams_of(const MediaSessionSpec& spec) {
  if (!spec.streams.empty()) return spec.streams;
  MediaStreamSpec single;
  single.local_ssrcs = {spec.local_ssrc};
  single.clock_rate = spec.clock_rate;
  single.send_enabled = spec.send_enabled;
  return {single};
}

// draft-holmer-rmcat-transport-wide-cc-extensions-01 §3: one feedback per 100 ms
// (transport_cc_recorder.hpp says why that interval).
constexpr Millis kTransportFeedbackInterval{100};

}  // namespace

MediaSession::MediaSession(MediaSessionSpec spec, MediaEnvironment environment)
    : spec_(std::move(spec)), environment_(environment), reporter_(reporter_config(spec_)) {
  for (auto& stream : streams_of(spec_)) {
    for (auto ssrc : stream.local_ssrcs)
      reporter_.add_local_source(ssrc, static_cast<std::uint32_t>(stream.clock_rate));
    const auto traffic = traffic_class_of(stream.clock_rate);
    streams_.push_back(Stream{std::move(stream), nullptr, traffic});
  }
  if (!spec_.streams.empty() && !std::ranges::any_of(spec_.streams, [&](const MediaStreamSpec& stream) {
        return std::ranges::find(stream.local_ssrcs, spec_.local_ssrc) != stream.local_ssrcs.end();
      }))
    reporter_.add_local_source(spec_.local_ssrc, static_cast<std::uint32_t>(spec_.clock_rate));
  if (spec_.transport_cc_extension_id != 0) transport_cc_ = std::make_unique<rtcp::TransportCcRecorder>();
  const bool owns_sockets = spec_.sockets_owner == nullptr;
  rtp_ = std::make_unique<MediaComponent>(*this, spec_.rtp_fd, owns_sockets, ComponentKind::kRtp, spec_.remote_rtp);
  if (spec_.rtcp_mux) {
    // The lease keeps the RTCP port bound; we do not read it.
    if (spec_.rtcp_fd >= 0 && owns_sockets) ::close(spec_.rtcp_fd);
  } else if (spec_.rtcp_fd >= 0) {
    rtcp_ =
        std::make_unique<MediaComponent>(*this, spec_.rtcp_fd, owns_sockets, ComponentKind::kRtcp, spec_.remote_rtcp);
  }
  spec_.rtp_fd = spec_.rtcp_fd = -1;  // owned by the components now
  mark_sockets();
  if (spec_.bundle) {
    auto demux = BundleDemux::create(*spec_.bundle);
    if (demux) {
      bundle_.emplace(std::move(*demux));
    } else {
      CHORUS_LOG(kWarn, "media", "bundle not demultiplexed", {"session", spec_.label}, {"error", demux.error()});
    }
  }
}

// Issue 15 (media_marking.hpp): the sockets take audio's class when any stream is audio, else video's;
// a packet of the other class is marked on its own in send_rtp.
void MediaSession::mark_sockets() {
  const bool carries_audio =
      std::ranges::any_of(streams_, [](const Stream& stream) { return stream.traffic == TrafficClass::kAudio; });
  socket_class_ = carries_audio ? TrafficClass::kAudio : TrafficClass::kVideo;
  const auto dscp = environment_.marking.dscp(socket_class_);
  // Issue 13: a port lease's sockets come marked with audio's class (udp_port_pool.hpp); an audio
  // session leaves them so.
  if (!dscp || dscp == spec_.sockets_dscp) return;
  rtp_->mark(*dscp);
  if (rtcp_) rtcp_->mark(*dscp);
  remarked_borrowed_sockets_ = spec_.sockets_owner != nullptr;
}

void MediaSession::on_component_latched(const MediaComponent& from, const TransportAddress& source) {
  for (auto* component : {rtp_.get(), rtcp_.get()})
    if (component && component != &from) component->on_peer_proven(source);
  if (environment_.peer_latched) environment_.peer_latched(*this, source);
}

void MediaSession::on_peer_proven(const TransportAddress& source) {
  rtp_->on_peer_proven(source);
  if (rtcp_) rtcp_->on_peer_proven(source);
}

MediaSession::~MediaSession() {
  for (auto& stream : streams_)
    if (stream.sink) stream.sink->on_detached(*this);
  environment_.timers.cancel(report_timer_);
  environment_.timers.cancel(transport_cc_timer_);
  // RFC 3550 §6.6: say we are leaving; but §6.3.7: not when we never sent an RTP or RTCP packet.
  // (A call that ends before the room had anything for it — a short join and leave — sends none.)
  if (sent_rtp_or_rtcp_) send_report(/*bye=*/true);
  // Borrowed sockets go back to the pool as it marked them: the next lease trusts that mark.
  if (remarked_borrowed_sockets_) {
    const auto pool_mark = spec_.sockets_dscp.value_or(0);
    rtp_->mark(pool_mark);
    if (rtcp_) rtcp_->mark(pool_mark);
  }
  rtcp_.reset();
  rtp_.reset();
}

void MediaSession::set_sink(std::size_t stream, std::unique_ptr<MediaSink> sink) {
  if (stream >= streams_.size()) return;
  auto& slot = streams_[stream].sink;
  if (slot) slot->on_detached(*this);
  slot = std::move(sink);
  if (slot) slot->on_attached(*this);
  update_delivery();
}

// Issue 13: a session whose every stream goes to a tick-driven engine is read at that tick.
void MediaSession::update_delivery() {
  const bool at_tick = std::ranges::all_of(
      streams_, [](const Stream& stream) { return stream.sink != nullptr && stream.sink->consumes_at_tick(); });
  const Delivery delivery = !streams_.empty() && at_tick ? Delivery::kAtTick : Delivery::kOnArrival;
  rtp_->set_delivery(delivery);
  if (rtcp_) rtcp_->set_delivery(delivery);
}

void MediaSession::start() {
  last_heard_ = environment_.timers.now();
  rtp_->start();
  if (rtcp_) rtcp_->start();
  schedule_report();
  if (transport_cc_) schedule_transport_feedback();
}

void MediaSession::schedule_transport_feedback() {
  transport_cc_timer_ = environment_.timers.schedule(kTransportFeedbackInterval, [this] {
    transport_cc_timer_ = TimerQueue::kNoTimer;
    send_transport_feedback();
    schedule_transport_feedback();
  });
}

void MediaSession::send_transport_feedback() {
  alignas(16) std::array<std::uint8_t, kMaxDatagramSize + kSrtcpMaxTrailer> buffer{};
  const auto now = environment_.timers.now();
  if (!transport_cc_->feedback_due(now)) return;
  // Feedback is about the transport: its media SSRC is the last one the peer sent from (libwebrtc
  // ignores it; RFC 4585 §6.1 wants some value).
  for (int packets = 0; packets < 4; ++packets) {  // what one interval gathers fits a few datagrams
    const auto length = transport_cc_->build_feedback(now, spec_.local_ssrc, remote_ssrc_.value_or(0),
                                                      std::span(buffer).first(kMaxDatagramSize));
    if (length == 0) return;
    rtcp_component().send_rtcp(buffer, length);
  }
}

void MediaSession::schedule_report() {
  const auto delay = std::chrono::duration_cast<Millis>(reporter_.next_report_delay(uniform_draw()));
  report_timer_ = environment_.timers.schedule(delay, [this] {
    report_timer_ = TimerQueue::kNoTimer;
    send_report(false);
    schedule_report();
  });
}

void MediaSession::send_report(bool bye) {
  alignas(16) std::array<std::uint8_t, kMaxDatagramSize + kSrtcpMaxTrailer> buffer{};
  const auto now = environment_.timers.now();
  const auto wall = std::chrono::system_clock::now();
  auto length = bye ? reporter_.build_bye(now, wall, std::span(buffer).first(kMaxDatagramSize))
                    : reporter_.build_report(now, wall, std::span(buffer).first(kMaxDatagramSize));
  if (length) rtcp_component().send_rtcp(buffer, *length);
}

void MediaSession::update(const MediaSessionUpdate& update) {
  last_heard_ = environment_.timers.now();  // a re-offer is the peer alive; a held call's clock restarts
  spec_.send_enabled = update.send_enabled;
  for (std::size_t i = 0; i < streams_.size(); ++i)
    streams_[i].spec.send_enabled =
        i < update.stream_send_enabled.size() ? update.stream_send_enabled[i] : update.send_enabled;
  rtp_->on_signalled(update.remote_rtp, update.remote_proven);
  if (rtcp_) rtcp_->on_signalled(update.remote_rtcp, update.remote_proven);
  if (update.remote_sdes_key_salt) {
    if (auto* sdes = std::get_if<SdesKeying>(&spec_.keying)) {
      sdes->remote_key_salt = *update.remote_sdes_key_salt;
      rtp_->set_sdes_keys(sdes->suite, sdes->local_key_salt, sdes->remote_key_salt);
      if (rtcp_) rtcp_->set_sdes_keys(sdes->suite, sdes->local_key_salt, sdes->remote_key_salt);
    }
  }
}

bool MediaSession::timed_out(TimePoint now) const {
  const auto limit = spec_.send_enabled ? spec_.media_timeout : spec_.hold_timeout;
  return limit.count() > 0 && now - last_heard_ >= limit;
}

StreamQuality MediaSession::quality() const {
  StreamQuality quality;
  if (const auto* sent = reporter_.local_source(spec_.local_ssrc)) {
    const auto snapshot = sent->snapshot();
    quality.packets_sent = snapshot.packets;
    quality.rtt = snapshot.last_rtt;
  }
  if (const auto* received = remote_ssrc_ ? reporter_.remote_source(*remote_ssrc_) : nullptr) {
    const auto snapshot = received->snapshot();
    quality.packets_received = snapshot.packets;
    quality.fraction_lost = snapshot.fraction_lost;
    quality.cumulative_lost = snapshot.cumulative_lost;
    quality.jitter_ms = snapshot.jitter_ms;
  }
  return quality;
}

bool MediaSession::send_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  auto packet = RtpPacket::parse(buffer.first(length));
  // RFC 3264 §5.1: nothing leaves in a stream that is recvonly/inactive on our side.
  const auto stream = packet ? stream_of_local(packet->ssrc()) : std::nullopt;
  const bool sends = stream ? streams_[*stream].spec.send_enabled : spec_.send_enabled;
  if (!sends) return false;
  if (packet)
    reporter_.on_rtp_sent(packet->ssrc(), packet->timestamp(), packet->payload().size(), environment_.timers.now());
  // A video packet on a socket marked for audio (BUNDLE) carries video's class itself.
  std::optional<std::uint8_t> dscp;
  if (stream && streams_[*stream].traffic != socket_class_) dscp = environment_.marking.dscp(streams_[*stream].traffic);
  return rtp_->send_rtp(buffer, length, dscp);
}

std::optional<std::size_t> MediaSession::stream_of_local(std::uint32_t ssrc) const {
  for (std::size_t i = 0; i < streams_.size(); ++i)
    if (std::ranges::find(streams_[i].spec.local_ssrcs, ssrc) != streams_[i].spec.local_ssrcs.end()) return i;
  return std::nullopt;
}

bool MediaSession::send_rtcp(std::span<std::uint8_t> buffer, std::size_t length) {
  return rtcp_component().send_rtcp(buffer, length);
}

void MediaSession::deliver_rtp(MediaComponent&, std::span<std::uint8_t> buffer, std::size_t length) {
  auto packet = RtpPacket::parse(buffer.first(length));
  if (!packet) {
    MediaCounters::bump(environment_.counters.dropped_malformed);
    return;
  }
  const auto now = environment_.timers.now();
  last_heard_ = now;  // RTP that passed the source and SRTP checks: the peer lives
  // The sender asks for every packet it stamped, routable or not (transport-cc §3.1).
  if (transport_cc_)
    if (auto sequence = read_transport_sequence_number(*packet, spec_.transport_cc_extension_id))
      transport_cc_->on_packet(*sequence, now);
  // RFC 8843 §9.2: a packet no bundled section claims is not decoded.
  std::size_t stream = 0;
  if (bundle_) {
    auto routed = bundle_->route(*packet);
    if (!routed || *routed >= streams_.size()) {
      MediaCounters::bump(environment_.counters.dropped_unroutable);
      return;
    }
    stream = *routed;
  }
  MediaCounters::bump(environment_.counters.packets_in);
  reporter_.on_rtp_received(*packet, now, static_cast<std::uint32_t>(streams_[stream].spec.clock_rate));
  remote_ssrc_ = packet->ssrc();
  if (auto& sink = streams_[stream].sink) sink->on_rtp(*this, *packet, buffer);
}

void MediaSession::deliver_rtcp(MediaComponent&, std::span<const std::uint8_t> compound) {
  MediaCounters::bump(environment_.counters.packets_in);
  last_heard_ = environment_.timers.now();  // issue 12: RTCP counts as life
  reporter_.on_rtcp(compound, environment_.timers.now());
  for (auto& stream : streams_)
    if (stream.sink) stream.sink->on_rtcp(*this, compound);
  dispatch_feedback(compound);
}

void MediaSession::dispatch_feedback(std::span<const std::uint8_t> compound) {
  auto view = rtcp::CompoundView::parse(compound);
  if (!view) return;
  for (const auto& packet : *view) {
    auto feedback = parse_feedback(packet);
    if (!feedback) continue;
    if (auto ssrc = feedback_media_ssrc(*feedback)) {
      // About one of our streams: its sink only. Feedback naming an SSRC we never sent (a peer
      // confused by a re-INVITE, a stale stream, or a forged report) is dropped and counted.
      const auto stream = stream_of_local(*ssrc);
      if (!stream)
        MediaCounters::bump(environment_.counters.feedback_unmatched);
      else if (streams_[*stream].sink)
        streams_[*stream].sink->on_feedback(*this, *feedback);
      continue;
    }
    for (auto& stream : streams_)
      if (stream.sink && stream.sink->on_transport_feedback(*this, *feedback)) break;
  }
}

}  // namespace chorus::media
