// video_load packets: what the SFU forwarding generator (video_load.cpp) puts on the wire and
// reads back, kept apart from its sockets so it can be tested and fuzzed.
//
// A publisher's stream is synthetic VP8 (RFC 7741): every RTP packet is `packet_size` octets
// (12-octet header, no CSRCs or extensions), its payload a 4-octet payload descriptor (§4.2: X, S
// on a frame's first packet, PartID 0, I with a 15-bit PictureID), on a frame's first packet the
// VP8 payload header (§4.3; RFC 6386 §9.1: a key frame's 10-octet frame tag, start code and size,
// or an inter frame's 3-octet tag), then filler. At kStampOffset every packet carries a stamp —
// send time, publisher index, packet index — past anything an SFU rewrites (the descriptor's
// PictureID), so a subscriber can tell who a slot shows and how long the packet took.
//
//   payload offset:  0      4                 14    16             32            payload end
//                    | desc | frame tag/filler | fill | stamp (16 o) | filler ... |
//
// Frames: `packets_per_frame` packets each, the marker bit on the last (RFC 7741 §4.1), the
// timestamp advancing by `ticks_per_frame` of the 90 kHz clock and the PictureID by one (mod 2^15)
// per frame. The first frame is a key frame, and so is the next frame after request_keyframe()
// (a PLI or FIR arrived, RFC 4585 §6.3.1, RFC 5104 §4.3.1).
//
// A subscriber counts each slot's packets by their (rewritten) sequence numbers — RFC 3550 §A.1's
// extended highest number over a measurement window, duplicates told apart by a bitmap of the last
// kSequenceHistory numbers — and reads the stamp from the decrypted payload (inspect_payload).
// scan_feedback walks an RTCP compound a publisher received and counts what it asks for.
//
// Threading: plain values and functions; the generator uses them from its one thread.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::bench {

inline constexpr std::size_t kRtpHeaderSize = 12;          // RFC 3550 §5.1, no CSRC, no extension
inline constexpr std::size_t kVp8DescriptorSize = 4;       // required octet, X octet, 15-bit PictureID
inline constexpr std::size_t kVp8KeyframeHeaderSize = 10;  // RFC 6386 §9.1: frame tag, start code, sizes
inline constexpr std::size_t kVp8InterHeaderSize = 3;      // RFC 6386 §9.1: frame tag only
inline constexpr std::size_t kStampOffset = 16;            // after descriptor + key frame header, aligned
inline constexpr std::size_t kStampSize = 16;              // send time (8), publisher (4), packet index (4)
inline constexpr std::size_t kMinPacketSize = kRtpHeaderSize + kStampOffset + kStampSize;
inline constexpr std::size_t kMaxPacketSize = 1400;       // stays under a 1,500-octet MTU with the SRTP tag
inline constexpr std::uint32_t kVideoClockRate = 90'000;  // RFC 7741 §6.1: VP8 uses a 90 kHz clock
inline constexpr std::uint8_t kVp8PayloadType = 96;

struct PayloadStamp {
  std::uint64_t send_ns = 0;  // CLOCK_REALTIME, to compare with the kernel's SO_TIMESTAMPNS
  std::uint32_t publisher = 0;
  std::uint32_t index = 0;  // the publisher's packet count, from 0
  bool operator==(const PayloadStamp&) const = default;
};

struct Vp8StreamSettings {
  std::uint32_t ssrc = 0;
  std::uint16_t first_sequence = 0;
  std::uint32_t first_timestamp = 0;
  std::uint16_t first_picture_id = 0;  // 15 bits used
  std::uint32_t packets_per_frame = 1;
  std::uint32_t ticks_per_frame = 3000;  // 90 kHz ticks: 3000 = 30 frames/s
  std::uint16_t width = 1280;            // 14 bits used
  std::uint16_t height = 720;
  std::size_t packet_size = 1200;  // RTP header + payload, before SRTP's tag
};

// Packets per frame and 90 kHz ticks per frame for `rate` packets/s at about `fps` frames/s, so
// that the timestamps follow the pacing: packets_per_frame = max(1, rate / fps) and
// ticks_per_frame = 90,000 × packets_per_frame / rate (at least 1).
struct FrameShape {
  std::uint32_t packets_per_frame = 1;
  std::uint32_t ticks_per_frame = 1;
};
[[nodiscard]] FrameShape frame_shape(double rate, double fps) noexcept;

// One publisher's synthetic VP8 stream.
class Vp8Packetizer {
 public:
  // nullopt when the settings cannot be sent: packet_size outside kMinPacketSize..kMaxPacketSize,
  // or zero packets or ticks per frame.
  static std::optional<Vp8Packetizer> create(const Vp8StreamSettings& settings) noexcept;

  // The next frame to start is a key frame (a PLI or FIR asked for one).
  void request_keyframe() noexcept { keyframe_pending_ = true; }

  // Writes the next packet into `out` with `stamp` in its payload; its size (settings.packet_size),
  // or nullopt when `out` is too small (nothing is consumed then).
  std::optional<std::size_t> next(std::span<std::uint8_t> out, const PayloadStamp& stamp) noexcept;

  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }
  [[nodiscard]] std::uint64_t keyframes() const noexcept { return keyframes_; }
  [[nodiscard]] std::uint64_t packets() const noexcept { return packets_; }
  [[nodiscard]] const Vp8StreamSettings& settings() const noexcept { return settings_; }

 private:
  explicit Vp8Packetizer(const Vp8StreamSettings& settings) noexcept;

  Vp8StreamSettings settings_;
  std::uint16_t sequence_;
  std::uint32_t timestamp_;
  std::uint16_t picture_id_;
  std::uint32_t packet_in_frame_ = 0;
  bool keyframe_pending_ = true;  // the first frame is a key frame
  bool frame_is_key_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t keyframes_ = 0;
  std::uint64_t packets_ = 0;
};

enum class PayloadError : std::uint8_t {
  kNotVp8,    // the payload descriptor does not parse (RFC 7741 §4.2)
  kTooShort,  // no room for the stamp: not one of our packets
};
[[nodiscard]] std::string_view to_string(PayloadError error) noexcept;

struct InspectedPayload {
  PayloadStamp stamp;
  bool keyframe = false;  // the packet begins a key frame (RFC 7741 §4.3)
  std::optional<std::uint16_t> picture_id;
};

// A forwarded packet's (decrypted) RTP payload: VP8 descriptor walked, stamp read.
[[nodiscard]] std::expected<InspectedPayload, PayloadError> inspect_payload(
    std::span<const std::uint8_t> payload) noexcept;

// One slot's packets by sequence number over a measurement window. The 16-bit number is extended
// against the highest seen (RFC 3550 §A.1): up to 32,767 ahead is a gap (lost packets), up to
// kMaxMisorder behind is reordered or a duplicate, further behind restarts the count (the sender
// restarted; the numbers counted so far are kept).
inline constexpr std::size_t kSequenceHistory = 4096;  // duplicates detected this far back
class SequenceTracker {
 public:
  static constexpr std::int64_t kMaxMisorder = 3000;  // < kSequenceHistory: every reorder is checked

  // Counts from the next packet on: the start of the window.
  void reset() noexcept;
  void on_packet(std::uint16_t sequence) noexcept;

  // Numbers from the window's first to its highest: what should have arrived.
  [[nodiscard]] std::uint64_t expected() const noexcept;
  [[nodiscard]] std::uint64_t received() const noexcept {  // distinct numbers
    return received_before_restart_ + received_;
  }
  [[nodiscard]] std::uint64_t duplicates() const noexcept { return duplicates_; }
  [[nodiscard]] std::uint64_t reordered() const noexcept { return reordered_; }  // arrived after a higher one
  [[nodiscard]] std::uint64_t lost() const noexcept;                             // expected − received, ≥ 0
  [[nodiscard]] std::uint64_t restarts() const noexcept { return restarts_; }
  [[nodiscard]] std::optional<std::int64_t> highest() const noexcept {
    return started_ ? std::optional(highest_) : std::nullopt;
  }

 private:
  void start(std::int64_t extended) noexcept;

  bool started_ = false;
  std::int64_t first_ = 0;    // extended number of the window's first packet
  std::int64_t highest_ = 0;  // extended highest number
  std::uint64_t received_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t expected_before_restart_ = 0;  // windows closed by restarts
  std::uint64_t received_before_restart_ = 0;
  std::bitset<kSequenceHistory> seen_;  // bit (extended % kSequenceHistory) for numbers near highest_
};

// What one RTCP compound (decrypted) asks of a publisher.
struct FeedbackSeen {
  unsigned pli = 0;      // RFC 4585 §6.3.1
  unsigned fir = 0;      // RFC 5104 §4.3.1, entries naming `media_ssrc`
  unsigned nack = 0;     // RFC 4585 §6.2.1 generic NACK packets
  unsigned reports = 0;  // SR/RR
  unsigned other = 0;    // anything else (SDES, BYE, REMB, ...)
};

// nullopt when `compound` is not valid RTCP (RFC 3550 §A.2, RFC 5506). PLI and NACK count when
// they name `media_ssrc` (0: any), FIR when one of its entries does.
[[nodiscard]] std::optional<FeedbackSeen> scan_feedback(std::span<const std::uint8_t> compound,
                                                        std::uint32_t media_ssrc) noexcept;

}  // namespace chorus::bench
