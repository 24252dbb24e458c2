// spandsp's G.722 at 64 kbit/s as the mixer's tests use it: its encoder is the ITU-T reference's
// algorithm (what baresip and FreeSWITCH send), its decoder the oracle ours is held to. One state per
// call: a whole signal at once.
#pragma once

extern "C" {
#include <spandsp.h>
}

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace chorus::mixer::spandsp_g722 {

inline constexpr int kBitRate = 64'000;  // mode 1, what RFC 3551's G722 carries

// 16 kHz samples → octets, one per two samples (fewer if spandsp stopped early: callers check).
inline std::vector<std::uint8_t> encode(std::span<const std::int16_t> pcm) {
  g722_encode_state_t* state = g722_encode_init(nullptr, kBitRate, 0);
  std::vector<std::uint8_t> octets((pcm.size() + 1) / 2);
  const int count = g722_encode(state, octets.data(), pcm.data(), static_cast<int>(pcm.size()));
  g722_encode_free(state);
  octets.resize(static_cast<std::size_t>(std::max(count, 0)));
  return octets;
}

// Octets → 16 kHz samples, two per octet.
inline std::vector<std::int16_t> decode(std::span<const std::uint8_t> octets) {
  g722_decode_state_t* state = g722_decode_init(nullptr, kBitRate, 0);
  std::vector<std::int16_t> pcm(2 * octets.size());
  const int count = g722_decode(state, pcm.data(), octets.data(), static_cast<int>(octets.size()));
  g722_decode_free(state);
  pcm.resize(static_cast<std::size_t>(std::max(count, 0)));
  return pcm;
}

}  // namespace chorus::mixer::spandsp_g722
