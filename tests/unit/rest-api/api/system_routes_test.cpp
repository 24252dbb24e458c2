// /healthz, /readyz, /metrics, GET /v1/system and POST/DELETE /v1/system/drain through the Router:
// which need a token, what they answer, that a single node's drain reaches ApiServices::drain and a
// clustered node's (issue 14) ApiServices::cluster_drain instead.
#include "rest-api/api/system_routes.hpp"

#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace system_routes_test {

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

TEST_F(SystemRoutesTest, DrainNeedsTheSystemAdminScopeAndDrains) {
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

TEST_F(SystemRoutesTest, ASystemAdminKeyMayDrain) {
  add_api_key_routes(router_, services_);
  const auto created =
      call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", "deploy"}, {"scopes", {"system:admin"}}});
  ASSERT_EQ(created.status(), 201U);
  const std::string key_token = body_of(created)["token"];
  EXPECT_EQ(call(http::verb::post, "/v1/system/drain", key_token).status(), 202U);
  EXPECT_EQ(drains_, 1);
}

TEST_F(SystemRoutesTest, ASingleNodesDrainCannotBeEnded) {
  const auto response = call(http::verb::delete_, "/v1/system/drain");
  EXPECT_EQ(response.status(), 409U);
  EXPECT_EQ(header_of(response, http::field::content_type), kProblemContentType);
  EXPECT_EQ(drains_, 0);
}

// Issue 14: a clustered node's drain keeps the process and its calls, and can be ended.
class ClusteredSystemRoutesTest : public SystemRoutesTest {
 protected:
  void SetUp() override {
    services_.system_status = [this] {
      return nlohmann::json{
          {"node_id", "node-b"}, {"draining", draining_}, {"live_conferences", 2}, {"clustered", true}};
    };
    services_.cluster_drain = [this](bool draining) { draining_ = draining; };
    SystemRoutesTest::SetUp();
  }
  bool draining_ = false;
};

TEST_F(ClusteredSystemRoutesTest, DrainStartsAndEndsWithoutStoppingTheProcess) {
  auto response = call(http::verb::get, "/v1/system");
  EXPECT_EQ(response.status(), 200U);
  EXPECT_EQ(body_of(response),
            (nlohmann::json{{"node_id", "node-b"}, {"draining", false}, {"live_conferences", 2}, {"clustered", true}}));

  response = call(http::verb::post, "/v1/system/drain");
  EXPECT_EQ(response.status(), 202U);
  EXPECT_EQ(body_of(response)["status"], "draining");
  EXPECT_EQ(body_of(response)["draining"], true);
  EXPECT_EQ(body_of(response)["node_id"], "node-b");
  EXPECT_EQ(body_of(response)["live_conferences"], 2);
  EXPECT_TRUE(draining_);
  EXPECT_EQ(drains_, 0) << "the process drain (hang up everything, exit) is not used";
  EXPECT_EQ(body_of(call(http::verb::get, "/v1/system"))["draining"], true);

  response = call(http::verb::delete_, "/v1/system/drain");
  EXPECT_EQ(response.status(), 200U);
  EXPECT_EQ(body_of(response)["draining"], false);
  EXPECT_FALSE(draining_);
}

TEST_F(ClusteredSystemRoutesTest, SystemRoutesNeedTheSystemAdminScope) {
  EXPECT_EQ(call(http::verb::get, "/v1/system", "").status(), 401U);
  add_api_key_routes(router_, services_);
  const auto created = call(http::verb::post, "/v1/api-keys", kAdminToken,
                            {{"name", "ops"}, {"scopes", {"rooms:read", "conferences:moderate"}}});
  ASSERT_EQ(created.status(), 201U);
  const std::string key_token = body_of(created)["token"];
  for (auto method : {http::verb::get, http::verb::post, http::verb::delete_}) {
    const auto response = call(method, method == http::verb::get ? "/v1/system" : "/v1/system/drain", key_token);
    EXPECT_EQ(response.status(), 403U);
    EXPECT_NE(header_of(response, http::field::www_authenticate).find("system:admin"), std::string::npos);
  }
  EXPECT_FALSE(draining_);
}

TEST_F(SystemRoutesTest, RoutesAreListedWithTheirAccess) {
  const auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 6U);
  EXPECT_TRUE(routes[0].options.public_route);  // /healthz
  EXPECT_TRUE(routes[1].options.public_route);  // /readyz
  EXPECT_TRUE(routes[2].options.public_route);  // /metrics
  for (std::size_t i = 3; i < 6; ++i) {
    EXPECT_TRUE(routes[i].pattern.starts_with("/v1/system")) << routes[i].pattern;
    EXPECT_EQ(routes[i].options.scope, Scope::kSystemAdmin) << routes[i].pattern;
    EXPECT_FALSE(routes[i].options.public_route);
  }
}

}  // namespace system_routes_test
}  // namespace chorus::rest::test
