#include "media/transport/media_session.hpp"

#include <unistd.h>

#include "common/log.hpp"

namespace chorus::media {

MediaSession::MediaSession(MediaSessionSpec spec, MediaEnvironment environment)
    : spec_(std::move(spec)), environment_(environment) {
  rtp_ = std::make_unique<MediaComponent>(*this, environment_.io, spec_.rtp_fd, ComponentKind::kRtp, spec_.remote_rtp);
  if (spec_.rtcp_mux) {
    if (spec_.rtcp_fd >= 0) ::close(spec_.rtcp_fd);  // the lease keeps the RTCP port; we do not read it
  } else if (spec_.rtcp_fd >= 0) {
    rtcp_ = std::make_unique<MediaComponent>(*this, environment_.io, spec_.rtcp_fd, ComponentKind::kRtcp,
                                             spec_.remote_rtcp);
  }
  spec_.rtp_fd = spec_.rtcp_fd = -1;  // owned by the components now
}

MediaSession::~MediaSession() {
  rtcp_.reset();
  rtp_.reset();
}

void MediaSession::start() {
  rtp_->start();
  if (rtcp_) rtcp_->start();
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

bool MediaSession::send_rtp(std::span<std::uint8_t> buffer, std::size_t length) {
  if (!spec_.send_enabled) return false;  // RFC 3264 §5.1: recvonly/inactive on our side
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
  MediaCounters::bump(environment_.counters.packets_in);
  if (sink_) sink_->on_rtp(*this, *packet, buffer);
}

void MediaSession::deliver_rtcp(MediaComponent&, std::span<const std::uint8_t> compound) {
  MediaCounters::bump(environment_.counters.packets_in);
  if (sink_) sink_->on_rtcp(*this, compound);
}

}  // namespace chorus::media
