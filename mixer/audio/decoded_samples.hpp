// DecodedSamples: a member's decoded audio waiting for its tick (mixer/audio/participant_decoder.hpp),
// oldest first, behind the last samples already played that an interpolator reads before a frame.
//
// Threading: a plain value, used by one thread at a time (the room's media worker).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace chorus::mixer {

// Decoded samples waiting for their tick, oldest first, behind the last `history` samples already
// played (what an interpolator reads before a frame). Bounded by `capacity`.
template <typename T>
class DecodedSamples {
 public:
  DecodedSamples(std::size_t history, std::size_t capacity);

  [[nodiscard]] std::size_t size() const noexcept { return samples_.size() - history_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  // Appends what fits under the capacity; returns how many did not fit.
  std::size_t append(std::span<const T> samples);
  std::size_t append_silence(std::size_t count);
  // Makes room for up to `count` more samples (what fits under the capacity) and returns it, for a
  // decoder to write into directly.
  std::span<T> extend(std::size_t count);
  void insert_silence_front(std::size_t count);
  void pad_with_silence(std::size_t size);
  // Drops the oldest `count` waiting samples (they become history, as if played).
  void drop_oldest(std::size_t count);
  // The history and the first `count` waiting samples, which must be there.
  [[nodiscard]] std::span<const T> window(std::size_t count) const;

 private:
  std::size_t history_;
  std::size_t capacity_;
  std::vector<T> samples_;  // history_ played samples, then size() waiting ones
};

}  // namespace chorus::mixer
