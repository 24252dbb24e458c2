// MediaSession: the media side of one negotiated transport of one participant — one SDP m-line, or
// several that share a BUNDLE transport (RFC 8843).
//
// It owns one or two MediaComponents (RTP, and RTCP unless rtcp-mux), its RTCP statistics, and one
// sink per stream its engines gave it. What arrives passes the component's checks, then RTP is
// counted, routed to its stream (the BUNDLE demultiplexer) and handed to that stream's sink; RTCP
// feeds the statistics, then its feedback goes typed to the sink it concerns (media_sink.hpp).
// Engines send through send_rtp/send_rtcp, which protect in place; a packet from one of a stream's
// SSRCs leaves only while that stream sends (RFC 3264 §5.1). The session sends its own SR/RR + SDES
// on the RFC 3550 §6.3 schedule (one sender report per SSRC we send from) and a BYE (§6.6) when it
// ends, and, when the peer stamps transport-wide sequence numbers, RTCP transport-cc feedback every
// 100 ms so the peer can estimate its bandwidth. The control loop never touches a session: it names
// it by id through its media worker (DESIGN §2).
// Threading: created, used and destroyed on one media worker thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "media/rtcp/rtcp_reporter.hpp"
#include "media/rtcp/transport_cc_recorder.hpp"
#include "media/transport/media_component.hpp"
#include "media/transport/media_environment.hpp"
#include "media/transport/media_session_spec.hpp"
#include "media/transport/media_sink.hpp"

namespace chorus::media {

// What a session's RTCP statistics say about its call, for the REST participant view.
struct StreamQuality {
  std::uint64_t packets_received = 0;  // RTP from the peer, after every check
  std::uint64_t packets_sent = 0;      // RTP we sent
  double fraction_lost = 0.0;          // 0..1, over the last report interval (RFC 3550 §6.4.1)
  std::int64_t cumulative_lost = 0;
  double jitter_ms = 0.0;                        // RFC 3550 A.8, of what we receive
  std::optional<std::chrono::microseconds> rtt;  // from the peer's report blocks (LSR/DLSR)
};

class MediaSession {
 public:
  MediaSession(MediaSessionSpec spec, MediaEnvironment environment);
  MediaSession(const MediaSession&) = delete;
  MediaSession& operator=(const MediaSession&) = delete;
  ~MediaSession();

  // The engine's sink for stream `stream` (0 without BUNDLE); until one is set, what that stream
  // receives is counted and dropped.
  void set_sink(std::unique_ptr<MediaSink> sink) { set_sink(0, std::move(sink)); }
  void set_sink(std::size_t stream, std::unique_ptr<MediaSink> sink);
  void start();
  void update(const MediaSessionUpdate& update);

  // Sends packet [0, length) of `buffer` (room for kSrtcpMaxTrailer after it), protecting it in
  // place. False (and counted) when it could not go: nothing to send to, keys not ready, its stream
  // does not send (sendonly/inactive on our side).
  bool send_rtp(std::span<std::uint8_t> buffer, std::size_t length);
  bool send_rtcp(std::span<std::uint8_t> buffer, std::size_t length);

  [[nodiscard]] const MediaSessionSpec& spec() const { return spec_; }
  [[nodiscard]] const MediaEnvironment& environment() const { return environment_; }
  [[nodiscard]] std::uint64_t id() const { return spec_.id; }
  [[nodiscard]] std::size_t stream_count() const { return streams_.size(); }
  [[nodiscard]] const rtcp::RtcpReporter& rtcp() const { return reporter_; }
  [[nodiscard]] StreamQuality quality() const;
  // Issue 12, RTP inactivity: true once nothing (RTP or RTCP) was admitted from the peer for the
  // spec's media_timeout — hold_timeout while we do not send (held) — counted from start().
  [[nodiscard]] bool timed_out(TimePoint now) const;

  // One component latched at `source`: the peer lives at that IP, which proves the other component's
  // and (through the worker) the same peer's other sessions' signalled addresses there.
  void on_component_latched(const MediaComponent& from, const TransportAddress& source);
  // The same peer's other session latched at `source` (MediaEnvironment::peer_latched).
  void on_peer_proven(const TransportAddress& source);

  // From the components, after their checks.
  void deliver_rtp(MediaComponent& from, std::span<std::uint8_t> buffer, std::size_t length);
  void deliver_rtcp(MediaComponent& from, std::span<const std::uint8_t> compound);
  // From the components: an RTP or RTCP packet of ours left (or joined the worker's send burst).
  void note_sent() { sent_rtp_or_rtcp_ = true; }

 private:
  struct Stream {
    MediaStreamSpec spec;
    std::unique_ptr<MediaSink> sink;
    TrafficClass traffic = TrafficClass::kAudio;
  };
  MediaComponent& rtcp_component() { return rtcp_ ? *rtcp_ : *rtp_; }
  void schedule_report();
  void send_report(bool bye);
  void schedule_transport_feedback();
  void send_transport_feedback();
  void dispatch_feedback(std::span<const std::uint8_t> compound);
  void mark_sockets();
  void update_delivery();  // after a sink changes: when the sockets are read (media_sink.hpp)
  // The stream one of our SSRCs belongs to; nullopt for an SSRC we do not send from.
  [[nodiscard]] std::optional<std::size_t> stream_of_local(std::uint32_t ssrc) const;

  MediaSessionSpec spec_;
  MediaEnvironment environment_;
  std::unique_ptr<MediaComponent> rtp_;
  std::unique_ptr<MediaComponent> rtcp_;  // null with rtcp-mux
  std::vector<Stream> streams_;           // at least one
  std::optional<BundleDemux> bundle_;
  TrafficClass socket_class_ = TrafficClass::kAudio;  // the class the sockets are marked with
  rtcp::RtcpReporter reporter_;
  TimerQueue::TimerId report_timer_ = TimerQueue::kNoTimer;
  std::optional<std::uint32_t> remote_ssrc_;  // the last SSRC the peer sent RTP from
  TimePoint last_heard_{};                    // start(), then the last RTP/RTCP admitted from the peer
  // RFC 3550 §6.3.7: a participant that never sent an RTP or RTCP packet must not send a BYE.
  bool sent_rtp_or_rtcp_ = false;
  bool remarked_borrowed_sockets_ = false;  // marked otherwise than spec_.sockets_dscp: restored at the end
  // draft-holmer-rmcat-transport-wide-cc-extensions-01 §3: arrivals we report back (when negotiated).
  std::unique_ptr<rtcp::TransportCcRecorder> transport_cc_;
  TimerQueue::TimerId transport_cc_timer_ = TimerQueue::kNoTimer;
};

}  // namespace chorus::media
