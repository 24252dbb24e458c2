// CompoundBuilder: appends RTCP packets one after another into a caller's buffer (RFC 3550 §6.1),
// and write_minimal_compound for the smallest compound RFC 3550 allows: SR or RR, then SDES CNAME.
// Threading: a builder is a plain value over one buffer; use it from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"

namespace chorus::media::rtcp {

class CompoundBuilder {
 public:
  explicit CompoundBuilder(std::span<std::uint8_t> out) : out_(out) {}

  // Appends any packet type with `write(span) -> optional<size_t>`. Once an append fails (the
  // buffer is full or the packet cannot be encoded) the builder stays failed.
  template <class Packet>
  bool add(const Packet& packet) {
    if (failed_) return false;
    const auto written = packet.write(out_.subspan(size_));
    if (!written) {
      failed_ = true;
      return false;
    }
    size_ += *written;
    return true;
  }

  // Octets written so far, or nullopt if nothing was written or any add failed.
  [[nodiscard]] std::optional<std::size_t> finish() const {
    if (failed_ || size_ == 0) return std::nullopt;
    return size_;
  }

 private:
  std::span<std::uint8_t> out_;
  std::size_t size_ = 0;
  bool failed_ = false;
};

// RFC 3550 §6.1: each compound starts with a report and carries an SDES with a CNAME for the
// reporter's SSRC. Returns the compound size, or nullopt when it does not fit or cname > 255 octets.
std::optional<std::size_t> write_minimal_compound(const ReceiverReport& report, std::string_view cname,
                                                  std::span<std::uint8_t> out);
std::optional<std::size_t> write_minimal_compound(const SenderReport& report, std::string_view cname,
                                                  std::span<std::uint8_t> out);

}  // namespace chorus::media::rtcp
