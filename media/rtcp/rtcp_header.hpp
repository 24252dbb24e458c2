// RtcpHeader and CompoundView: one RTCP packet's common header, and the walk over a compound
// packet (RFC 3550 §6.1, validity checks of Appendix A.2; reduced-size RTCP of RFC 5506 §3).
//
// Both are views: they borrow the datagram and never copy it, so the buffer must outlive them.
// Every length is checked when the view is made; nothing here throws or reads past the buffer.
// Threading: plain values, no shared state; use them on the thread that owns the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>

namespace chorus::media::rtcp {

// RFC 3550 §12.1 and RFC 4585 §6.1 packet types.
enum class PacketType : std::uint8_t {
  kSr = 200,
  kRr = 201,
  kSdes = 202,
  kBye = 203,
  kApp = 204,
  kRtpfb = 205,
  kPsfb = 206,
};

inline constexpr std::size_t kHeaderSize = 4;
inline constexpr std::uint8_t kVersion = 2;
// RFC 5761 §4: RTCP packet types live in 192..223 so they never collide with RTP payload types.
inline constexpr std::uint8_t kMinPacketType = 192;
inline constexpr std::uint8_t kMaxPacketType = 223;
// RFC 3550 §6.4.1: RC, SC and FMT are 5-bit fields.
inline constexpr std::uint8_t kMaxCount = 31;

class RtcpHeader {
 public:
  // Parses the packet at the front of `data`: version 2, packet type in 192..223, length field
  // within `data` and, if the P bit is set, a padding count between 1 and the body size.
  static std::optional<RtcpHeader> parse(std::span<const std::uint8_t> data);

  // RC (SR/RR), SC (SDES/BYE), subtype (APP) or FMT (RTPFB/PSFB): the 5 low bits of octet 0.
  [[nodiscard]] std::uint8_t count() const { return packet_[0] & 0x1F; }
  [[nodiscard]] std::uint8_t fmt() const { return count(); }
  [[nodiscard]] std::uint8_t raw_type() const { return packet_[1]; }
  [[nodiscard]] bool is(PacketType type) const { return raw_type() == static_cast<std::uint8_t>(type); }
  [[nodiscard]] bool has_padding() const { return (packet_[0] & 0x20) != 0; }
  // Whole packet, header and padding included: (length + 1) * 4 octets.
  [[nodiscard]] std::size_t size() const { return packet_.size(); }
  [[nodiscard]] std::span<const std::uint8_t> packet() const { return packet_; }
  // The octets after the 4-octet header, padding removed.
  [[nodiscard]] std::span<const std::uint8_t> body() const {
    return packet_.subspan(kHeaderSize, packet_.size() - kHeaderSize - padding_size_);
  }

 private:
  RtcpHeader(std::span<const std::uint8_t> packet, std::size_t padding_size)
      : packet_(packet), padding_size_(padding_size) {}
  std::span<const std::uint8_t> packet_;
  std::size_t padding_size_;
};

// Writes the 4-octet common header for a packet of `packet_size` octets (a multiple of 4, at
// most 65536 * 4). Returns false when `out` is too short or the size cannot be encoded.
bool write_header(std::span<std::uint8_t> out, std::uint8_t count, std::uint8_t type, std::size_t packet_size);

// A validated compound packet. `parse` walks it once and accepts it only if every packet is
// well formed and the packets tile the datagram exactly; iterating afterwards cannot fail.
class CompoundView {
 public:
  // RFC 3550 A.2: version 2, padding only in the last packet, lengths summing to the datagram.
  // A compound that starts with SR or RR is a full compound; anything else is reduced-size
  // RTCP (RFC 5506 §3.1: e.g. a lone feedback message), which is also accepted.
  static std::optional<CompoundView> parse(std::span<const std::uint8_t> datagram);

  class Iterator {
   public:
    using value_type = RtcpHeader;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    explicit Iterator(std::span<const std::uint8_t> rest) : rest_(rest) {}
    RtcpHeader operator*() const { return *RtcpHeader::parse(rest_); }
    Iterator& operator++() {
      rest_ = rest_.subspan((*(*this)).size());
      return *this;
    }
    Iterator operator++(int) {
      Iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const Iterator& other) const { return rest_.size() == other.rest_.size(); }

   private:
    std::span<const std::uint8_t> rest_;
  };

  [[nodiscard]] Iterator begin() const { return Iterator(datagram_); }
  [[nodiscard]] Iterator end() const { return Iterator(datagram_.last(0)); }
  [[nodiscard]] bool reduced_size() const { return reduced_size_; }
  [[nodiscard]] std::size_t packet_count() const { return packet_count_; }

 private:
  CompoundView(std::span<const std::uint8_t> datagram, bool reduced_size, std::size_t packet_count)
      : datagram_(datagram), reduced_size_(reduced_size), packet_count_(packet_count) {}
  std::span<const std::uint8_t> datagram_;
  bool reduced_size_;
  std::size_t packet_count_;
};

}  // namespace chorus::media::rtcp
