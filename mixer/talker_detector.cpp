#include "mixer/talker_detector.hpp"

#include <algorithm>
#include <cmath>

namespace chorus::mixer {

namespace {

// RFC 6464 §3: the level in -dBov, from the mean square on the 16-bit scale, rounded to 0..127.
std::uint8_t level_of_mean_square(double mean_square) noexcept {
  if (mean_square <= 0.0) return kSilenceLevelDbov;
  constexpr double kOverloadSquared = 32768.0 * 32768.0;
  const double dbov = 10.0 * std::log10(mean_square / kOverloadSquared);  // ≤ 0
  const double magnitude = std::clamp(std::round(-dbov), 0.0, static_cast<double>(kSilenceLevelDbov));
  return static_cast<std::uint8_t>(magnitude);
}

}  // namespace

std::uint8_t frame_level_dbov(FrameView frame) noexcept {
  if (frame.empty()) return kSilenceLevelDbov;
  std::int64_t sum_squares = 0;  // ≤ 960 · 2^30: far from overflow
  for (const Sample s : frame) sum_squares += static_cast<std::int64_t>(s) * s;
  return level_of_mean_square(static_cast<double>(sum_squares) / static_cast<double>(frame.size()));
}

std::uint8_t frame_level_dbov(std::span<const float> samples) noexcept {
  if (samples.empty()) return kSilenceLevelDbov;
  float sum_squares = 0.0F;  // single precision: a 20 ms frame's level needs ±0.5 dB, not more
  for (const float s : samples) sum_squares += s * s;
  return level_of_mean_square(static_cast<double>(sum_squares) / static_cast<double>(samples.size()));
}

bool TalkerDetector::update(std::uint8_t level_dbov, double gain_db, std::optional<bool> voice_activity) noexcept {
  const double level_db = -static_cast<double>(std::min(level_dbov, kSilenceLevelDbov)) + gain_db;
  // Silence stays silence whatever the gain: 127 means "no signal", not "very quiet".
  const bool silent = level_dbov >= kSilenceLevelDbov;
  const bool voiced =
      !silent && level_db >= -static_cast<double>(config_.threshold_dbov) && voice_activity.value_or(true);

  voiced_run_ = voiced ? voiced_run_ + 1 : 0;
  if (speaking_) {
    since_voiced_ = voiced ? 0 : since_voiced_ + 1;
    if (since_voiced_ > config_.hangover_frames) speaking_ = false;
  } else if (voiced_run_ >= config_.attack_frames) {
    speaking_ = true;
    since_voiced_ = 0;
  }

  const double floor_db = -static_cast<double>(kSilenceLevelDbov);
  if (!speaking_) {
    smoothed_db_ = silent ? floor_db : level_db;
  } else if (voiced) {
    smoothed_db_ += config_.smoothing * (level_db - smoothed_db_);
  } else {  // a pause inside the talk spurt: fade, so an equally loud newcomer wins before the hangover ends
    smoothed_db_ = std::max(floor_db, smoothed_db_ - config_.hangover_decay_db);
  }
  return speaking_;
}

void TalkerDetector::reset() noexcept {
  speaking_ = false;
  voiced_run_ = 0;
  since_voiced_ = 0;
  smoothed_db_ = -static_cast<double>(kSilenceLevelDbov);
}

}  // namespace chorus::mixer
