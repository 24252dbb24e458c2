// Who is calling: Bearer tokens (RFC 6750 §2.1) that are either the operator's admin token or an
// API key. Only SHA-256 hashes of API-key tokens are stored; a presented token is hashed and looked
// up by its hash, and the admin token is compared hash-to-hash in constant time, so neither lookup
// nor comparison time depends on a secret's bytes.
//
// Threading: Authenticator::authenticate runs where its ApiKeyLookup may be used (the control
// loop, which owns the store). The free functions are thread-safe.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::rest {

// kRoomsSecrets: rooms' and meetings' PINs in answers (DESIGN §7: secrets never reach low-privilege
// keys; rooms:read sees "pin_set" only). kCallsDialOut: dial-out (issue 12: making the server call
// out is egress, not moderation; conferences:moderate alone no longer dials). kSystemAdmin: the
// node itself (issue 14: GET /v1/system, drain and its end), for an operator's or a deploy tool's key.
enum class Scope : std::uint8_t {
  kRoomsRead,
  kRoomsWrite,
  kMeetingsWrite,
  kConferencesModerate,
  kRoomsSecrets,
  kCallsDialOut,
  kSystemAdmin
};

// "rooms:read", "rooms:write", "meetings:write", "conferences:moderate", "rooms:secrets",
// "calls:dial_out", "system:admin".
[[nodiscard]] std::string_view scope_name(Scope scope);
[[nodiscard]] std::optional<Scope> parse_scope(std::string_view text);

class ScopeSet {
 public:
  ScopeSet() = default;
  ScopeSet(std::initializer_list<Scope> scopes) {
    for (Scope scope : scopes) insert(scope);
  }
  static ScopeSet all();
  // Every name must be a known scope; the error names the first one that is not.
  static std::expected<ScopeSet, std::string> parse(const std::vector<std::string>& names);

  void insert(Scope scope) { bits_ |= bit(scope); }
  [[nodiscard]] bool contains(Scope scope) const { return (bits_ & bit(scope)) != 0; }
  [[nodiscard]] bool empty() const { return bits_ == 0; }
  [[nodiscard]] std::vector<std::string> names() const;  // in enum order
  bool operator==(const ScopeSet&) const = default;

 private:
  static constexpr std::uint8_t bit(Scope scope) {
    return static_cast<std::uint8_t>(1U << static_cast<unsigned>(scope));
  }
  std::uint8_t bits_ = 0;
};

// What an API-key lookup finds: the key's id, name and scopes.
struct ApiKeyPrincipal {
  std::string id;
  std::string name;
  ScopeSet scopes;
};

// The authenticated caller. The admin token carries every scope and may manage keys and webhooks.
struct Principal {
  static constexpr std::string_view kAdminId = "admin";
  std::string id;  // the API key's id, or kAdminId
  std::string name;
  ScopeSet scopes;
  bool admin = false;
  [[nodiscard]] bool has(Scope scope) const { return admin || scopes.contains(scope); }
};

// How the authenticator finds an API key; the store implements it.
class ApiKeyLookup {
 public:
  virtual ~ApiKeyLookup() = default;
  // `token_hash` is hash_token(token): 64 lowercase hex digits.
  virtual std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) = 0;
};

// The token of an `Authorization: Bearer <token>` value; nullopt when the scheme is not Bearer
// (case-insensitive, RFC 9110 §11.1) or the token is not a b64token (RFC 6750 §2.1).
[[nodiscard]] std::optional<std::string_view> parse_bearer(std::string_view authorization);

// SHA-256 of the token, lowercase hex: what the store keeps for an API key.
[[nodiscard]] std::string hash_token(std::string_view token);
// Equal lengths and bytes, in time independent of where they differ (CRYPTO_memcmp).
[[nodiscard]] bool constant_time_equal(std::string_view a, std::string_view b);

inline constexpr std::string_view kTokenPrefix = "chorus_";
// A new secret: kTokenPrefix + base64url (RFC 4648 §5, no padding) of 32 bytes from the OpenSSL
// CSPRNG. Throws std::runtime_error if the CSPRNG fails (control path).
[[nodiscard]] std::string generate_token();
[[nodiscard]] std::string base64url_encode(std::string_view bytes);

enum class AuthFailure {
  kMissing,  // no Authorization header: 401 without error
  kInvalid,  // not a Bearer b64token, or unknown: 401 error="invalid_token"
};

class ApiKeyCache;

class Authenticator {
 public:
  // `admin_token` must not be empty; `keys` (and `cache`, when set) outlive the authenticator.
  // `cache`: the keys authenticate_local() may answer from (api_key_cache.hpp); null: none.
  Authenticator(std::string_view admin_token, ApiKeyLookup& keys, const ApiKeyCache* cache = nullptr);

  // `authorization` is the Authorization header's value, empty when absent. Where `keys` may be
  // used (the control loop).
  [[nodiscard]] std::expected<Principal, AuthFailure> authenticate(std::string_view authorization) const;
  // The same answer without `keys`, on any thread: a missing or malformed header, the admin
  // token, or a key the cache holds. nullopt when only `keys` can tell (a key not in the cache).
  [[nodiscard]] std::optional<std::expected<Principal, AuthFailure>> authenticate_local(
      std::string_view authorization) const;

 private:
  std::string admin_hash_;
  ApiKeyLookup* keys_;
  const ApiKeyCache* cache_;
};

// The admin token the server uses, and where it came from.
struct AdminToken {
  std::string token;
  std::filesystem::path file;  // empty when the token was configured (--admin-token)
  bool generated = false;      // true: written now, the log should say where
};

inline constexpr std::string_view kAdminTokenFileName = "admin-token";

// `configured` non-empty: use it (no file). Otherwise read `<data_dir>/admin-token`, or, when it
// does not exist, generate a token and write it there with mode 0600 (created exclusively, so two
// servers on one data dir cannot both write). Creates `data_dir` if missing.
std::expected<AdminToken, std::string> load_admin_token(std::string_view configured,
                                                        const std::filesystem::path& data_dir);

}  // namespace chorus::rest
