// Issue 13: API keys remembered by token hash (ApiKeyCache, CachingApiKeyLookup), the
// Authenticator's answer without the store (authenticate_local), and Router::handle_local — the
// pipeline the HTTP thread runs for a route with a LocalRoute: authenticated, rate limited once,
// scope-checked, and left to the control loop whenever the store or the domain must be asked.
#include "rest-api/api_key_cache.hpp"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "rest-api/router.hpp"

namespace chorus::rest {
namespace api_key_cache_test {

namespace http = boost::beast::http;

constexpr std::string_view kAdminToken = "chorus-admin-token-for-cache-tests";
constexpr std::string_view kReaderToken = "chorus_reader_token_for_cache_tests";
constexpr std::string_view kWriterToken = "chorus_writer_token_for_cache_tests";

// The store's side: keys by hash, counting how often it is asked.
class CountingKeys : public ApiKeyLookup {
 public:
  void add(std::string_view token, ApiKeyPrincipal key) { keys_[hash_token(token)] = std::move(key); }
  void remove(std::string_view token) { keys_.erase(hash_token(token)); }
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override {
    ++lookups;
    const auto it = keys_.find(token_hash);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }
  int lookups = 0;

 private:
  std::map<std::string, ApiKeyPrincipal> keys_;
};

TEST(CachingApiKeyLookup, AKeyFoundOnceIsAnsweredFromMemory) {
  CountingKeys store;
  store.add(kReaderToken, {"k_reader", "reader", {Scope::kRoomsRead}});
  ApiKeyCache cache;
  CachingApiKeyLookup lookup(store, cache);
  const auto hash = hash_token(kReaderToken);
  for (int i = 0; i < 3; ++i) {
    const auto found = lookup.find_by_hash(hash);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->id, "k_reader");
    EXPECT_TRUE(found->scopes.contains(Scope::kRoomsRead));
  }
  EXPECT_EQ(store.lookups, 1);
  EXPECT_EQ(cache.size(), 1U);
}

TEST(CachingApiKeyLookup, UnknownTokensAreAskedOfTheStoreEachTime) {
  CountingKeys store;
  ApiKeyCache cache;
  CachingApiKeyLookup lookup(store, cache);
  const auto hash = hash_token("chorus_nobody");
  EXPECT_FALSE(lookup.find_by_hash(hash).has_value());
  EXPECT_FALSE(lookup.find_by_hash(hash).has_value());
  EXPECT_EQ(store.lookups, 2) << "a miss is never remembered: the store stays the only source of a yes";
  EXPECT_EQ(cache.size(), 0U);
}

TEST(CachingApiKeyLookup, AfterClearTheStoreIsAskedAgain) {
  CountingKeys store;
  store.add(kReaderToken, {"k_reader", "reader", {Scope::kRoomsRead}});
  ApiKeyCache cache;
  CachingApiKeyLookup lookup(store, cache);
  const auto hash = hash_token(kReaderToken);
  ASSERT_TRUE(lookup.find_by_hash(hash).has_value());
  store.remove(kReaderToken);  // deleted in the store: the route then clears the cache
  cache.clear();
  EXPECT_FALSE(lookup.find_by_hash(hash).has_value());
  EXPECT_EQ(store.lookups, 2);
}

TEST(ApiKeyCache, StartsAgainEmptyWhenFull) {
  ApiKeyCache cache(2);
  cache.insert("h1", {"k1", "one", {}});
  cache.insert("h2", {"k2", "two", {}});
  cache.insert("h2", {"k2", "two again", {}});  // a key already held does not count twice
  EXPECT_EQ(cache.size(), 2U);
  cache.insert("h3", {"k3", "three", {}});
  EXPECT_EQ(cache.size(), 1U);
  EXPECT_FALSE(cache.find("h1").has_value());
  ASSERT_TRUE(cache.find("h3").has_value());
  EXPECT_EQ(cache.find("h3")->id, "k3");
}

TEST(Authenticator, AuthenticateLocalKnowsTheAdminTokenAndCachedKeysOnly) {
  CountingKeys store;
  store.add(kReaderToken, {"k_reader", "reader", {Scope::kRoomsRead}});
  ApiKeyCache cache;
  CachingApiKeyLookup lookup(store, cache);
  const Authenticator authenticator(kAdminToken, lookup, &cache);
  const std::string reader = "Bearer " + std::string(kReaderToken);

  EXPECT_EQ(authenticator.authenticate_local("")->error(), AuthFailure::kMissing);
  EXPECT_EQ(authenticator.authenticate_local("Basic abc")->error(), AuthFailure::kInvalid);
  const auto admin = authenticator.authenticate_local("Bearer " + std::string(kAdminToken));
  ASSERT_TRUE(admin.has_value() && admin->has_value());
  EXPECT_TRUE((*admin)->admin);
  EXPECT_FALSE(authenticator.authenticate_local(reader).has_value()) << "not cached yet: only the store can tell";
  EXPECT_EQ(store.lookups, 0);

  ASSERT_TRUE(authenticator.authenticate(reader).has_value());  // the control loop's look-up fills the cache
  const auto local = authenticator.authenticate_local(reader);
  ASSERT_TRUE(local.has_value() && local->has_value());
  EXPECT_EQ((*local)->id, "k_reader");
  EXPECT_FALSE((*local)->admin);
  EXPECT_EQ(store.lookups, 1);
}

TEST(Authenticator, WithoutACacheEveryKeyGoesToTheStore) {
  CountingKeys store;
  store.add(kReaderToken, {"k_reader", "reader", {Scope::kRoomsRead}});
  const Authenticator authenticator(kAdminToken, store);
  const std::string reader = "Bearer " + std::string(kReaderToken);
  ASSERT_TRUE(authenticator.authenticate(reader).has_value());
  EXPECT_FALSE(authenticator.authenticate_local(reader).has_value());
}

HttpRequest get_request(std::string target, std::string_view token) {
  HttpRequest request;
  request.message.method(http::verb::get);
  request.message.target(target);
  request.message.version(11);
  if (!token.empty()) request.message.set(http::field::authorization, "Bearer " + std::string(token));
  return request;
}

// A route with both answers; the local one says where it ran.
class HandleLocalTest : public ::testing::Test {
 protected:
  HandleLocalTest() {
    store_.add(kReaderToken, {"k_reader", "reader", {Scope::kRoomsRead}});
    store_.add(kWriterToken, {"k_writer", "writer", {Scope::kRoomsWrite}});
    const auto answer = [](std::string where) {
      return [where](const RequestContext& context) {
        return HttpResponse::json(http::status::ok, {{"where", where}, {"caller", context.principal->id}});
      };
    };
    router_.add(http::verb::get, "/v1/things", {.scope = Scope::kRoomsRead}, answer("loop"));
    router_.set_local(http::verb::get, "/v1/things",
                      LocalRoute{.ready = [this] { return ready_; }, .answer = answer("local")});
    router_.add(http::verb::get, "/v1/other", {.scope = Scope::kRoomsRead}, answer("loop"));
  }

  CountingKeys store_;
  ApiKeyCache cache_;
  CachingApiKeyLookup lookup_{store_, cache_};
  Authenticator authenticator_{kAdminToken, lookup_, &cache_};
  std::chrono::steady_clock::time_point now_{};
  RateLimiter limiter_{RateLimitConfig{.requests_per_second = 1, .burst = 2}, [this] { return now_; }};
  Router router_{authenticator_, limiter_};
  bool ready_ = true;
};

TEST_F(HandleLocalTest, AnswersTheAdminTokenAndCachedKeysAndLeavesTheRestToTheLoop) {
  const auto admin = router_.handle_local(get_request("/v1/things", kAdminToken));
  ASSERT_TRUE(admin.has_value());
  EXPECT_EQ(nlohmann::json::parse(admin->message.body())["where"], "local");

  EXPECT_FALSE(router_.handle_local(get_request("/v1/things", kReaderToken)).has_value()) << "not cached";
  EXPECT_FALSE(router_.handle_local(get_request("/v1/other", kAdminToken)).has_value()) << "no local answer";
  EXPECT_FALSE(router_.handle_local(get_request("/v1/nowhere", kAdminToken)).has_value()) << "404s: the loop's";
  ready_ = false;
  EXPECT_FALSE(router_.handle_local(get_request("/v1/things", kAdminToken)).has_value()) << "not ready";
}

TEST_F(HandleLocalTest, ChecksTheCallerRateAndScopeAsTheLoopDoes) {
  const auto missing = router_.handle_local(get_request("/v1/things", ""));
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(missing->status(), 401U);
  const auto malformed = router_.handle_local(get_request("/v1/things", "not a token"));
  ASSERT_TRUE(malformed.has_value());
  EXPECT_EQ(malformed->status(), 401U);

  // The writer lacks rooms:read: 403 wherever it is answered.
  ASSERT_EQ(router_.handle(get_request("/v1/things", kWriterToken)).status(), 403U);
  const auto writer = router_.handle_local(get_request("/v1/things", kWriterToken));
  ASSERT_TRUE(writer.has_value());
  EXPECT_EQ(writer->status(), 403U);
}

TEST_F(HandleLocalTest, ARequestLeftToTheLoopIsRateLimitedThereOnly) {
  // Burst 2, clock stopped: a local miss must not take a token, or the loop would refuse the request.
  EXPECT_FALSE(router_.handle_local(get_request("/v1/things", kReaderToken)).has_value());
  const auto first = router_.handle(get_request("/v1/things", kReaderToken));
  ASSERT_EQ(first.status(), 200U);
  EXPECT_EQ(nlohmann::json::parse(first.message.body())["where"], "loop");
  const auto second = router_.handle_local(get_request("/v1/things", kReaderToken));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->status(), 200U);
  EXPECT_EQ(nlohmann::json::parse(second->message.body())["caller"], "k_reader");
  const auto third = router_.handle_local(get_request("/v1/things", kReaderToken));
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->status(), 429U) << "the per-key limit applies to local answers";
  EXPECT_EQ(store_.lookups, 1);
}

TEST_F(HandleLocalTest, SetLocalNeedsAnExistingRoute) {
  EXPECT_THROW(router_.set_local(http::verb::post, "/v1/things", LocalRoute{}), std::invalid_argument);
}

}  // namespace api_key_cache_test
}  // namespace chorus::rest
