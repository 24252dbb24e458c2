#include "rest-api/auth.hpp"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/log.hpp"
#include "rest-api/api_key_cache.hpp"

namespace chorus::rest {

namespace {

constexpr std::array<std::string_view, 7> kScopeNames = {"rooms:read",           "rooms:write",   "meetings:write",
                                                         "conferences:moderate", "rooms:secrets", "calls:dial_out",
                                                         "system:admin"};
constexpr std::size_t kMaxTokenLength = 512;  // a generated token is 50 characters

bool is_b64token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '+' || c == '/';
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::expected<AdminToken, std::string> read_token_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::unexpected("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  auto token = trim(text.str());
  if (token.empty()) return std::unexpected(path.string() + " is empty; delete it to get a new admin token");
  struct stat info{};
  if (::stat(path.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
    CHORUS_LOG(kWarn, "rest", "the admin token file is readable by others; chmod 600 it", {"path", path.string()});
  }
  return AdminToken{std::move(token), path, false};
}

// Creates the file exclusively with mode 0600 and makes it durable before anyone is told about it.
std::expected<bool, std::string> write_token_file(const std::filesystem::path& path, const std::string& token) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return false;  // another process won the race: read theirs
    return std::unexpected("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return std::unexpected("cannot write " + path.string() + ": " + std::strerror(saved));
  }
  return true;
}

}  // namespace

std::string_view scope_name(Scope scope) {
  return kScopeNames[static_cast<std::size_t>(scope)];
}

std::optional<Scope> parse_scope(std::string_view text) {
  for (std::size_t i = 0; i < kScopeNames.size(); ++i) {
    if (kScopeNames[i] == text) return static_cast<Scope>(i);
  }
  return std::nullopt;
}

ScopeSet ScopeSet::all() {
  return {Scope::kRoomsRead,    Scope::kRoomsWrite,   Scope::kMeetingsWrite, Scope::kConferencesModerate,
          Scope::kRoomsSecrets, Scope::kCallsDialOut, Scope::kSystemAdmin};
}

std::expected<ScopeSet, std::string> ScopeSet::parse(const std::vector<std::string>& names) {
  ScopeSet set;
  for (const auto& name : names) {
    const auto scope = parse_scope(name);
    if (!scope) return std::unexpected("unknown scope \"" + name + "\"");
    set.insert(*scope);
  }
  return set;
}

std::vector<std::string> ScopeSet::names() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < kScopeNames.size(); ++i) {
    if (contains(static_cast<Scope>(i))) out.emplace_back(kScopeNames[i]);
  }
  return out;
}

std::optional<std::string_view> parse_bearer(std::string_view authorization) {
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token, b64token = 1*(ALPHA / DIGIT / "-" / "." /
  // "_" / "~" / "+" / "/") *"=".
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !iequals(authorization.substr(0, kScheme.size()), kScheme)) {
    return std::nullopt;
  }
  auto rest = authorization.substr(kScheme.size());
  const auto start = rest.find_first_not_of(' ');
  if (rest.front() != ' ' || start == std::string_view::npos) return std::nullopt;
  rest.remove_prefix(start);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);  // OWS
  if (rest.empty() || rest.size() > kMaxTokenLength) return std::nullopt;
  std::size_t i = 0;
  while (i < rest.size() && is_b64token_char(rest[i])) ++i;
  if (i == 0) return std::nullopt;
  while (i < rest.size() && rest[i] == '=') ++i;
  if (i != rest.size()) return std::nullopt;
  return rest;
}

std::string hash_token(std::string_view token) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view bytes) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t accumulator = 0;
  int bits = 0;
  for (unsigned char byte : bytes) {
    accumulator = (accumulator << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(accumulator >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(accumulator << (6 - bits)) & 0x3f]);
  return out;
}

std::string generate_token() {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("the OpenSSL random generator failed");
  }
  std::string token(kTokenPrefix);
  token += base64url_encode(std::string_view(reinterpret_cast<const char*>(random.data()), random.size()));
  return token;
}

Authenticator::Authenticator(std::string_view admin_token, ApiKeyLookup& keys, const ApiKeyCache* cache)
    : admin_hash_(hash_token(admin_token)), keys_(&keys), cache_(cache) {}

namespace {

Principal admin_principal() {
  return Principal{std::string(Principal::kAdminId), "admin token", ScopeSet::all(), true};
}

Principal key_principal(ApiKeyPrincipal key) {
  return Principal{std::move(key.id), std::move(key.name), key.scopes, false};
}

// The bearer token's hash, or why the header gives none.
std::expected<std::string, AuthFailure> bearer_hash(std::string_view authorization) {
  if (authorization.empty()) return std::unexpected(AuthFailure::kMissing);
  const auto token = parse_bearer(authorization);
  if (!token) return std::unexpected(AuthFailure::kInvalid);
  return hash_token(*token);
}

}  // namespace

std::expected<Principal, AuthFailure> Authenticator::authenticate(std::string_view authorization) const {
  const auto hash = bearer_hash(authorization);
  if (!hash) return std::unexpected(hash.error());
  if (constant_time_equal(*hash, admin_hash_)) return admin_principal();
  auto key = keys_->find_by_hash(*hash);
  if (!key) return std::unexpected(AuthFailure::kInvalid);
  return key_principal(std::move(*key));
}

std::optional<std::expected<Principal, AuthFailure>> Authenticator::authenticate_local(
    std::string_view authorization) const {
  const auto hash = bearer_hash(authorization);
  if (!hash) return std::unexpected(hash.error());
  if (constant_time_equal(*hash, admin_hash_)) return admin_principal();
  if (cache_ == nullptr) return std::nullopt;
  auto key = cache_->find(*hash);
  if (!key) return std::nullopt;
  return key_principal(std::move(*key));
}

std::expected<AdminToken, std::string> load_admin_token(std::string_view configured,
                                                        const std::filesystem::path& data_dir) {
  if (!configured.empty()) return AdminToken{std::string(configured), {}, false};
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return std::unexpected("cannot create " + data_dir.string() + ": " + ec.message());
  const auto path = data_dir / kAdminTokenFileName;
  if (std::filesystem::exists(path, ec)) return read_token_file(path);
  auto token = generate_token();
  const auto written = write_token_file(path, token);
  if (!written) return std::unexpected(written.error());
  if (!*written) return read_token_file(path);
  return AdminToken{std::move(token), path, true};
}

}  // namespace chorus::rest
