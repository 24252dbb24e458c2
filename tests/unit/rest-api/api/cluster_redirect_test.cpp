// Issue 14: on a clustered node, REST about a conference that runs on another node is answered
// 307 with that node's URL and the same path and query; a conference running here, or on no node,
// answers as before, and so does a node that is not clustered. Live conferences carry "node".
#include "rest-api/api/cluster_redirect.hpp"

#include <gtest/gtest.h>

#include "rest-api/api/recording_routes.hpp"
#include "tests/unit/rest-api/api/conference_api_fixture.hpp"

namespace chorus::rest::api_test {
namespace cluster_redirect_test {

class ClusterRedirectTest : public ConferenceApiTest {
 protected:
  ClusterRedirectTest() {
    add_recording_routes(router_, *services_);
    services_->node_id = "node-b";
    services_->conference_node_url = [this](std::string_view room) -> std::optional<std::string> {
      ++lookups_;
      if (room == "1000") return "http://127.0.0.2:8080";  // node-a holds room 1000's conference
      return std::nullopt;
    };
  }
  int lookups_ = 0;
};

TEST_F(ClusterRedirectTest, RequestsAboutAConferenceOnAnotherNodeAre307ToIt) {
  const std::vector<std::pair<http::verb, std::string>> requests{
      {http::verb::get, "/v1/conferences/1000"},
      {http::verb::patch, "/v1/conferences/1000"},
      {http::verb::delete_, "/v1/conferences/1000"},
      {http::verb::get, "/v1/conferences/1000/participants?limit=5"},
      {http::verb::post, "/v1/conferences/1000/participants"},
      {http::verb::patch, "/v1/conferences/1000/participants/7"},
      {http::verb::delete_, "/v1/conferences/1000/participants/7"},
      {http::verb::post, "/v1/conferences/1000/recordings"}};
  for (const auto& [method, target] : requests) {
    const auto response = call({.method = method, .target = target, .body = json::object()});
    EXPECT_EQ(response.status(), 307U) << target;
    EXPECT_EQ(header_of(response, http::field::location), "http://127.0.0.2:8080" + target) << target;
  }
  EXPECT_TRUE(sender_.requests("INVITE").empty()) << "no dial-out from this node";
}

TEST_F(ClusterRedirectTest, TheCallerIsCheckedBeforeAnyRedirect) {
  EXPECT_EQ(call({.method = http::verb::get, .target = "/v1/conferences/1000", .token = "-"}).status(), 401U);
  EXPECT_EQ(lookups_, 0);
}

TEST_F(ClusterRedirectTest, AConferenceOnNoNodeAnswersAsBefore) {
  EXPECT_EQ(get("/v1/conferences/9196").status(), 404U);
  EXPECT_EQ(lookups_, 1);
}

TEST_F(ClusterRedirectTest, AConferenceLiveHereIsServedHereWithItsNode) {
  join("1000", 41);
  const auto response = get("/v1/conferences/1000");
  ASSERT_EQ(response.status(), 200U);
  EXPECT_EQ(body_of(response)["node"], "node-b");
  EXPECT_EQ(lookups_, 0) << "a live conference here needs no look-up";
  const auto list = get("/v1/conferences");
  ASSERT_EQ(list.status(), 200U);
  ASSERT_EQ(body_of(list)["items"].size(), 1U);
  EXPECT_EQ(body_of(list)["items"][0]["node"], "node-b");
}

TEST_F(ClusterRedirectTest, ASingleNodeNeitherRedirectsNorNamesANode) {
  services_->node_id.clear();
  services_->conference_node_url = nullptr;
  EXPECT_EQ(get("/v1/conferences/1000").status(), 404U);
  join("1000", 42);
  EXPECT_FALSE(body_of(get("/v1/conferences/1000")).contains("node"));
}

TEST(ClusterRedirect, LocationIsTheNodeUrlAndTheTargetAsSent) {
  EXPECT_EQ(redirect_location("http://10.0.0.7:8080", "/v1/conferences/a%20b?x=1"),
            "http://10.0.0.7:8080/v1/conferences/a%20b?x=1");
  EXPECT_EQ(redirect_location("http://10.0.0.7:8080/", "/v1/conferences/1"), "http://10.0.0.7:8080/v1/conferences/1");
}

}  // namespace cluster_redirect_test
}  // namespace chorus::rest::api_test
