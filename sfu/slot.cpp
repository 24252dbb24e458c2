#include "sfu/slot.hpp"

#include "common/random.hpp"

namespace chorus::sfu {
namespace {

// RFC 3550 §5.1: the outgoing sequence number and timestamp start at random values.
StreamRewriterConfig rewriter_config() {
  StreamRewriterConfig config;
  config.clock_rate = 90000;  // RFC 3551 §5: every video format we forward runs at 90 kHz
  config.initial_sequence_number = static_cast<std::uint16_t>(random_u64());
  config.initial_timestamp = static_cast<std::uint32_t>(random_u64());
  return config;
}

}  // namespace

Slot::Slot(SlotId id, media::MediaSession& session, SlotSpec spec)
    : rewriter(rewriter_config()), id_(id), session_(&session), spec_(std::move(spec)) {
  rtx_sequence = static_cast<std::uint16_t>(random_u64());
}

const CodecMapping* Slot::receiver_codec(VideoCodec codec) const {
  for (const auto& mapping : spec_.codecs)
    if (mapping.codec == codec) return &mapping;
  return nullptr;
}

}  // namespace chorus::sfu
