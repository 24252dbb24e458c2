#include "common/random.hpp"

#include <array>
#include <random>

namespace chorus {
namespace {

// xoshiro256** (Blackman and Vigna): statistically strong and a few nanoseconds per draw.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;
    for (auto& word : state_) {
      word = (static_cast<std::uint64_t>(device()) << 32) | device();
      if (word == 0) word = 0x9e3779b97f4a7c15ULL;
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

Xoshiro256& generator() {
  thread_local Xoshiro256 instance;
  return instance;
}

}  // namespace

std::uint64_t random_u64() {
  return generator().next();
}

std::string random_alphanumeric(std::size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string token(length, '\0');
  std::uint64_t bits = 0;
  int left = 0;
  for (char& c : token) {
    // Six bits a character, rejecting 62 and 63 so every character is equally likely.
    for (;;) {
      if (left == 0) {
        bits = generator().next();
        left = 10;
      }
      const auto index = static_cast<std::size_t>(bits & 0x3f);
      bits >>= 6;
      --left;
      if (index < 62) {
        c = kAlphabet[index];
        break;
      }
    }
  }
  return token;
}

}  // namespace chorus
