#include "sfu/stream_rewriter.hpp"

#include <algorithm>

namespace chorus::sfu {

namespace {

// Beyond this the pause is clamped before it is turned into ticks (no overflow at any clock
// rate); kMaxSwitchTimestampStep bounds the result anyway.
constexpr std::chrono::hours kMaxPause{24};

std::uint32_t switch_timestamp_step(std::chrono::steady_clock::duration pause, std::uint32_t clock_rate) {
  const auto clamped = std::clamp<std::chrono::steady_clock::duration>(pause, {}, kMaxPause);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(clamped).count();
  const std::int64_t ticks = micros * static_cast<std::int64_t>(clock_rate) / 1'000'000;
  return static_cast<std::uint32_t>(std::clamp<std::int64_t>(ticks, 1, StreamRewriter::kMaxSwitchTimestampStep));
}

}  // namespace

std::string_view to_string(RewriteDrop drop) noexcept {
  switch (drop) {
    case RewriteDrop::kNoSource:
      return "no source yet";
    case RewriteDrop::kNotCurrentSource:
      return "not the current source";
    case RewriteDrop::kBeforeSwitchPoint:
      return "older than the switch point";
  }
  return "unknown";
}

StreamRewriter::StreamRewriter(StreamRewriterConfig config) noexcept : config_(config) {}

std::expected<StreamRewriter::Output, RewriteDrop> StreamRewriter::rewrite(const Input& input) noexcept {
  if (!current_ || current_->key != input.source) {
    if (!input.switch_point) {
      if (!current_) {
        ++counters_.dropped_no_source;
        return std::unexpected(RewriteDrop::kNoSource);
      }
      ++counters_.dropped_not_current_source;
      return std::unexpected(RewriteDrop::kNotCurrentSource);
    }
    switch_to(input);
    return forward(input, true);
  }
  if (current_->unwrapper.unwrap(input.sequence_number) < current_->switch_point) {
    ++counters_.dropped_before_switch_point;
    return std::unexpected(RewriteDrop::kBeforeSwitchPoint);
  }
  return forward(input, false);
}

void StreamRewriter::switch_to(const Input& input) noexcept {
  std::uint16_t first_sequence_number = config_.initial_sequence_number;
  std::uint32_t first_timestamp = config_.initial_timestamp;
  std::int64_t first_outgoing = first_sequence_number;
  if (sent_any_) {
    first_sequence_number = static_cast<std::uint16_t>(newest_sequence_number_ + 1);
    first_timestamp =
        newest_timestamp_ + switch_timestamp_step(input.arrival - newest_timestamp_first_sent_, config_.clock_rate);
    first_outgoing = newest_outgoing_ + 1;
  }

  CurrentSource next;
  next.key = input.source;
  next.sequence_offset = static_cast<std::uint16_t>(first_sequence_number - input.sequence_number);
  next.timestamp_offset = first_timestamp - input.timestamp;
  next.switch_point = next.unwrapper.unwrap(input.sequence_number);
  current_ = next;
  ++counters_.switches;

  segments_[next_segment_] = Segment{input.source, first_outgoing, next.sequence_offset};
  next_segment_ = (next_segment_ + 1) % kMaxSegments;
  segment_count_ = std::min(segment_count_ + 1, kMaxSegments);
}

StreamRewriter::Output StreamRewriter::forward(const Input& input, bool switched) noexcept {
  const auto sequence_number = static_cast<std::uint16_t>(input.sequence_number + current_->sequence_offset);
  const std::uint32_t timestamp = input.timestamp + current_->timestamp_offset;
  const std::int64_t outgoing = out_unwrapper_.unwrap(sequence_number);
  if (!sent_any_ || outgoing > newest_outgoing_) {
    newest_outgoing_ = outgoing;
    newest_sequence_number_ = sequence_number;
  }
  if (!sent_any_ || media::is_newer(timestamp, newest_timestamp_)) {
    newest_timestamp_ = timestamp;
    newest_timestamp_first_sent_ = input.arrival;
  }
  sent_any_ = true;
  ++counters_.forwarded;
  return Output{sequence_number, timestamp, switched};
}

std::optional<StreamRewriter::SourcePacket> StreamRewriter::source_of(
    std::uint16_t outgoing_sequence_number) const noexcept {
  if (!sent_any_) return std::nullopt;
  const std::int64_t outgoing = out_unwrapper_.peek(outgoing_sequence_number);
  if (outgoing > newest_outgoing_) return std::nullopt;
  // Newest segment first: the first one starting at or before the number is the one that sent it.
  for (std::size_t i = 1; i <= segment_count_; ++i) {
    const Segment& segment = segments_[(next_segment_ + kMaxSegments - i) % kMaxSegments];
    if (segment.first_outgoing <= outgoing) {
      return SourcePacket{segment.source,
                          static_cast<std::uint16_t>(outgoing_sequence_number - segment.sequence_offset)};
    }
  }
  return std::nullopt;
}

std::optional<SourceKey> StreamRewriter::current_source() const noexcept {
  if (!current_) return std::nullopt;
  return current_->key;
}

}  // namespace chorus::sfu
