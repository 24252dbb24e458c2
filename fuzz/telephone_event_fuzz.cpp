// libFuzzer target for the RFC 4733 telephone-event parser and TelephoneEventDetector
// (media/rtp/telephone_event), which read every DTMF packet a caller sends.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/telephone_event_fuzz.cpp \
//     media/rtp/telephone_event.cpp
//   ./a.out -max_total_time=60
//
// The input is a sequence of packets, each a 4-byte RTP timestamp, a length byte and that many
// payload bytes (the last packet takes what is left). Besides crashes it checks:
//   - the parser accepts exactly the payloads of at least 4 bytes and reads the fields from the
//     first block's bytes (volume within 6 bits);
//   - dtmf_digit maps exactly events 0..15, to the RFC 4733 §3.2 characters;
//   - the detector (a fixed ring of recent events) reports exactly what a plain deque-based model
//     of the same rule reports, only DTMF keys of parseable packets, and never the same packet
//     twice in a row; a length byte of 0xFF resets both first.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "media/rtp/telephone_event.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_parse(std::span<const std::uint8_t> payload) {
  const auto event = parse_telephone_event(payload);
  check(event.has_value() == (payload.size() >= kTelephoneEventSize));
  if (!event) return;
  check(event->event == payload[0]);
  check(event->end == ((payload[1] & 0x80) != 0));
  check(event->volume <= 63 && event->volume == (payload[1] & 0x3F));
  check(event->duration == ((payload[2] << 8) | payload[3]));

  constexpr std::string_view kKeys = "0123456789*#ABCD";
  const auto digit = dtmf_digit(event->event);
  check(digit.has_value() == (event->event < kKeys.size()));
  if (digit) check(*digit == kKeys[event->event]);
}

// The detector's rule written the plain way (a deque, newest last), to check the fixed ring
// against: the same reports, in the same order, for every packet sequence.
class ReferenceDetector {
 public:
  std::optional<char> on_packet(std::uint32_t timestamp, std::span<const std::uint8_t> payload) {
    const auto event = parse_telephone_event(payload);
    if (!event) return std::nullopt;
    for (Seen& seen : recent_) {
      if (seen.timestamp == timestamp) {
        seen.ended = seen.ended || event->end;
        return std::nullopt;
      }
    }
    const bool continuation = !recent_.empty() && !recent_.back().ended && recent_.back().event == event->event &&
                              static_cast<std::uint32_t>(timestamp - recent_.back().timestamp) == 0xFFFF;
    recent_.push_back({timestamp, event->event, event->end});
    if (recent_.size() > TelephoneEventDetector::kRememberedEvents) recent_.pop_front();
    return continuation ? std::nullopt : dtmf_digit(event->event);
  }
  void reset() { recent_.clear(); }

 private:
  struct Seen {
    std::uint32_t timestamp;
    std::uint8_t event;
    bool ended;
  };
  std::deque<Seen> recent_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input{data, size};
  TelephoneEventDetector detector;
  ReferenceDetector reference;
  std::size_t offset = 0;
  // Each packet consumes at least 5 bytes, so the loop ends within size / 5 rounds.
  while (input.size() - offset >= 5) {
    const std::uint32_t timestamp = (std::uint32_t{input[offset]} << 24) | (std::uint32_t{input[offset + 1]} << 16) |
                                    (std::uint32_t{input[offset + 2]} << 8) | std::uint32_t{input[offset + 3]};
    const std::size_t wanted = input[offset + 4];
    offset += 5;
    const std::size_t length = std::min(wanted, input.size() - offset);
    // An exact-size heap copy: ASan then flags a read one byte past the payload.
    const std::vector<std::uint8_t> payload(input.begin() + static_cast<std::ptrdiff_t>(offset),
                                            input.begin() + static_cast<std::ptrdiff_t>(offset + length));
    offset += length;
    check_parse(payload);

    // A length byte of 0xFF also resets the detector first (as for a new SSRC).
    if (wanted == 0xFF) {
      detector.reset();
      reference.reset();
    }
    const auto reported = detector.on_packet(timestamp, payload);
    check(reported == reference.on_packet(timestamp, payload));
    if (reported) {
      const auto event = parse_telephone_event(payload);
      check(event.has_value() && dtmf_digit(event->event) == reported);
    }
    // The same packet again (a duplicate or a repeated end packet) is never a new press.
    check(!detector.on_packet(timestamp, payload).has_value());
    check(!reference.on_packet(timestamp, payload).has_value());
  }
  return 0;
}
