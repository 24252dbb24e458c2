#include "media/srtp/sdes_answer.hpp"

#include <openssl/rand.h>

namespace chorus::media {

std::expected<CryptoAttribute, std::string> generate_crypto_attribute(std::uint32_t tag, SrtpSuite suite) {
  CryptoAttribute attribute;
  attribute.tag = tag;
  attribute.suite = suite;
  attribute.key_salt.resize(key_salt_length(suite));
  // RFC 4568 §10.1: keys must come from a cryptographically strong random source.
  if (RAND_bytes(attribute.key_salt.data(), static_cast<int>(attribute.key_salt.size())) != 1) {
    return std::unexpected("no random bytes for an SRTP master key");
  }
  return attribute;
}

std::expected<CryptoAnswer, std::string> choose_crypto(std::span<const std::string> offered_values,
                                                       std::span<const SrtpSuite> preference) {
  if (offered_values.empty()) return std::unexpected("the offer has no a=crypto line");
  auto selected = select_offered_crypto(offered_values, preference);
  if (!selected) return std::unexpected("no offered a=crypto line has a suite and parameters we support");
  auto local = generate_crypto_attribute(selected->offered.tag, selected->offered.suite);
  if (!local) return std::unexpected(local.error());
  CryptoAnswer answer;
  answer.remote = std::move(selected->offered);
  answer.local = std::move(*local);
  answer.answer_value = format_crypto_attribute(answer.local);
  return answer;
}

}  // namespace chorus::media
