#include "media/srtp/sdes.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>

namespace chorus::media {

namespace {

struct SuiteInfo {
  SrtpSuite suite;
  std::string_view name;
  std::size_t key_salt_length;  // RFC 4568 §6.2.1; RFC 7714 §12: 16+14, 16+14, 16+12, 32+12
};

constexpr std::array<SuiteInfo, 4> kSuites{{
    {SrtpSuite::kAesCm128HmacSha1_80, "AES_CM_128_HMAC_SHA1_80", 30},
    {SrtpSuite::kAesCm128HmacSha1_32, "AES_CM_128_HMAC_SHA1_32", 30},
    {SrtpSuite::kAeadAes128Gcm, "AEAD_AES_128_GCM", 28},
    {SrtpSuite::kAeadAes256Gcm, "AEAD_AES_256_GCM", 44},
}};

constexpr std::string_view kBase64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
// Offers longer than this are not scanned further (an SDP media section has a handful of lines).
constexpr std::size_t kMaxOfferedLines = 32;

const SuiteInfo& info(SrtpSuite suite) {
  for (const auto& entry : kSuites) {
    if (entry.suite == suite) return entry;
  }
  return kSuites[0];  // unreachable: every enumerator is in the table
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_vchar(char c) {
  return c >= 0x21 && c <= 0x7e;
}

// Splits on runs of SP/HTAB (RFC 4568 §9.1 separates the fields by whitespace).
std::vector<std::string_view> split_fields(std::string_view value) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && is_blank(value[i])) ++i;
    const std::size_t start = i;
    while (i < value.size() && !is_blank(value[i])) ++i;
    if (i > start) fields.push_back(value.substr(start, i - start));
  }
  return fields;
}

std::optional<std::uint64_t> parse_decimal(std::string_view digits) {
  std::uint64_t value = 0;
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
  }
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

// RFC 4568 §9.1: lifetime = ["2^"] 1*(DIGIT).
std::expected<std::uint64_t, std::string> parse_lifetime(std::string_view text) {
  if (text.starts_with("2^")) {
    const auto exponent = parse_decimal(text.substr(2));
    if (!exponent || *exponent > 63) return std::unexpected("bad key lifetime '" + std::string(text) + "'");
    return std::uint64_t{1} << *exponent;
  }
  const auto value = parse_decimal(text);
  if (!value) return std::unexpected("bad key lifetime '" + std::string(text) + "'");
  return *value;
}

// RFC 4568 §9.1: srtp-key-info = key-salt ["|" lifetime] ["|" mki].
std::expected<void, std::string> parse_key_info(std::string_view key_info, CryptoAttribute& out) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t bar = key_info.find('|', start);
    parts.push_back(key_info.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  // RFC 4568 §6.1: an MKI is "value:length"; a lifetime never has a colon.
  for (std::size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].find(':') != std::string_view::npos) {
      return std::unexpected("MKI is not supported (one master key per direction)");
    }
  }
  if (parts.size() > 2) return std::unexpected("more than one key lifetime");
  if (parts.size() == 2) {
    auto lifetime = parse_lifetime(parts[1]);
    if (!lifetime) return std::unexpected(lifetime.error());
    if (*lifetime < kMinAcceptedLifetime) {
      return std::unexpected("key lifetime " + std::string(parts[1]) +
                             " is below 2^31 and SDES keys are never re-keyed");
    }
    out.lifetime = *lifetime;
  }
  const std::string_view key_text = parts[0];
  auto key_salt = base64_decode(key_text);
  if (!key_salt) return std::unexpected("key is not valid base64");
  const std::size_t expected_length = key_salt_length(out.suite);
  if (key_salt->size() != expected_length) {
    return std::unexpected("key||salt is " + std::to_string(key_salt->size()) + " octets, " +
                           std::string(suite_name(out.suite)) + " needs " + std::to_string(expected_length));
  }
  out.key_salt = std::move(*key_salt);
  return {};
}

std::expected<void, std::string> parse_key_params(std::string_view key_params, CryptoAttribute& out) {
  // RFC 4568 §6.1: several keys in one line are told apart by MKI, which we do not support.
  if (key_params.find(';') != std::string_view::npos) {
    return std::unexpected("several master keys need MKI, which is not supported");
  }
  constexpr std::string_view kInline = "inline:";
  if (!key_params.starts_with(kInline)) return std::unexpected("key method is not 'inline'");
  return parse_key_info(key_params.substr(kInline.size()), out);
}

}  // namespace

std::string_view suite_name(SrtpSuite suite) {
  return info(suite).name;
}

std::optional<SrtpSuite> suite_from_name(std::string_view name) {
  for (const auto& entry : kSuites) {
    if (entry.name == name) return entry.suite;
  }
  return std::nullopt;
}

std::size_t key_salt_length(SrtpSuite suite) {
  return info(suite).key_salt_length;
}

std::expected<CryptoAttribute, std::string> parse_crypto_attribute(std::string_view value) {
  if (value.size() > kMaxCryptoAttributeLength) return std::unexpected("crypto attribute too long");
  for (char c : value) {
    if (!is_vchar(c) && !is_blank(c)) return std::unexpected("control or non-ASCII character in crypto attribute");
  }
  const auto fields = split_fields(value);
  if (fields.size() < 3) return std::unexpected("crypto attribute needs a tag, a suite and key parameters");

  CryptoAttribute out;
  // RFC 4568 §9.1: tag = 1*9DIGIT.
  const auto tag = parse_decimal(fields[0]);
  if (!tag || fields[0].size() > 9) return std::unexpected("bad crypto tag '" + std::string(fields[0]) + "'");
  out.tag = static_cast<std::uint32_t>(*tag);

  const auto suite = suite_from_name(fields[1]);
  if (!suite) return std::unexpected("unsupported crypto suite '" + std::string(fields[1]) + "'");
  out.suite = *suite;

  if (auto ok = parse_key_params(fields[2], out); !ok) return std::unexpected(ok.error());
  for (std::size_t i = 3; i < fields.size(); ++i) out.session_params.emplace_back(fields[i]);
  return out;
}

std::string format_crypto_attribute(const CryptoAttribute& attribute) {
  std::string out = std::to_string(attribute.tag);
  out += ' ';
  out += suite_name(attribute.suite);
  out += " inline:";
  out += base64_encode(attribute.key_salt);
  if (attribute.lifetime) {
    const std::uint64_t lifetime = *attribute.lifetime;
    out += '|';
    if (lifetime != 0 && (lifetime & (lifetime - 1)) == 0) {
      out += "2^" + std::to_string(std::countr_zero(lifetime));
    } else {
      out += std::to_string(lifetime);
    }
  }
  for (const auto& param : attribute.session_params) {
    out += ' ';
    out += param;
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (text.ends_with("==")) {
    padding = 2;
  } else if (text.ends_with('=')) {
    padding = 1;
  }
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  const std::size_t data_chars = text.size() - padding;
  std::uint32_t accumulator = 0;
  int bits = 0;
  for (std::size_t i = 0; i < data_chars; ++i) {
    const int value = base64_value(text[i]);
    if (value < 0) return std::nullopt;  // includes a '=' before the end
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(accumulator >> bits));
      accumulator &= (1u << bits) - 1;
    }
  }
  // RFC 4648 §3.5: the bits left over before the padding must be zero (canonical encoding).
  if (accumulator != 0) return std::nullopt;
  return out;
}

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kBase64Alphabet[(group >> 18) & 0x3f];
    out += kBase64Alphabet[(group >> 12) & 0x3f];
    out += kBase64Alphabet[(group >> 6) & 0x3f];
    out += kBase64Alphabet[group & 0x3f];
  }
  const std::size_t remaining = bytes.size() - i;
  if (remaining == 1) {
    const std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    out += kBase64Alphabet[(group >> 18) & 0x3f];
    out += kBase64Alphabet[(group >> 12) & 0x3f];
    out += "==";
  } else if (remaining == 2) {
    const std::uint32_t group = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8);
    out += kBase64Alphabet[(group >> 18) & 0x3f];
    out += kBase64Alphabet[(group >> 12) & 0x3f];
    out += kBase64Alphabet[(group >> 6) & 0x3f];
    out += '=';
  }
  return out;
}

bool session_params_supported(const CryptoAttribute& attribute) {
  for (const auto& param : attribute.session_params) {
    // RFC 4568 §6.3.6: WSH=<window size>, at least 64; our replay window is larger.
    constexpr std::string_view kWsh = "WSH=";
    if (!std::string_view(param).starts_with(kWsh)) return false;
    const auto window = parse_decimal(std::string_view(param).substr(kWsh.size()));
    if (!window || *window < 64) return false;
  }
  return true;
}

std::optional<SelectedCrypto> select_offered_crypto(std::span<const std::string> offered_values,
                                                    std::span<const SrtpSuite> preference) {
  const std::size_t count = std::min(offered_values.size(), kMaxOfferedLines);
  std::vector<std::optional<CryptoAttribute>> parsed;
  parsed.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto attribute = parse_crypto_attribute(offered_values[i]);
    if (attribute && session_params_supported(*attribute)) {
      parsed.emplace_back(std::move(*attribute));
    } else {
      parsed.emplace_back(std::nullopt);
    }
  }
  for (const SrtpSuite wanted : preference) {
    for (std::size_t i = 0; i < count; ++i) {
      if (parsed[i] && parsed[i]->suite == wanted) return SelectedCrypto{i, std::move(*parsed[i])};
    }
  }
  return std::nullopt;
}

}  // namespace chorus::media
