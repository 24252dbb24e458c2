// VideoRoom: one `mcu` room's video on its media worker (DESIGN §7 "Video model"). It keeps who is
// in the picture (join order, the layout, the pin, the speaker), feeds each sender's RTP to the
// room's VideoCompositor, and fans each layout class's one encode out to that class's receivers:
// each receiver gets the class's packets under its own SSRC, sequence numbers and timestamps
// (RFC 3550 §5.1: one continuous stream per receiver from its first key frame) and its own SRTP
// through its session.
//
//   sender's session ─► VideoRoomSink::on_rtp ─► InputFeed (GStreamer decodes, composes, encodes)
//   class encode ─► posted to the worker ─► per receiver: rewrite, MediaSession::send_rtp
//   receiver's PLI/FIR ─► the class's encoder makes a key frame (at most one per 0.5 s a class;
//     a request inside that interval is served when it ends)
//   receiver's REMB/TMMBR ─► the class's encoder bit rate follows its slowest receiver; a TMMBR is
//     answered with a TMMBN (RFC 5104 §4.2), at most one per receiver per 0.5 s (the requests inside
//     that interval take effect at once, and one TMMBN with the latest goes when it ends)
//   a decoder lost its reference ─► PLI (or FIR) to the sender, at most one per 300 ms; without
//     RTCP feedback the listener asks the conference (SIP INFO picture_fast_update, RFC 5168)
//
// Classes: receivers that take the same codec at the same size share one encoder; a class is made
// with its first receiver and dropped with its last. The compositor's structure changes (sources,
// tiles, classes) run on the chain thread, so the worker never waits for GStreamer.
// Threading: created, used and destroyed on the room's media worker; the compositor's reports are
// posted to it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/transport/media_component.hpp"
#include "media/transport/media_session.hpp"
#include "media/transport/media_sink.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/video/video_compositor.hpp"

namespace chorus::mixer {

struct VideoRoomConfig {
  VideoCanvas canvas;
  std::uint32_t class_bitrate_bps = 1'500'000;               // a class's most (and its start)
  std::uint32_t min_class_bitrate_bps = 150'000;             // the least a receiver's estimate lowers it to
  std::chrono::milliseconds keyframe_min_interval{500};      // forced key frames per class
  std::chrono::milliseconds keyframe_request_interval{300};  // PLI/FIR per sender
  // TMMBNs per receiver: a TMMBR inside the interval still sets the class's bit rate at once, and
  // its notification is coalesced: one TMMBN with the latest bounding set when the interval ends.
  std::chrono::milliseconds tmmbn_min_interval{500};
  // An sfu room's composite: the pipeline exists (and its inputs are decoded) only while the room
  // has a receiver or a tap; false (an mcu room): from the room's start.
  bool build_on_demand = false;
};

// What the video MCU did over every room (relaxed atomics bumped on the workers), for /metrics.
struct VideoMcuCounters {
  std::atomic<std::uint64_t> packets_received{0};    // RTP fed to decoders
  std::atomic<std::uint64_t> packets_refused{0};     // a source's queue was full or gone
  std::atomic<std::uint64_t> packets_malformed{0};   // a payload the decoder is not given
  std::atomic<std::uint64_t> packets_sent{0};        // RTP of the composite sent to receivers
  std::atomic<std::uint64_t> keyframes_forced{0};    // our encoders asked for a key frame
  std::atomic<std::uint64_t> keyframe_requests{0};   // PLI/FIR/INFO we asked senders for
  std::atomic<std::uint64_t> decode_errors{0};       // a decoder met a frame it could not decode
  std::atomic<std::uint64_t> resolution_changes{0};  // a sender's picture changed size mid-stream
  std::atomic<std::uint64_t> tmmbn_coalesced{0};     // TMMBRs answered by a later, shared TMMBN

  [[nodiscard]] std::vector<PublishedCounter> published() const {
    return {{"chorus_video_mcu_packets_in_total", "Video RTP packets the video MCU fed to its decoders",
             "video_mcu_packets_in", &packets_received},
            {"chorus_video_mcu_packets_refused_total",
             "Video RTP packets the video MCU could not queue (decoder not ready or its queue full)",
             "video_mcu_packets_refused", &packets_refused},
            {"chorus_video_mcu_packets_malformed_total",
             "Video RTP packets whose payload the video MCU does not decode (malformed, or NAL units no camera sends)",
             "video_mcu_packets_malformed", &packets_malformed},
            {"chorus_video_mcu_packets_out_total", "Composite RTP packets the video MCU sent to receivers",
             "video_mcu_packets_out", &packets_sent},
            {"chorus_video_mcu_keyframes_forced_total", "Key frames the video MCU's encoders were asked for",
             "video_mcu_keyframes_forced", &keyframes_forced},
            {"chorus_video_mcu_keyframe_requests_total", "Key frame requests (PLI, FIR, SIP INFO) sent to senders",
             "video_mcu_keyframe_requests", &keyframe_requests},
            {"chorus_video_mcu_decode_errors_total",
             "Times a video MCU decoder met a frame it could not decode (corrupt, truncated, reference lost) and "
             "waited for a key frame",
             "video_mcu_decode_errors", &decode_errors},
            {"chorus_video_mcu_resolution_changes_total",
             "Senders whose decoded picture changed size mid-stream (fitted into the same tile)",
             "video_mcu_resolution_changes", &resolution_changes},
            {"chorus_video_mcu_tmmbn_coalesced_total",
             "TMMBRs not answered at once: a receiver's TMMBNs are rate-limited, and one TMMBN with its latest "
             "request goes when the interval ends",
             "video_mcu_tmmbn_coalesced", &tmmbn_coalesced}};
  }
};

// A member's video we decode: its camera, or its content stream.
struct VideoInputSpec {
  VideoSource source;
  VideoCodec codec = VideoCodec::kVp8;
  std::uint8_t payload_type = 96;
  bool pli = false;  // the sender takes RFC 4585 PLI
  bool fir = false;  // the sender takes RFC 5104 FIR
  // Simulcast (RFC 8853): the one layer decoded, named by its rid, and the RFC 8852 rtp-stream-id
  // extension's id that names a packet's layer (0: not negotiated). Empty: one stream, any SSRC.
  std::string layer_rid;
  std::uint8_t rid_extension_id = 0;
  // What the decoder may be given (the conference passes its codec's payload check, e.g.
  // sfu::is_camera_h264_payload); unset: every payload. A refused packet is counted, not decoded.
  std::function<bool(std::span<const std::uint8_t>)> accepts_payload;
};

// A member who receives the composite.
struct VideoReceiverSpec {
  ParticipantId id = 0;
  VideoCodec codec = VideoCodec::kVp8;
  std::uint8_t payload_type = 96;
  std::uint32_t ssrc = 0;  // what we send from in its section (announced in our SDP)
  int max_width = 0;       // 0: the canvas; else the class is scaled down to fit (max-fs)
  int max_height = 0;
  std::uint64_t max_bitrate_bps = 0;  // its SDP's b=TIAS / b=AS; 0: none
};

class VideoRoomListener {
 public:
  virtual ~VideoRoomListener() = default;
  // A sender without RTCP feedback should send a key frame (the conference sends SIP INFO).
  virtual void on_keyframe_wanted(ParticipantId sender) = 0;
};

class VideoRoom : public std::enable_shared_from_this<VideoRoom> {
 public:
  using Clock = std::chrono::steady_clock;

  // `worker` is the room's; `listener` may be null.
  static std::shared_ptr<VideoRoom> create(media::MediaWorker& worker, VideoRoomConfig config,
                                           std::shared_ptr<VideoMcuCounters> counters,
                                           std::shared_ptr<VideoRoomListener> listener);
  VideoRoom(const VideoRoom&) = delete;
  VideoRoom& operator=(const VideoRoom&) = delete;
  ~VideoRoom();

  // Membership and layout: every participant is a tile, in join order.
  // `name` labels its tile (the display name, already bounded by the conference).
  void add_member(ParticipantId id, std::string name = {});
  void remove_member(ParticipantId id);
  void set_layout(LayoutKind kind, std::optional<ParticipantId> pinned);
  void set_speaker(std::optional<ParticipantId> speaker);
  [[nodiscard]] const std::vector<Tile>& tiles() const { return tiles_; }

  // From the sinks.
  void attach_input(media::MediaSession& session, const VideoInputSpec& spec);
  void detach_input(VideoSource source);
  void on_input_rtp(VideoSource source, const media::RtpPacket& packet);
  void attach_receiver(media::MediaSession& session, const VideoReceiverSpec& spec);
  void detach_receiver(ParticipantId id);
  // A receiver without a session (the meeting's recorder): it joins the class of `spec` (its codec
  // at the canvas size unless max_width/max_height say otherwise) and is handed the class's
  // packets as the encoder made them (no rewrite: one stream), from its first key frame on.
  // Detached like any receiver; `spec.id` must not be a member's.
  using PacketTap = std::function<void(std::span<const std::uint8_t> rtp)>;
  void attach_tap(const VideoReceiverSpec& spec, PacketTap tap);
  // PLI/FIR: a key frame of its class; REMB (draft-alvestrand-rmcat-remb-03): its estimate, and
  // TMMBR (RFC 5104 §4.2.1) on the stream we send it: its ceiling, so the class's bit rate follows
  // its slowest receiver. True when the feedback was taken.
  bool on_receiver_feedback(ParticipantId id, const media::RtcpFeedback& feedback);
  // What the encoder of the receiver's class was last set to; nullopt for no such receiver.
  [[nodiscard]] std::optional<std::uint32_t> class_bitrate_of(ParticipantId id) const;

  // From the compositor, posted to the worker.
  void on_class_packet(std::uint32_t class_id, std::vector<std::uint8_t> rtp, bool keyframe);
  void on_keyframe_wanted(VideoSource source);
  void on_decode_error(const std::string& element, const std::string& error);
  void on_resolution_change(VideoSource source, int width, int height);
  void install_feed(VideoSource source, std::uint64_t generation, std::shared_ptr<InputFeed> feed);

 private:
  struct Input {
    media::MediaSession* session = nullptr;
    VideoInputSpec spec;
    std::uint64_t generation = 0;  // which attach the feed belongs to
    std::shared_ptr<InputFeed> feed;
    std::optional<std::uint32_t> sender_ssrc;  // the decoded stream's (with simulcast: its layer's)
    std::optional<Clock::time_point> last_request;
  };
  struct Receiver {
    media::MediaSession* session = nullptr;  // null for a tap
    PacketTap tap;
    VideoReceiverSpec spec;
    std::uint32_t class_id = 0;
    bool started = false;  // from its first key frame on
    std::uint16_t sequence_offset = 0;
    std::uint32_t timestamp_offset = 0;
    std::uint64_t estimate_bps = 0;          // its last REMB; 0: none yet
    std::optional<std::uint64_t> tmmbr_bps;  // its last TMMBR's MxTBR, at least the class minimum
    // TMMBN rate limit (VideoRoomConfig::tmmbn_min_interval): when the last one went, and the one
    // owed (the latest request's tuple) with the timer that sends it at the interval's end.
    std::optional<TimePoint> last_tmmbn;
    std::optional<media::rtcp::TmmbItem> tmmbn_owed;
    TimerQueue::TimerId tmmbn_timer = TimerQueue::kNoTimer;
  };
  struct EncodeClass {
    VideoClassKey key;
    std::vector<ParticipantId> receivers;
    bool previous_ended_frame = true;  // the last packet had the marker bit: the next starts a frame
    bool keyframe_pending = false;
    std::optional<Clock::time_point> last_forced;
    std::uint32_t bitrate_bps = 0;  // what its encoder was last set to
  };
  class Reports;

  VideoRoom(media::MediaWorker& worker, VideoRoomConfig config, std::shared_ptr<VideoMcuCounters> counters,
            std::shared_ptr<VideoRoomListener> listener);
  // Runs `job(compositor)` on the chain thread after every earlier one, when the compositor exists.
  template <typename Job>
  void on_compositor(Job&& job);
  void relayout();
  void request_class_keyframe(std::uint32_t class_id, Clock::time_point now);
  void send_to(Receiver& receiver, std::span<const std::uint8_t> rtp);
  bool on_receiver_tmmbr(Receiver& receiver, const media::rtcp::Tmmbr& tmmbr);
  void send_owed_tmmbn(ParticipantId id);
  void update_class_bitrate(std::uint32_t class_id);
  bool may_log_bad_input();
  static bool takes(Input& input, const media::RtpPacket& packet);
  VideoClassKey class_key_for(const VideoReceiverSpec& spec) const;
  void join_class(Receiver receiver);
  // Builds the compositor and gives it the room as it is (names, sources, tiles); drops it.
  void start_composing();
  void stop_composing();
  void add_source(VideoSource source, Input& input);

  media::MediaWorker& worker_;
  VideoRoomConfig config_;
  std::shared_ptr<VideoMcuCounters> counters_;
  std::shared_ptr<VideoRoomListener> listener_;
  TimerQueue* timers_ = nullptr;      // the worker's, lent by the first receiver's session
  std::shared_ptr<Reports> reports_;  // the compositor's listener
  // The compositor, made, changed and dropped by jobs on the chain thread only (null when it failed).
  std::shared_ptr<std::unique_ptr<VideoCompositor>> compositor_ = std::make_shared<std::unique_ptr<VideoCompositor>>();
  std::vector<ParticipantId> members_;          // join order
  std::map<ParticipantId, std::string> names_;  // their labels, given again to a compositor built later
  bool composing_ = false;                      // a compositor was asked for (and not dropped since)
  LayoutKind layout_ = LayoutKind::kGrid;
  std::optional<ParticipantId> pinned_;
  std::optional<ParticipantId> speaker_;
  std::vector<Tile> tiles_;
  std::map<VideoSource, Input> inputs_;
  std::map<ParticipantId, Receiver> receivers_;
  std::map<std::uint32_t, EncodeClass> classes_;
  std::uint32_t next_class_id_ = 1;
  std::uint64_t next_generation_ = 1;
  std::uint8_t fir_sequence_ = 0;  // RFC 5104 §4.3.1.1
  // A sender's bad frames are logged at most once a second per room (each is counted).
  std::optional<Clock::time_point> last_bad_input_log_;
  std::uint64_t bad_input_unlogged_ = 0;
  alignas(16) std::array<std::uint8_t, media::kMaxDatagramSize + media::kSrtcpMaxTrailer> buffer_{};
};

// The MediaSink that joins one video section of a participant to its room: an input where we
// receive, a receiver where we send, or both (a room system's one sendrecv m-line).
class VideoRoomSink final : public media::MediaSink {
 public:
  VideoRoomSink(std::shared_ptr<VideoRoom> room, std::optional<VideoInputSpec> input,
                std::optional<VideoReceiverSpec> receiver)
      : room_(std::move(room)), input_(input), receiver_(receiver) {}
  void on_attached(media::MediaSession& session) override;
  void on_detached(media::MediaSession& session) override;
  void on_rtp(media::MediaSession& session, media::RtpPacket& packet, std::span<std::uint8_t> buffer) override;
  void on_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) override;
  bool on_transport_feedback(media::MediaSession& session, const media::RtcpFeedback& feedback) override;

 private:
  std::shared_ptr<VideoRoom> room_;
  std::optional<VideoInputSpec> input_;
  std::optional<VideoReceiverSpec> receiver_;
};

}  // namespace chorus::mixer
