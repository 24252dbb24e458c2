// MediaEnvironment: what a media worker lends every session it runs — its loop, its timers, its
// counters, its socket poller, the process's DTLS context and the receive buffers. All of it belongs to the worker
// thread; a session keeps the reference for its whole life, which the worker bounds.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <span>

#include "common/timer_queue.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/stun/stun_message.hpp"
#include "media/transport/media_counters.hpp"
#include "media/transport/media_marking.hpp"
#include "media/transport/readiness_poller.hpp"
#include "media/transport/send_batch.hpp"

namespace chorus::media {

namespace dtls {
class DtlsContext;
}
class MediaSession;

inline constexpr std::size_t kMaxDatagramSize = 1500;  // ingress limit: larger datagrams are dropped
// A slot holds a datagram plus an SRTCP trailer (what protecting in place may add), rounded to keep
// every slot 16-octet aligned.
inline constexpr std::size_t kReceiveSlotSize = (kMaxDatagramSize + kSrtcpMaxTrailer + 15) / 16 * 16;
// Datagrams one receive call takes: a socket usually has one (a member's packet per tick), so a
// call that returns fewer than this has drained it and no second call is made to learn EAGAIN.
inline constexpr std::size_t kReceiveBatch = 8;

struct MediaEnvironment {
  boost::asio::io_context& io;
  TimerQueue& timers;
  ReadinessPoller& poller;  // tells each session's sockets when they are readable
  MediaCounters& counters;
  dtls::DtlsContext* dtls = nullptr;  // null when DTLS-SRTP is not available
  // Receive buffers shared by the worker's sessions: kReceiveBatch slots of kReceiveSlotSize, one
  // per datagram a recvmmsg(2) call takes (media_component.cpp), each handled before the next
  // call. Aligned to 16 octets: libsrtp reads headers in 32-bit words.
  std::span<std::uint8_t> scratch;
  // A session latched at an address (MediaSession::on_component_latched): the worker proves the same
  // peer's other sessions there. Empty: sessions stand alone.
  std::function<void(const MediaSession&, const stun::TransportAddress&)> peer_latched;
  // The DSCP classes of what the sessions send (issue 15, media_marking.hpp); none: unmarked.
  MediaMarking marking{};
  // The worker's burst of sends (send_batch.hpp): between its open() and flush(), the sessions'
  // datagrams go out together. Null: each is sent at once.
  SendBatch* send_batch = nullptr;
};

}  // namespace chorus::media
