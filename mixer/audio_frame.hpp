// The unit the audio MCU mixes: one 20 ms frame of 48 kHz mono linear PCM.
//
// Every frame the mixer mixes is 48 kHz mono (a narrowband decoder interpolates to it when the mixer
// asks: NMinusOneMixer's DeferredFrame) and every encoder resamples from it, so the mixing core has
// a single frame shape. Samples are int16 in and out; sums are int32, which
// holds kMaxTalkers frames at the maximum input gain without overflow (see n_minus_one_mixer.hpp).
//
// Threading: plain values.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

namespace chorus::mixer {

inline constexpr std::uint32_t kSampleRateHz = 48'000;
inline constexpr std::chrono::milliseconds kFrameDuration{20};
inline constexpr std::size_t kFrameSamples = kSampleRateHz * kFrameDuration.count() / 1000;  // 960
static_assert(kFrameSamples == 960);

using Sample = std::int16_t;
using AudioFrame = std::array<Sample, kFrameSamples>;       // what goes in and comes out
using MixBuffer = std::array<std::int32_t, kFrameSamples>;  // sums, before the limiter
using FrameView = std::span<const Sample>;                  // kFrameSamples long, or empty when nothing arrived

// The mixer's name for a participant (the conference layer maps its own ids onto these).
using ParticipantId = std::uint32_t;

// RFC 6464 §3: the audio level is 0..127, the magnitude of the level in dBov; 127 is silence
// (anything at or below -127 dBov). dBov is relative to the overload point: a full-scale square
// wave is 0, a full-scale sine about 3.
inline constexpr std::uint8_t kSilenceLevelDbov = 127;

}  // namespace chorus::mixer
