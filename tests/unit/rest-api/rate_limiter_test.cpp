// The admin token's own bucket and settings (issue 12: "the rate limiter's settings exposed"),
// the refusal counters, and the whole 429 through the Router. The key-bucket arithmetic is in
// auth_test.cpp (RateLimiter.*).
#include "rest-api/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rest-api/metrics.hpp"
#include "rest-api/problem.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {
namespace rate_limiter_test {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using Caller = RateLimiter::Caller;

TEST(RateLimiterAdmin, TheAdminTokenIsNotLimitedByDefault) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter limiter({.requests_per_second = 1, .burst = 1}, [&] { return now; });
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(limiter.admit("admin", Caller::kAdmin)) << i;
  EXPECT_EQ(limiter.refused(Caller::kAdmin), 0U);
}

TEST(RateLimiterAdmin, TheAdminTokenHasItsOwnRateAndBurst) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter limiter({.requests_per_second = 1, .burst = 1, .admin_requests_per_second = 10, .admin_burst = 5},
                      [&] { return now; });
  for (int i = 0; i < 5; ++i) ASSERT_FALSE(limiter.admit("admin", Caller::kAdmin)) << i;
  EXPECT_EQ(limiter.admit("admin", Caller::kAdmin), 1s);
  now += 200ms;  // 10/s: two tokens back
  EXPECT_FALSE(limiter.admit("admin", Caller::kAdmin));
  EXPECT_FALSE(limiter.admit("admin", Caller::kAdmin));
  EXPECT_TRUE(limiter.admit("admin", Caller::kAdmin));
  EXPECT_EQ(limiter.refused(Caller::kAdmin), 2U);
  EXPECT_EQ(limiter.refused(Caller::kApiKey), 0U);
}

TEST(RateLimiterAdmin, AKeyNamedLikeTheAdminDoesNotShareItsBucket) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  RateLimiter limiter({.requests_per_second = 1, .burst = 1, .admin_requests_per_second = 1, .admin_burst = 1},
                      [&] { return now; });
  EXPECT_FALSE(limiter.admit("admin", Caller::kApiKey));
  EXPECT_FALSE(limiter.admit("admin", Caller::kAdmin)) << "the admin bucket is separate from the key map";
  EXPECT_TRUE(limiter.admit("admin", Caller::kApiKey));
  EXPECT_TRUE(limiter.admit("admin", Caller::kAdmin));
}

TEST(RateLimiterAdmin, RefusalsAreCountedPerCallerKindOnMetrics) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  MetricsRegistry registry;
  RateLimiter limiter({.requests_per_second = 1, .burst = 1, .admin_requests_per_second = 1, .admin_burst = 1},
                      [&] { return now; });
  limiter.attach_metrics(registry);
  EXPECT_FALSE(limiter.admit("key-1"));
  EXPECT_TRUE(limiter.admit("key-1"));
  EXPECT_TRUE(limiter.admit("key-1"));
  EXPECT_FALSE(limiter.admit("admin", Caller::kAdmin));
  EXPECT_TRUE(limiter.admit("admin", Caller::kAdmin));
  const std::string text = registry.render();
  EXPECT_NE(text.find("chorus_http_rate_limited_total{caller=\"api_key\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_rate_limited_total{caller=\"admin\"} 1\n"), std::string::npos) << text;
}

// No keys: only the admin token authenticates.
class NoKeys : public ApiKeyLookup {
 public:
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string&) override { return std::nullopt; }
};

TEST(RateLimiterAdmin, TheRouterAnswersAnAdminOverItsRate429ProblemWithRetryAfter) {
  auto now = std::chrono::steady_clock::time_point{} + 100s;
  NoKeys keys;
  Authenticator authenticator("admin-secret", keys);
  RateLimiter limiter({.admin_requests_per_second = 0.5, .admin_burst = 2}, [&] { return now; });
  Router router(authenticator, limiter);
  router.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead, .summary = "List rooms"},
             [](const RequestContext&) { return HttpResponse::json(http::status::ok, nlohmann::json::array()); });
  HttpRequest request;
  request.message.method(http::verb::get);
  request.message.target("/v1/rooms");
  request.message.version(11);
  request.message.set(http::field::authorization, "Bearer admin-secret");
  EXPECT_EQ(router.handle(request).status(), 200U);
  EXPECT_EQ(router.handle(request).status(), 200U);
  const auto refused = router.handle(request);
  ASSERT_EQ(refused.status(), 429U);
  EXPECT_EQ(std_view(refused.message[http::field::retry_after]), "2");  // 0.5/s: a token in 2 s
  EXPECT_EQ(std_view(refused.message[http::field::content_type]), kProblemContentType);
  EXPECT_EQ(nlohmann::json::parse(refused.message.body())["type"], problem_type_uri(kProblemRateLimited));
  now += 2s;
  EXPECT_EQ(router.handle(request).status(), 200U);
}

}  // namespace rate_limiter_test
}  // namespace chorus::rest
