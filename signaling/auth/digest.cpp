#include "signaling/auth/digest.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

#include "common/ascii.hpp"
#include "common/random.hpp"

namespace chorus::sip {

namespace {

// RFC 8760 §2.1 / RFC 7616 §6.1: the algorithm tokens, strength ascending (pick_challenge's order).
struct DigestAlgorithm {
  std::string_view name;
  const EVP_MD* (*md)();
  bool session;  // "-sess": HA1 also covers nonce and cnonce (RFC 7616 §3.4.2)
  int strength;
};

constexpr std::array<DigestAlgorithm, 6> kAlgorithms{{
    {"MD5", EVP_md5, false, 1},
    {"MD5-sess", EVP_md5, true, 1},
    {"SHA-256", EVP_sha256, false, 2},
    {"SHA-256-sess", EVP_sha256, true, 2},
    {"SHA-512-256", EVP_sha512_256, false, 3},
    {"SHA-512-256-sess", EVP_sha512_256, true, 3},
}};

bool digest_iequals(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; };
    return lower(x) == lower(y);
  });
}

const DigestAlgorithm* find_algorithm(std::string_view name) {
  if (name.empty()) name = "MD5";  // RFC 2617 §3.2.1: absent means MD5
  for (const auto& algorithm : kAlgorithms) {
    if (digest_iequals(algorithm.name, name)) return &algorithm;
  }
  return nullptr;
}

std::string hex_hash(const DigestAlgorithm& algorithm, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, algorithm.md(), nullptr) != 1) {
    throw std::runtime_error("digest: EVP_Digest failed");
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

// RFC 7230 §3.2.6 tchar, the token of auth-scheme and auth-param names (RFC 7235 §2.1).
bool is_tchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_ctl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

bool is_space(char c) {
  return c == ' ' || c == '\t';
}

void skip_space(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && is_space(s[pos])) ++pos;
}

std::string_view take_token(std::string_view s, std::size_t& pos) {
  const std::size_t start = pos;
  while (pos < s.size() && is_tchar(s[pos])) ++pos;
  return s.substr(start, pos - start);
}

// quoted-string at s[pos] == '"' (RFC 3261 §25.1): quoted-pairs resolved, CTLs refused.
bool take_quoted(std::string_view s, std::size_t& pos, std::string& out) {
  for (++pos; pos < s.size(); ++pos) {
    char c = s[pos];
    if (c == '"') {
      ++pos;
      return true;
    }
    if (c == '\\') {
      if (++pos == s.size()) return false;
      c = s[pos];
    }
    if (is_ctl(c)) return false;
    out.push_back(c);
  }
  return false;  // no closing quote
}

struct AuthParam {
  std::string name;  // lowercase
  std::string value;
};

// `<scheme> 1*SP auth-param *("," auth-param)` (RFC 3261 §25.1 challenge / credentials): the
// parameters of a Digest value, names lowercased. Empty list elements are tolerated (RFC 7230 §7).
std::expected<std::vector<AuthParam>, std::string> parse_digest_params(std::string_view value) {
  if (value.size() > kMaxDigestValue) return std::unexpected("value longer than 4096 octets");
  std::size_t pos = 0;
  skip_space(value, pos);
  const std::string_view scheme = take_token(value, pos);
  if (!digest_iequals(scheme, "Digest")) return std::unexpected("not a Digest value");
  if (pos < value.size() && !is_space(value[pos])) return std::unexpected("malformed scheme");
  std::vector<AuthParam> params;
  while (true) {
    skip_space(value, pos);
    if (pos == value.size()) break;
    if (value[pos] == ',') {
      ++pos;
      continue;
    }
    const std::string_view name = take_token(value, pos);
    if (name.empty()) return std::unexpected("malformed parameter name");
    skip_space(value, pos);
    if (pos == value.size() || value[pos] != '=') return std::unexpected("parameter without a value");
    ++pos;
    skip_space(value, pos);
    AuthParam param;
    std::ranges::transform(name, std::back_inserter(param.name),
                           [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; });
    if (pos < value.size() && value[pos] == '"') {
      if (!take_quoted(value, pos, param.value)) return std::unexpected("unterminated or invalid quoted-string");
    } else {
      param.value = std::string(take_token(value, pos));
      if (param.value.empty()) return std::unexpected("empty parameter value");
    }
    skip_space(value, pos);
    if (pos < value.size() && value[pos] != ',') return std::unexpected("junk after a parameter");
    // RFC 7235 §2.1: a parameter name occurs at most once per challenge.
    if (std::ranges::any_of(params, [&](const AuthParam& p) { return p.name == param.name; })) {
      return std::unexpected("duplicate parameter " + param.name);
    }
    if (params.size() == kMaxDigestParams) return std::unexpected("more than 32 parameters");
    params.push_back(std::move(param));
  }
  return params;
}

const std::string* find_param(const std::vector<AuthParam>& params, std::string_view name) {
  for (const auto& p : params) {
    if (p.name == name) return &p.value;
  }
  return nullptr;
}

// Appends `name="value"` (quoted-pairs for '"' and '\\') after "Digest " or a previous parameter.
void append_quoted(std::string& out, std::string_view name, std::string_view value) {
  out.append(out == "Digest" ? " " : ", ").append(name).append("=\"");
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

std::string format_nonce_count(std::uint32_t nonce_count) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string nc(8, '0');
  for (int i = 7; i >= 0; --i, nonce_count >>= 4) nc[static_cast<std::size_t>(i)] = kHex[nonce_count & 0x0f];
  return nc;
}

}  // namespace

bool is_supported_digest_algorithm(std::string_view algorithm) {
  return !algorithm.empty() && find_algorithm(algorithm) != nullptr;
}

std::expected<DigestChallenge, std::string> parse_digest_challenge(std::string_view value) {
  auto params = parse_digest_params(value);
  if (!params) return std::unexpected(params.error());
  const std::string* realm = find_param(*params, "realm");
  const std::string* nonce = find_param(*params, "nonce");
  if (realm == nullptr) return std::unexpected("challenge without realm");
  if (nonce == nullptr) return std::unexpected("challenge without nonce");
  DigestChallenge challenge;
  challenge.realm = *realm;
  challenge.nonce = *nonce;
  if (const std::string* opaque = find_param(*params, "opaque")) challenge.opaque = *opaque;
  const std::string* algorithm_text = find_param(*params, "algorithm");
  const DigestAlgorithm* algorithm = find_algorithm(algorithm_text ? *algorithm_text : std::string());
  if (algorithm == nullptr) return std::unexpected("unsupported algorithm " + *algorithm_text);
  challenge.algorithm = std::string(algorithm->name);
  if (const std::string* stale = find_param(*params, "stale")) challenge.stale = digest_iequals(*stale, "true");
  if (const std::string* qop = find_param(*params, "qop")) {
    // qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT (RFC 3261 §25.1).
    std::size_t start = 0;
    while (start <= qop->size()) {
      std::size_t end = qop->find(',', start);
      if (end == std::string::npos) end = qop->size();
      std::string_view option = std::string_view(*qop).substr(start, end - start);
      while (!option.empty() && is_space(option.front())) option.remove_prefix(1);
      while (!option.empty() && is_space(option.back())) option.remove_suffix(1);
      if (!option.empty()) challenge.qop.push_back(ascii_lowercase(option));
      start = end + 1;
    }
    if (!challenge.qop.empty() && std::ranges::find(challenge.qop, "auth") == challenge.qop.end()) {
      return std::unexpected("challenge offers no qop=auth");
    }
  }
  return challenge;
}

std::optional<DigestChallenge> pick_challenge(const SipMessage& response) {
  // A 407 answers for a proxy; read its header first so an aggregated response (RFC 3261 §16.7
  // step 7 copies both kinds) prefers what its status names when strengths tie.
  const bool proxy_first = response.status == 407;
  const std::array<std::pair<std::string_view, bool>, 2> sources{{
      {proxy_first ? "Proxy-Authenticate" : "WWW-Authenticate", proxy_first},
      {proxy_first ? "WWW-Authenticate" : "Proxy-Authenticate", !proxy_first},
  }};
  std::optional<DigestChallenge> best;
  int best_strength = 0;
  for (const auto& [name, proxy] : sources) {
    for (std::string_view value : response.header_values(name)) {
      auto challenge = parse_digest_challenge(value);
      if (!challenge) continue;
      // RFC 8760 §2.4: several challenges, one per algorithm; the strongest we support wins.
      const int strength = find_algorithm(challenge->algorithm)->strength;
      if (strength <= best_strength) continue;
      challenge->proxy = proxy;
      best = std::move(*challenge);
      best_strength = strength;
    }
  }
  return best;
}

std::string_view digest_response_header_name(const DigestChallenge& challenge) {
  return challenge.proxy ? "Proxy-Authorization" : "Authorization";
}

std::string digest_expected_response(const DigestAuthorization& authorization, std::string_view password,
                                     std::string_view method) {
  const DigestAlgorithm* algorithm = find_algorithm(authorization.algorithm);
  if (algorithm == nullptr) return {};
  const auto& a = authorization;
  // RFC 7616 §3.4.2: A1 = username ":" realm ":" passwd; -sess: H(that) ":" nonce ":" cnonce.
  std::string ha1 = hex_hash(*algorithm, a.username + ':' + a.realm + ':' + std::string(password));
  if (algorithm->session) ha1 = hex_hash(*algorithm, ha1 + ':' + a.nonce + ':' + a.cnonce);
  // RFC 7616 §3.4.3: A2 = Method ":" request-uri (qop=auth, or qop absent).
  const std::string ha2 = hex_hash(*algorithm, std::string(method) + ':' + a.uri);
  if (a.qop.empty()) return hex_hash(*algorithm, ha1 + ':' + a.nonce + ':' + ha2);  // RFC 2069
  return hex_hash(*algorithm, ha1 + ':' + a.nonce + ':' + a.nc + ':' + a.cnonce + ':' + a.qop + ':' + ha2);
}

std::string digest_response_header(const DigestChallenge& challenge, const DigestCredentials& credentials,
                                   std::string_view method, std::string_view request_uri, std::uint32_t nonce_count,
                                   std::string cnonce) {
  const DigestAlgorithm* algorithm = find_algorithm(challenge.algorithm);
  if (algorithm == nullptr) throw std::invalid_argument("digest: unsupported algorithm " + challenge.algorithm);
  const bool use_qop = std::ranges::find(challenge.qop, "auth") != challenge.qop.end();
  if (!use_qop && !challenge.qop.empty()) throw std::invalid_argument("digest: challenge offers no qop=auth");
  DigestAuthorization a;
  a.username = credentials.username;
  a.realm = challenge.realm;
  a.nonce = challenge.nonce;
  a.uri = std::string(request_uri);
  a.algorithm = std::string(algorithm->name);
  a.opaque = challenge.opaque;
  if (use_qop || algorithm->session) {
    // RFC 7616 §3.4: the cnonce carries at least 64 bits of entropy; 24 of [A-Za-z0-9] ≈ 142.
    a.cnonce = cnonce.empty() ? random_alphanumeric(24) : std::move(cnonce);
  }
  if (use_qop) {
    a.qop = "auth";
    a.nc = format_nonce_count(nonce_count);
  }
  a.response = digest_expected_response(a, credentials.password, method);

  std::string out = "Digest";
  append_quoted(out, "username", a.username);
  append_quoted(out, "realm", a.realm);
  append_quoted(out, "nonce", a.nonce);
  append_quoted(out, "uri", a.uri);
  append_quoted(out, "response", a.response);
  out.append(", algorithm=").append(a.algorithm);
  if (!a.cnonce.empty()) append_quoted(out, "cnonce", a.cnonce);
  if (!a.opaque.empty()) append_quoted(out, "opaque", a.opaque);
  if (use_qop) out.append(", qop=auth, nc=").append(a.nc);
  return out;
}

std::string format_digest_challenge(const DigestChallenge& challenge) {
  std::string out = "Digest";
  append_quoted(out, "realm", challenge.realm);
  append_quoted(out, "nonce", challenge.nonce);
  if (!challenge.opaque.empty()) append_quoted(out, "opaque", challenge.opaque);
  if (!challenge.algorithm.empty()) out.append(", algorithm=").append(challenge.algorithm);
  if (!challenge.qop.empty()) {
    std::string options;
    for (const auto& option : challenge.qop) options.append(options.empty() ? "" : ",").append(option);
    append_quoted(out, "qop", options);
  }
  if (challenge.stale) out.append(", stale=true");
  return out;
}

std::expected<DigestAuthorization, std::string> parse_digest_authorization(std::string_view value) {
  auto params = parse_digest_params(value);
  if (!params) return std::unexpected(params.error());
  DigestAuthorization a;
  const std::array<std::pair<std::string_view, std::string*>, 5> required{{
      {"username", &a.username},
      {"realm", &a.realm},
      {"nonce", &a.nonce},
      {"uri", &a.uri},
      {"response", &a.response},
  }};
  for (const auto& [name, field] : required) {
    const std::string* found = find_param(*params, name);
    if (found == nullptr) return std::unexpected("credentials without " + std::string(name));
    *field = *found;
  }
  const std::string* algorithm_text = find_param(*params, "algorithm");
  const DigestAlgorithm* algorithm = find_algorithm(algorithm_text ? *algorithm_text : std::string());
  if (algorithm == nullptr) return std::unexpected("unsupported algorithm " + *algorithm_text);
  a.algorithm = std::string(algorithm->name);
  if (const std::string* opaque = find_param(*params, "opaque")) a.opaque = *opaque;
  if (const std::string* cnonce = find_param(*params, "cnonce")) a.cnonce = *cnonce;
  if (const std::string* qop = find_param(*params, "qop")) a.qop = ascii_lowercase(*qop);
  if (const std::string* nc = find_param(*params, "nc")) a.nc = ascii_lowercase(*nc);
  if (!a.qop.empty()) {
    // RFC 2617 §3.2.2: with qop, cnonce and an 8-hex-digit nc MUST be present.
    const bool nc_ok = a.nc.size() == 8 && std::ranges::all_of(a.nc, [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                       });
    if (a.cnonce.empty() || !nc_ok) return std::unexpected("qop without a valid nc and cnonce");
  }
  if (algorithm->session && a.cnonce.empty()) return std::unexpected("-sess algorithm without cnonce");
  return a;
}

}  // namespace chorus::sip
