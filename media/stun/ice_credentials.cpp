#include "media/stun/ice_credentials.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace chorus::media::stun {
namespace {

// RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/" — 64 symbols, six bits each.
constexpr std::string_view kIceChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string random_ice_chars(std::size_t count) {
  std::array<std::uint8_t, 64> bytes{};
  if (count > bytes.size() || RAND_bytes(bytes.data(), static_cast<int>(count)) != 1)
    throw std::runtime_error("no randomness for ICE credentials");  // control path: the call gets 500
  std::string out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(kIceChars[bytes[i] & 0x3F]);
  return out;
}

}  // namespace

LocalIceCredentials generate_ice_credentials() {
  return LocalIceCredentials{random_ice_chars(8), random_ice_chars(24)};
}

}  // namespace chorus::media::stun
