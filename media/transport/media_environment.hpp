// MediaEnvironment: what a media worker lends every session it runs — its loop, its timers, its
// counters, the process's DTLS context and one receive buffer. All of it belongs to the worker
// thread; a session keeps the reference for its whole life, which the worker bounds.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <span>

#include "common/timer_queue.hpp"
#include "media/stun/stun_message.hpp"
#include "media/transport/media_counters.hpp"
#include "media/transport/media_marking.hpp"

namespace chorus::media {

namespace dtls {
class DtlsContext;
}
class MediaSession;

struct MediaEnvironment {
  boost::asio::io_context& io;
  TimerQueue& timers;
  MediaCounters& counters;
  dtls::DtlsContext* dtls = nullptr;  // null when DTLS-SRTP is not available
  // Receive buffer shared by the worker's sessions (one datagram is handled at a time). Aligned
  // to 16 octets: libsrtp reads headers in 32-bit words. Sized for a datagram plus an SRTCP trailer.
  std::span<std::uint8_t> scratch;
  // A session latched at an address (MediaSession::on_component_latched): the worker proves the same
  // peer's other sessions there. Empty: sessions stand alone.
  std::function<void(const MediaSession&, const stun::TransportAddress&)> peer_latched;
  // The DSCP classes of what the sessions send (issue 15, media_marking.hpp); none: unmarked.
  MediaMarking marking{};
};

}  // namespace chorus::media
