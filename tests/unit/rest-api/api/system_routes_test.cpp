// /healthz, /readyz, /metrics and POST /v1/system/drain through the Router: which need a token,
// what they answer, and that the drain reaches ApiServices::drain.
#include "rest-api/api/system_routes.hpp"

#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace {

class SystemRoutesTest : public AdminApiTest {
 protected:
  void SetUp() override { add_system_routes(router_, services_); }
};

TEST_F(SystemRoutesTest, HealthzAnswersWithoutAToken) {
  const auto response = call(http::verb::get, "/healthz", "");
  EXPECT_EQ(response.status(), 200U);
  EXPECT_EQ(header_of(response, http::field::content_type), kJsonContentType);
  EXPECT_EQ(body_of(response), (nlohmann::json{{"status", "ok"}}));
}

TEST_F(SystemRoutesTest, ReadyzFollowsServicesReady) {
  auto response = call(http::verb::get, "/readyz", "");
  EXPECT_EQ(response.status(), 200U);
  EXPECT_EQ(body_of(response)["status"], "ready");

  ready_ = false;
  response = call(http::verb::get, "/readyz", "");
  EXPECT_EQ(response.status(), 503U);
  EXPECT_EQ(header_of(response, http::field::content_type), kProblemContentType);
  EXPECT_EQ(body_of(response)["type"], problem_type_uri(kProblemUnavailable));
}

TEST_F(SystemRoutesTest, ReadyzIsNotReadyWithoutAReadinessCheck) {
  services_.ready = nullptr;
  EXPECT_EQ(call(http::verb::get, "/readyz", "").status(), 503U);
}

TEST_F(SystemRoutesTest, MetricsRendersTheRegistryInTextFormat004) {
  metrics_.counter("chorus_test_things_total", "Things counted by the test").inc(3);
  const auto response = call(http::verb::get, "/metrics", "");
  EXPECT_EQ(response.status(), 200U);
  EXPECT_EQ(header_of(response, http::field::content_type), kMetricsContentType);
  EXPECT_NE(response.message.body().find("# TYPE chorus_test_things_total counter\n"), std::string::npos);
  EXPECT_NE(response.message.body().find("\nchorus_test_things_total 3\n"), std::string::npos);
}

TEST_F(SystemRoutesTest, DrainNeedsTheAdminTokenAndDrains) {
  EXPECT_EQ(call(http::verb::post, "/v1/system/drain", "").status(), 401U);
  EXPECT_EQ(drains_, 0);

  add_api_key_routes(router_, services_);
  const auto created = call(http::verb::post, "/v1/api-keys", kAdminToken,
                            {{"name", "ops"}, {"scopes", {"rooms:read", "rooms:write", "conferences:moderate"}}});
  ASSERT_EQ(created.status(), 201U);
  const std::string key_token = body_of(created)["token"];
  EXPECT_EQ(call(http::verb::post, "/v1/system/drain", key_token).status(), 403U);
  EXPECT_EQ(drains_, 0);

  const auto response = call(http::verb::post, "/v1/system/drain");
  EXPECT_EQ(response.status(), 202U);
  EXPECT_EQ(body_of(response)["status"], "draining");
  EXPECT_EQ(drains_, 1);
  EXPECT_EQ(call(http::verb::get, "/readyz", "").status(), 503U);  // the fixture's drain clears ready
}

TEST_F(SystemRoutesTest, RoutesAreListedWithTheirAccess) {
  const auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 4U);
  EXPECT_TRUE(routes[0].options.public_route);  // /healthz
  EXPECT_TRUE(routes[1].options.public_route);  // /readyz
  EXPECT_TRUE(routes[2].options.public_route);  // /metrics
  EXPECT_EQ(routes[3].pattern, "/v1/system/drain");
  EXPECT_TRUE(routes[3].options.admin_only);
  EXPECT_FALSE(routes[3].options.public_route);
}

}  // namespace
}  // namespace chorus::rest::test
