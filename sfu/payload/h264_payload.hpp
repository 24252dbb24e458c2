// H264Payload: a view over one H.264 RTP payload (RFC 6184) in the non-interleaved modes an SFU
// negotiates (packetization-mode 0 and 1): a single NAL unit (§5.6), a STAP-A aggregate (§5.7.1)
// or an FU-A fragment (§5.8). The SFU needs to know whether a packet starts a picture it can
// switch to, never the picture itself.
//
//   NAL unit header (§5.3):   |F|NRI|  Type   |
//   STAP-A (§5.7.1):          [header type 24] { [16-bit NALU size] [NAL unit] } ...
//   FU-A (§5.8):              [FU indicator type 28] [FU header |S|E|R| Type |] [fragment]
//
// parse() walks every aggregation unit once and refuses the packet unless each size lies
// inside the payload and each unit holds at least its header, so the NAL unit range it hands out
// afterwards cannot step outside the buffer. STAP-B, MTAP and FU-B belong to the interleaved
// mode (§6.4) and are refused, as are the undefined types 0, 30 and 31 (§5.2), aggregates or
// fragments nested in an aggregate or fragment (§5.7, §5.8), and an FU with both S and E set
// (§5.8). The F bit is not checked: §5.3 lets a receiver pass such units on. Nothing is copied,
// allocated or thrown. The view refers to the caller's buffer.
//
// Threading: none of its own; a packet belongs to the media worker that received it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>

namespace chorus::sfu {

// ITU-T H.264 Table 7-1 and RFC 6184 §5.2 Table 1: the NAL unit types the SFU reasons about.
// A value of any other type (0..31) is still representable.
enum class H264NalType : std::uint8_t {
  kSlice = 1,  // coded slice of a non-IDR picture
  kIdr = 5,    // coded slice of an IDR picture: decoding can start here
  kSei = 6,
  kSps = 7,  // sequence parameter set
  kPps = 8,  // picture parameter set
  kAud = 9,  // access unit delimiter
  kStapA = 24,
  kStapB = 25,
  kMtap16 = 26,
  kMtap24 = 27,
  kFuA = 28,
  kFuB = 29,
};

enum class H264Packetization : std::uint8_t { kSingleNalUnit, kStapA, kFuA };

enum class H264Error : std::uint8_t {
  kEmpty,                     // no payload
  kUndefinedType,             // NAL unit type 0, 30 or 31 (§5.2: receivers ignore them)
  kInterleavedPacketization,  // STAP-B, MTAP16/24, FU-B: packetization-mode 2 only (§6.4)
  kTruncatedAggregate,        // a STAP-A size field or unit runs past the payload
  kEmptyAggregate,            // a STAP-A with no unit, or a unit of size 0
  kNestedPacketization,       // an aggregate or fragment inside a STAP-A or an FU-A
  kTruncatedFragment,         // an FU-A without its FU header
  kFragmentStartAndEnd,       // §5.8: S and E MUST NOT both be set
  kNotSps,                    // parse_h264_sps: the NAL unit is not of type 7
  kTruncatedSps,              // the SPS ends before the fields the SFU reads
  kInvalidSps,                // an SPS field outside its range (H.264 §7.4.2.1.1)
};
[[nodiscard]] std::string_view to_string(H264Error error) noexcept;

// The NAL units one payload carries whole: the single NAL unit, or each STAP-A unit in order
// (an FU-A fragment carries none). Sizes were checked by H264Payload::parse.
class H264NalUnits {
 public:
  class Iterator {
   public:
    using value_type = std::span<const std::uint8_t>;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    [[nodiscard]] value_type operator*() const noexcept;
    Iterator& operator++() noexcept;
    Iterator operator++(int) noexcept {
      Iterator before = *this;
      ++*this;
      return before;
    }
    bool operator==(const Iterator& other) const noexcept { return rest_.data() == other.rest_.data(); }

   private:
    friend class H264NalUnits;
    Iterator(std::span<const std::uint8_t> rest, bool aggregated) noexcept : rest_(rest), aggregated_(aggregated) {}
    std::span<const std::uint8_t> rest_;  // from the current unit (or its size field) to the end
    bool aggregated_ = false;
  };

  [[nodiscard]] Iterator begin() const noexcept { return Iterator{units_, aggregated_}; }
  [[nodiscard]] Iterator end() const noexcept { return Iterator{units_.subspan(units_.size()), aggregated_}; }
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }

 private:
  friend class H264Payload;
  H264NalUnits(std::span<const std::uint8_t> units, bool aggregated, std::size_t count) noexcept
      : units_(units), aggregated_(aggregated), count_(count) {}
  std::span<const std::uint8_t> units_;
  bool aggregated_ = false;
  std::size_t count_ = 0;
};
static_assert(std::forward_iterator<H264NalUnits::Iterator>);

class H264Payload {
 public:
  static constexpr std::size_t kStapASizeFieldSize = 2;  // §5.7.1: 16-bit NALU size
  static constexpr std::size_t kFuAHeaderSize = 2;       // §5.8: FU indicator + FU header

  [[nodiscard]] static std::expected<H264Payload, H264Error> parse(std::span<const std::uint8_t> payload) noexcept;

  [[nodiscard]] H264Packetization packetization() const noexcept { return packetization_; }
  // The type of the NAL unit the packet is about: the single unit's type, an FU-A's original
  // (fragmented) unit's type, or kStapA for an aggregate (whose units nal_units() gives).
  [[nodiscard]] H264NalType nal_type() const noexcept;
  // §5.3 NRI of the packet's own header (for an FU-A, the indicator's copy of the original's).
  [[nodiscard]] std::uint8_t nal_ref_idc() const noexcept { return (payload_[0] >> 5) & 0x03; }

  // §5.8: the first and the last fragment of a NAL unit; false unless FU-A.
  [[nodiscard]] bool fragment_start() const noexcept;
  [[nodiscard]] bool fragment_end() const noexcept;

  [[nodiscard]] H264NalUnits nal_units() const noexcept;

  // The packet starts an IDR picture or carries an SPS: a single NAL unit of type 5 or 7, any
  // such unit in a STAP-A, or the start fragment of such an FU-A. A receiver can begin decoding
  // here (with the SPS/PPS the sender puts before its IDR slices).
  [[nodiscard]] bool is_keyframe() const noexcept;
  // The first whole SPS NAL unit in the packet, header included.
  [[nodiscard]] std::optional<std::span<const std::uint8_t>> find_sps() const noexcept;

 private:
  H264Payload(std::span<const std::uint8_t> payload, H264Packetization packetization, std::size_t unit_count) noexcept
      : payload_(payload), packetization_(packetization), unit_count_(unit_count) {}

  std::span<const std::uint8_t> payload_;
  H264Packetization packetization_ = H264Packetization::kSingleNalUnit;
  std::size_t unit_count_ = 0;
};

// The type of a NAL unit from its first byte (§5.3).
[[nodiscard]] constexpr H264NalType h264_nal_type(std::uint8_t header) noexcept {
  return static_cast<H264NalType>(header & 0x1F);
}

// What a decoder may be given (the video MCU, issue 11): the payload parses (every STAP-A unit's
// size checked, §5.7.1) and every NAL unit in it is one a camera's encoder makes — a slice (1), an
// IDR slice (5), SEI (6), SPS (7), PPS (8) or an access unit delimiter (9); an FU-A carries a slice
// or SEI; an SPS parses and its picture is at most kMaxCameraWidth × kMaxCameraHeight
// (camera_limits.hpp). Anything else (auxiliary or extension slices, reserved types, nested
// aggregates, a 4K stream) is not decoded: GStreamer 1.22's rtph264depay crashed on such input
// (fuzz/video_decode_fuzz).
[[nodiscard]] bool is_camera_h264_payload(std::span<const std::uint8_t> payload) noexcept;

}  // namespace chorus::sfu
