// The OpenAPI document (rest-api/api/openapi.json, served at /v1/openapi.json) and chorusd's route
// table (add_all_routes, exactly what the server registers) list the same routes and methods.
#include "rest-api/api/openapi_routes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "rest-api/api/all_routes.hpp"
#include "tests/unit/rest-api/api/webhook_api_fixture.hpp"

namespace chorus::rest::test {
namespace openapi_routes_test {

class OpenApiTest : public AdminApiTest {
 protected:
  asio::io_context control_;
  StoreDeliveryRecorder recorder_{*store_, control_.get_executor()};
  WebhookDispatcher dispatcher_{WebhookDispatcherOptions{}, recorder_};
  WebhookFanout fanout_{*store_, events_, dispatcher_};
  Router full_{authenticator_, limiter_};
};

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

TEST_F(OpenApiTest, DocumentAndRouterListTheSameOperations) {
  add_all_routes(full_, services_, fanout_, {.web_root = "/nonexistent-web-root"});
  EXPECT_GT(full_.routes().size(), 30U);
  EXPECT_TRUE(undocumented_routes(full_).empty()) << "routes the document lacks:\n"
                                                  << joined(undocumented_routes(full_));
  EXPECT_TRUE(unrouted_operations(full_).empty()) << "documented, not routed:\n" << joined(unrouted_operations(full_));
}

TEST_F(OpenApiTest, EveryDocumentedOperationNamesTheScopeItsRouteRequires) {
  add_all_routes(full_, services_, fanout_, {.web_root = "/nonexistent-web-root"});
  const auto document = nlohmann::json::parse(openapi_document_text());
  for (const auto& route : full_.routes()) {
    const auto verb = http::to_string(route.method);
    std::string method(verb.data(), verb.size());
    std::ranges::transform(method, method.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto& operation = document["paths"][route.pattern][method];
    const std::string expected = route.options.public_route ? ""
                                 : route.options.admin_only ? "admin"
                                 : route.options.scope      ? std::string(scope_name(*route.options.scope))
                                                            : "";
    EXPECT_EQ(operation.value("x-required-scope", std::string()), expected) << method << " " << route.pattern;
  }
}

TEST_F(OpenApiTest, ServedDocumentIsOpenApi31) {
  add_all_routes(full_, services_, fanout_, {.web_root = "/nonexistent-web-root"});
  const auto response = full_.handle(make_request(http::verb::get, "/v1/openapi.json", ""));
  ASSERT_EQ(response.status(), 200U);
  const auto document = nlohmann::json::parse(response.message.body());
  EXPECT_EQ(document["openapi"], "3.1.0");
  EXPECT_TRUE(document["components"]["securitySchemes"].contains("bearer"));
}

}  // namespace openapi_routes_test
}  // namespace chorus::rest::test
