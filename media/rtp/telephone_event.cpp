#include "media/rtp/telephone_event.hpp"

namespace chorus::media {

namespace {

// RFC 4733 §2.5.1.3: a press longer than the 16-bit duration field can express is sent as
// segments; each new segment starts where the previous one reached the maximum duration.
constexpr std::uint32_t kMaxSegmentDuration = 0xFFFF;

constexpr std::uint8_t kEndBit = 0x80;      // §2.3.2
constexpr std::uint8_t kVolumeMask = 0x3F;  // §2.3.4 (bit 0x40 is R, reserved: §2.3.3)

}  // namespace

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) noexcept {
  if (payload.size() < kTelephoneEventSize) return std::nullopt;
  TelephoneEvent event;
  event.event = payload[0];
  event.end = (payload[1] & kEndBit) != 0;
  event.volume = payload[1] & kVolumeMask;
  event.duration = static_cast<std::uint16_t>((std::uint16_t{payload[2]} << 8) | payload[3]);
  return event;
}

std::optional<char> dtmf_digit(std::uint8_t event) noexcept {
  if (event <= 9) return static_cast<char>('0' + event);
  switch (event) {
    case 10:
      return '*';
    case 11:
      return '#';
    case 12:
    case 13:
    case 14:
    case 15:
      return static_cast<char>('A' + (event - 12));
    default:
      return std::nullopt;
  }
}

TelephoneEventDetector::Seen* TelephoneEventDetector::find(std::uint32_t timestamp) noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    if (seen_[i].timestamp == timestamp) return &seen_[i];
  }
  return nullptr;
}

// §2.5.1.3: the next segment of a long press has the same event code, a timestamp exactly the
// maximum duration after the previous segment's, and follows a segment that never ended.
bool TelephoneEventDetector::continues_latest(std::uint32_t timestamp, std::uint8_t event) const noexcept {
  if (count_ == 0) return false;
  const Seen& latest = seen_[latest_];
  return !latest.ended && latest.event == event &&
         static_cast<std::uint32_t>(timestamp - latest.timestamp) == kMaxSegmentDuration;
}

std::optional<char> TelephoneEventDetector::on_packet(std::uint32_t rtp_timestamp,
                                                      std::span<const std::uint8_t> payload) noexcept {
  const auto event = parse_telephone_event(payload);
  if (!event) return std::nullopt;
  // §2.5.1.1: every packet of one event (updates, the repeated end packets) carries its start
  // timestamp, so a timestamp already seen is a press already handled.
  if (Seen* known = find(rtp_timestamp)) {
    known->ended = known->ended || event->end;
    return std::nullopt;
  }
  const bool continuation = continues_latest(rtp_timestamp, event->event);
  // Remember the new event (or segment) in the oldest slot once the ring is full.
  latest_ = count_ < kRememberedEvents ? count_++ : (latest_ + 1) % kRememberedEvents;
  seen_[latest_] = Seen{rtp_timestamp, event->event, event->end};
  if (continuation) return std::nullopt;
  return dtmf_digit(event->event);
}

void TelephoneEventDetector::reset() noexcept {
  count_ = 0;
  latest_ = 0;
}

}  // namespace chorus::media
