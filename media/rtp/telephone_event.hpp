// RFC 4733 telephone-events: the payload that carries DTMF key presses in RTP ("RFC 2833 DTMF"),
// and a detector that turns the stream of event packets into one report per key press.
//
// A press is sent as a burst of packets sharing one RTP timestamp, the event's start (RFC 4733
// §2.5.1.1): the first with the initial duration, updates with a growing duration while the key is
// held, and the final packet with the E bit, sent three times (§2.5.1.4). TelephoneEventDetector
// reports the press when the first packet of a new timestamp arrives, so a lost start, lost
// updates, the repeated end packets and reordered stragglers of an earlier press all give exactly
// one report.
//
// The parser reads 4 bytes after checking the length; nothing allocates, nothing throws.
// Threading: parse_telephone_event and dtmf_digit are pure; a detector belongs to the media worker
// thread that owns the participant's stream (one detector per received SSRC).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace chorus::media {

// RFC 4733 §2.3: one 4-byte event block.
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   |     event     |E|R| volume    |          duration             |
struct TelephoneEvent {
  std::uint8_t event = 0;      // §2.3.1: event code (§3.2: 0..15 are the DTMF keys)
  bool end = false;            // §2.3.2: E bit, the last packet(s) of the event
  std::uint8_t volume = 0;     // §2.3.4: power level in -dBm0, 0..63 (the R bit is ignored, §2.3.3)
  std::uint16_t duration = 0;  // §2.3.5: in RTP timestamp units, from the event's start
};

inline constexpr std::size_t kTelephoneEventSize = 4;  // RFC 4733 §2.3

// nullopt when the payload is shorter than one event block. RFC 4733 §2.5.1.5 lets a sender pack
// several event blocks into one packet (§2.5.2.4 for the receiver), e.g. to repeat events for
// redundancy; only the first block is read and the rest is ignored, so a payload longer than one
// block is not an error, and a press carried only in a later block is not seen.
[[nodiscard]] std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) noexcept;

// RFC 4733 §3.2: events 0..9 are '0'..'9', 10 '*', 11 '#', 12..15 'A'..'D'. Any other event
// (16 flash, the tones of §4) is not a DTMF key: nullopt.
[[nodiscard]] std::optional<char> dtmf_digit(std::uint8_t event) noexcept;

class TelephoneEventDetector {
 public:
  // How many recent events are remembered to recognise their late packets. RFC 4733 §2.5.1.4
  // repeats the end packet three times, typically 20..50 ms apart, so a straggler can follow the
  // start of the next press or two; eight presses back is ample.
  static constexpr std::size_t kRememberedEvents = 8;

  // The digit when this packet starts a new DTMF key press, nullopt otherwise: a packet of a press
  // already reported (same RTP timestamp), a continuation segment of a long press (§2.5.1.3), a
  // payload too short to parse, or a non-DTMF event (which is still remembered).
  [[nodiscard]] std::optional<char> on_packet(std::uint32_t rtp_timestamp,
                                              std::span<const std::uint8_t> payload) noexcept;

  // Forgets every event, e.g. when the sender's SSRC changes and its timestamps start afresh.
  void reset() noexcept;

 private:
  struct Seen {
    std::uint32_t timestamp = 0;
    std::uint8_t event = 0;
    bool ended = false;
  };

  [[nodiscard]] Seen* find(std::uint32_t timestamp) noexcept;
  [[nodiscard]] bool continues_latest(std::uint32_t timestamp, std::uint8_t event) const noexcept;

  std::array<Seen, kRememberedEvents> seen_{};
  std::size_t count_ = 0;   // valid entries in seen_, up to kRememberedEvents
  std::size_t latest_ = 0;  // index of the most recently started event (when count_ > 0)
};

}  // namespace chorus::media
