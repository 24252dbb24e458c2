#include "rest-api/auth.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>

#include "rest-api/rate_limiter.hpp"

namespace chorus::rest {
namespace auth_test {

using namespace std::chrono_literals;
using ::testing::ElementsAre;

class KeyTable : public ApiKeyLookup {
 public:
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override {
    lookups.push_back(token_hash);
    const auto it = keys.find(token_hash);
    if (it == keys.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, ApiKeyPrincipal> keys;
  std::vector<std::string> lookups;
};

TEST(Bearer, ParsesSchemeCaseInsensitivelyAndB64Tokens) {
  EXPECT_EQ(parse_bearer("Bearer chorus_abc-DEF_123"), "chorus_abc-DEF_123");
  EXPECT_EQ(parse_bearer("bearer   tok.en~+/=="), "tok.en~+/==");
  EXPECT_EQ(parse_bearer("BEARER x "), "x");
  EXPECT_FALSE(parse_bearer("Bearer"));
  EXPECT_FALSE(parse_bearer("Bearer "));
  EXPECT_FALSE(parse_bearer("Bearerx"));
  EXPECT_FALSE(parse_bearer("Basic dXNlcg=="));
  EXPECT_FALSE(parse_bearer("Bearer a b"));
  EXPECT_FALSE(parse_bearer("Bearer =abc"));
  EXPECT_FALSE(parse_bearer("Bearer ab=c"));
  EXPECT_FALSE(parse_bearer("Bearer " + std::string(513, 'a')));
}

TEST(TokenHash, IsSha256Hex) {
  // FIPS 180-2 appendix B.1.
  EXPECT_EQ(hash_token("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hash_token(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TokenHash, ConstantTimeEqualComparesLengthAndBytes) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Token, Base64UrlMatchesRfc4648Vectors) {
  // RFC 4648 §10, in the URL-safe alphabet without padding (§5).
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");  // "+/8=" in standard base64
}

TEST(Token, GeneratedTokensArePrefixedRandomBase64Url) {
  const auto a = generate_token();
  const auto b = generate_token();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), kTokenPrefix.size() + 43);  // 32 bytes → 43 characters
  EXPECT_TRUE(a.starts_with(kTokenPrefix));
  EXPECT_EQ(
      a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", kTokenPrefix.size()),
      std::string::npos);
  EXPECT_EQ(parse_bearer("Bearer " + a), a);
}

TEST(Scopes, NamesRoundTrip) {
  EXPECT_EQ(scope_name(Scope::kConferencesModerate), "conferences:moderate");
  EXPECT_EQ(parse_scope("meetings:write"), Scope::kMeetingsWrite);
  EXPECT_FALSE(parse_scope("rooms:delete"));
  auto set = ScopeSet::parse({"rooms:write", "rooms:read"});
  ASSERT_TRUE(set);
  EXPECT_THAT(set->names(), ElementsAre("rooms:read", "rooms:write"));
  EXPECT_TRUE(set->contains(Scope::kRoomsRead));
  EXPECT_FALSE(set->contains(Scope::kMeetingsWrite));
  EXPECT_EQ(ScopeSet::parse({"rooms:read", "admin"}).error(), R"(unknown scope "admin")");
  EXPECT_EQ(ScopeSet::all().names().size(), 7U);
}

// Issue 14: the node's own routes (GET /v1/system, drain) have a scope of their own.
TEST(Scopes, SystemAdminIsItsOwnScopeThatTheAdminHas) {
  EXPECT_EQ(scope_name(Scope::kSystemAdmin), "system:admin");
  EXPECT_EQ(parse_scope("system:admin"), Scope::kSystemAdmin);
  EXPECT_TRUE(ScopeSet::all().contains(Scope::kSystemAdmin));
  EXPECT_FALSE(
      (ScopeSet{Scope::kRoomsRead, Scope::kConferencesModerate, Scope::kCallsDialOut}).contains(Scope::kSystemAdmin));
}

// Issue 12: dial-out is egress, its own scope; the admin has it, conferences:moderate does not.
TEST(Scopes, CallsDialOutIsItsOwnScopeThatTheAdminHas) {
  EXPECT_EQ(scope_name(Scope::kCallsDialOut), "calls:dial_out");
  EXPECT_EQ(parse_scope("calls:dial_out"), Scope::kCallsDialOut);
  EXPECT_TRUE(ScopeSet::all().contains(Scope::kCallsDialOut));
  EXPECT_FALSE((ScopeSet{Scope::kConferencesModerate}).contains(Scope::kCallsDialOut));
}

TEST(Scopes, RoomsSecretsIsItsOwnScopeThatTheAdminHas) {
  EXPECT_EQ(scope_name(Scope::kRoomsSecrets), "rooms:secrets");
  EXPECT_EQ(parse_scope("rooms:secrets"), Scope::kRoomsSecrets);
  EXPECT_TRUE(ScopeSet::all().contains(Scope::kRoomsSecrets));
  EXPECT_FALSE((ScopeSet{Scope::kRoomsRead, Scope::kRoomsWrite}).contains(Scope::kRoomsSecrets));
}

TEST(Authenticator, AdminTokenGetsEveryScopeWithoutALookup) {
  KeyTable keys;
  Authenticator auth("s3cret-admin", keys);
  auto principal = auth.authenticate("Bearer s3cret-admin");
  ASSERT_TRUE(principal);
  EXPECT_TRUE(principal->admin);
  EXPECT_EQ(principal->id, "admin");
  EXPECT_TRUE(principal->has(Scope::kConferencesModerate));
  EXPECT_TRUE(keys.lookups.empty());
}

TEST(Authenticator, ApiKeyIsFoundByTheTokenHash) {
  KeyTable keys;
  keys.keys[hash_token("chorus_key1")] = {"k1", "calendar sync", {Scope::kMeetingsWrite}};
  Authenticator auth("admin", keys);
  auto principal = auth.authenticate("Bearer chorus_key1");
  ASSERT_TRUE(principal);
  EXPECT_FALSE(principal->admin);
  EXPECT_EQ(principal->id, "k1");
  EXPECT_EQ(principal->name, "calendar sync");
  EXPECT_TRUE(principal->has(Scope::kMeetingsWrite));
  EXPECT_FALSE(principal->has(Scope::kRoomsWrite));
  EXPECT_THAT(keys.lookups, ElementsAre(hash_token("chorus_key1")));  // never the token itself
}

TEST(Authenticator, MissingMalformedAndUnknownTokens) {
  KeyTable keys;
  Authenticator auth("admin", keys);
  EXPECT_EQ(auth.authenticate("").error(), AuthFailure::kMissing);
  EXPECT_EQ(auth.authenticate("Basic YWRtaW4=").error(), AuthFailure::kInvalid);
  EXPECT_EQ(auth.authenticate("Bearer admin2").error(), AuthFailure::kInvalid);
  EXPECT_EQ(auth.authenticate("Bearer adm").error(), AuthFailure::kInvalid);
}

TEST(RateLimiter, TokenBucketRefillsAtTheConfiguredRate) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter limiter({.requests_per_second = 20, .burst = 40}, [&] { return now; });
  for (int i = 0; i < 40; ++i) ASSERT_FALSE(limiter.admit("k")) << i;
  EXPECT_EQ(limiter.admit("k"), 1s);
  now += 100ms;  // two tokens back
  EXPECT_FALSE(limiter.admit("k"));
  EXPECT_FALSE(limiter.admit("k"));
  EXPECT_TRUE(limiter.admit("k"));
  now += 10s;  // refilled to the burst, not beyond
  for (int i = 0; i < 40; ++i) ASSERT_FALSE(limiter.admit("k")) << i;
  EXPECT_TRUE(limiter.admit("k"));
}

TEST(RateLimiter, RetryAfterRoundsUpToWholeSeconds) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter limiter({.requests_per_second = 0.25, .burst = 1}, [&] { return now; });
  EXPECT_FALSE(limiter.admit("k"));
  EXPECT_EQ(limiter.admit("k"), 4s);
  now += 1500ms;
  EXPECT_EQ(limiter.admit("k"), 3s);  // 2.5 s left
}

TEST(RateLimiter, ZeroRateDisablesAndIdleBucketsAreDropped) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter off({.requests_per_second = 0}, [&] { return now; });
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(off.admit("k"));
  RateLimiter bounded({.requests_per_second = 1, .burst = 1, .max_tracked_keys = 2}, [&] { return now; });
  EXPECT_FALSE(bounded.admit("a"));
  EXPECT_FALSE(bounded.admit("b"));
  EXPECT_FALSE(bounded.admit("c"));  // table full of active buckets: admitted untracked
  EXPECT_FALSE(bounded.admit("c"));
  now += 2s;  // a and b are full again: dropped to make room for c
  EXPECT_FALSE(bounded.admit("c"));
  EXPECT_TRUE(bounded.admit("c"));
}

class AdminTokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device seed;
    dir_ = std::filesystem::temp_directory_path() /
           ("chorus-auth-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed())) / "var";
  }
  void TearDown() override { std::filesystem::remove_all(dir_.parent_path()); }
  std::filesystem::path dir_;
};

TEST_F(AdminTokenFile, ConfiguredTokenWinsAndWritesNothing) {
  auto token = load_admin_token("from-flag", dir_);
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(token->token, "from-flag");
  EXPECT_TRUE(token->file.empty());
  EXPECT_FALSE(std::filesystem::exists(dir_ / "admin-token"));
}

TEST_F(AdminTokenFile, GeneratedOnceWithMode0600ThenRead) {
  auto first = load_admin_token("", dir_);
  ASSERT_TRUE(first) << first.error();
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->file, dir_ / "admin-token");
  EXPECT_TRUE(first->token.starts_with(kTokenPrefix));
  struct stat info{};
  ASSERT_EQ(::stat(first->file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
  std::ifstream in(first->file);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, first->token);

  auto second = load_admin_token("", dir_);
  ASSERT_TRUE(second) << second.error();
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->token, first->token);
}

TEST_F(AdminTokenFile, EmptyFileIsAnError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "admin-token") << "\n";
  auto token = load_admin_token("", dir_);
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().find("is empty"), std::string::npos) << token.error();
}

}  // namespace auth_test
}  // namespace chorus::rest
