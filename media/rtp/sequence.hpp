// Serial-number arithmetic for RTP's 16-bit sequence numbers and 32-bit timestamps, which wrap
// (RFC 3550 §5.1, Appendix A.1), and unwrappers that extend them to 64 bits so a jitter buffer,
// a NACK list or a loss counter can compare and subtract them like ordinary integers.
//
// Threading: plain values; an unwrapper belongs to the thread that owns its stream.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>

namespace chorus::media {

template <typename T>
concept RtpSerial = std::same_as<T, std::uint16_t> || std::same_as<T, std::uint32_t>;

// True when `a` comes after `b` in serial order: the forward distance from b to a is less than
// half the number space (RFC 3550 A.1 reasons the same way with MAX_DROPOUT). Exactly half is
// ambiguous; the larger raw value is taken as newer so that is_newer(a, b) != is_newer(b, a)
// whenever a != b. Both arguments must have the same type: a promoted int would break the wrap.
template <RtpSerial T>
[[nodiscard]] constexpr bool is_newer(T a, T b) noexcept {
  constexpr T kHalf = static_cast<T>(T{1} << (std::numeric_limits<T>::digits - 1));
  const T forward = static_cast<T>(a - b);
  if (forward == kHalf) return a > b;
  return forward != 0 && forward < kHalf;
}

// The later of two serials in wrap-aware order.
template <RtpSerial T>
[[nodiscard]] constexpr T latest(T a, T b) noexcept {
  return is_newer(a, b) ? a : b;
}

// Extends a stream of wrapping serials to 64 bits. Each value is placed at the position nearest
// the last one unwrapped: a step forward past the wrap (65535 → 0) adds a cycle, a reordered
// packet from before the wrap (0 then 65535) goes back one. The first value is taken as is, so a
// packet older than the first across a wrap comes out negative, which still orders correctly.
template <RtpSerial T>
class Unwrapper {
 public:
  [[nodiscard]] std::int64_t unwrap(T value) noexcept {
    if (!last_) {
      last_ = value;
      return *last_;
    }
    const T last_raw = static_cast<T>(*last_);
    if (is_newer(value, last_raw)) {
      *last_ += static_cast<T>(value - last_raw);
    } else {
      *last_ -= static_cast<T>(last_raw - value);
    }
    return *last_;
  }

  // The value unwrap() would return, without moving the reference point.
  [[nodiscard]] std::int64_t peek(T value) const noexcept {
    Unwrapper copy = *this;
    return copy.unwrap(value);
  }

  [[nodiscard]] std::optional<std::int64_t> last() const noexcept { return last_; }
  void reset() noexcept { last_.reset(); }

 private:
  std::optional<std::int64_t> last_;
};

using SequenceUnwrapper = Unwrapper<std::uint16_t>;   // RFC 3550 §5.1 sequence number
using TimestampUnwrapper = Unwrapper<std::uint32_t>;  // RFC 3550 §5.1 timestamp

}  // namespace chorus::media
