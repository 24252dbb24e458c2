#include "mixer/audio/decoded_samples.hpp"

#include <algorithm>

#include "mixer/audio_frame.hpp"

namespace chorus::mixer {

template <typename T>
DecodedSamples<T>::DecodedSamples(std::size_t history, std::size_t capacity) : history_(history), capacity_(capacity) {
  samples_.reserve(history + capacity);
  samples_.assign(history, T{});
}

template <typename T>
std::span<T> DecodedSamples<T>::extend(std::size_t count) {
  const std::size_t kept = std::min(count, capacity_ - std::min(size(), capacity_));
  samples_.resize(samples_.size() + kept);  // value-initialised: silence until written
  return std::span<T>(samples_).last(kept);
}

template <typename T>
std::size_t DecodedSamples<T>::append(std::span<const T> samples) {
  const std::span<T> room = extend(samples.size());
  std::copy_n(samples.begin(), room.size(), room.begin());
  return samples.size() - room.size();
}

template <typename T>
std::size_t DecodedSamples<T>::append_silence(std::size_t count) {
  return count - extend(count).size();
}

template <typename T>
void DecodedSamples<T>::insert_silence_front(std::size_t count) {
  count = std::min(count, capacity_ - std::min(size(), capacity_));
  samples_.insert(samples_.begin() + static_cast<std::ptrdiff_t>(history_), count, T{});
}

template <typename T>
void DecodedSamples<T>::pad_with_silence(std::size_t size) {
  samples_.resize(std::max(samples_.size(), history_ + std::min(size, capacity_)), T{});
}

template <typename T>
void DecodedSamples<T>::drop_oldest(std::size_t count) {
  // Erasing from the very front keeps the last history_ dropped samples as the new history.
  samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(std::min(count, size())));
}

template <typename T>
std::span<const T> DecodedSamples<T>::window(std::size_t count) const {
  return std::span<const T>(samples_).first(history_ + std::min(count, size()));
}

template class DecodedSamples<float>;
template class DecodedSamples<Sample>;

}  // namespace chorus::mixer
