#include "media/transport/media_session.hpp"

#include <unistd.h>

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

}  // namespace

MediaSession::MediaSession(MediaSessionSpec spec, MediaEnvironment environment)
    : spec_(std::move(spec)), environment_(environment), reporter_(reporter_config(spec_)) {
  reporter_.add_local_source(spec_.local_ssrc, static_cast<std::uint32_t>(spec_.clock_rate));
  rtp_ = std::make_unique<MediaComponent>(*this, environment_.io, spec_.rtp_fd, ComponentKind::kRtp, spec_.remote_rtp);
  if (spec_.rtcp_mux) {
    if (spec_.rtcp_fd >= 0) ::close(spec_.rtcp_fd);  // the lease keeps the RTCP port; we do not read it
  } else if (spec_.rtcp_fd >= 0) {
    rtcp_ = std::make_unique<MediaComponent>(*this, environment_.io, spec_.rtcp_fd, ComponentKind::kRtcp,
                                             spec_.remote_rtcp);
  }
  spec_.rtp_fd = spec_.rtcp_fd = -1;  // owned by the components now
  if (spec_.bundle) {
    auto demux = BundleDemux::create(*spec_.bundle);
    if (demux) {
      bundle_.emplace(std::move(*demux));
    } else {
      CHORUS_LOG(kWarn, "media", "bundle not demultiplexed", {"session", spec_.label}, {"error", demux.error()});
    }
  }
}

MediaSession::~MediaSession() {
  if (sink_) sink_->on_detached(*this);
  environment_.timers.cancel(report_timer_);
  send_report(/*bye=*/true);  // RFC 3550 §6.6: say we are leaving
  rtcp_.reset();
  rtp_.reset();
}

void MediaSession::set_sink(std::unique_ptr<MediaSink> sink) {
  if (sink_) sink_->on_detached(*this);
  sink_ = std::move(sink);
  if (sink_) sink_->on_attached(*this);
}

void MediaSession::start() {
  rtp_->start();
  if (rtcp_) rtcp_->start();
  schedule_report();
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
  spec_.send_enabled = update.send_enabled;
  rtp_->on_signalled(update.remote_rtp);
  if (rtcp_) rtcp_->on_signalled(update.remote_rtcp);
  if (update.remote_sdes_key_salt) {
    if (auto* sdes = std::get_if<SdesKeying>(&spec_.keying)) {
      sdes->remote_key_salt = *update.remote_sdes_key_salt;
      rtp_->set_sdes_keys(sdes->suite, sdes->local_key_salt, sdes->remote_key_salt);
      if (rtcp_) rtcp_->set_sdes_keys(sdes->suite, sdes->local_key_salt, sdes->remote_key_salt);
    }
  }
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
  if (!spec_.send_enabled) return false;  // RFC 3264 §5.1: recvonly/inactive on our side
  if (auto packet = RtpPacket::parse(buffer.first(length)))
    reporter_.on_rtp_sent(packet->ssrc(), packet->timestamp(), packet->payload().size(), environment_.timers.now());
  return rtp_->send_rtp(buffer, length);
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
  // RFC 8843 §9.2: a packet no bundled section claims is not decoded.
  if (bundle_ && !bundle_->route(*packet)) {
    MediaCounters::bump(environment_.counters.dropped_unroutable);
    return;
  }
  MediaCounters::bump(environment_.counters.packets_in);
  reporter_.on_rtp_received(*packet, environment_.timers.now(), static_cast<std::uint32_t>(spec_.clock_rate));
  remote_ssrc_ = packet->ssrc();
  if (sink_) sink_->on_rtp(*this, *packet, buffer);
}

void MediaSession::deliver_rtcp(MediaComponent&, std::span<const std::uint8_t> compound) {
  MediaCounters::bump(environment_.counters.packets_in);
  reporter_.on_rtcp(compound, environment_.timers.now());
  if (sink_) sink_->on_rtcp(*this, compound);
}

}  // namespace chorus::media
