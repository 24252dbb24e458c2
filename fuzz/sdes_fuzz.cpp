// libFuzzer target for the SDES `a=crypto` grammar (media/srtp/sdes.cpp, RFC 4568 §9.1).
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/sdes_fuzz.cpp media/srtp/sdes.cpp
//   ./a.out -max_total_time=60
//
// Besides crashes it checks three properties: a line that parses formats to text that parses to
// the same attribute (and formatting is then a fixpoint); strict base64 is canonical, so whatever
// decodes encodes back to the same text; and the line chosen from a multi-line offer is one that
// parses on its own with a suite from the preference list.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "media/srtp/sdes.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_attribute_round_trip(std::string_view text) {
  const auto parsed = parse_crypto_attribute(text);
  if (!parsed) {
    check(!parsed.error().empty());
    return;
  }
  check(parsed->key_salt.size() == key_salt_length(parsed->suite));
  const std::string formatted = format_crypto_attribute(*parsed);
  const auto reparsed = parse_crypto_attribute(formatted);
  check(reparsed.has_value());
  check(*reparsed == *parsed);
  check(format_crypto_attribute(*reparsed) == formatted);
}

void check_base64(std::string_view text) {
  const auto bytes = base64_decode(text);
  if (bytes) check(base64_encode(*bytes) == text);
}

void check_selection(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  const SrtpSuite preference[] = {SrtpSuite::kAeadAes128Gcm, SrtpSuite::kAesCm128HmacSha1_80};
  const auto selected = select_offered_crypto(lines, preference);
  if (!selected) return;
  check(selected->index < lines.size());
  const auto alone = parse_crypto_attribute(lines[selected->index]);
  check(alone.has_value() && *alone == selected->offered);
  check(selected->offered.suite == preference[0] || selected->offered.suite == preference[1]);
  check(session_params_supported(selected->offered));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_attribute_round_trip(text);
  check_base64(text);
  check_selection(text);
  return 0;
}
