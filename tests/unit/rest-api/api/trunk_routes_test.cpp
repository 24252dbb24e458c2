// /v1/trunks (issue 15): create, read, page, patch, delete; passwords write-only; validation.
#include "rest-api/api/trunk_routes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace trunk_routes_test {

using json = nlohmann::json;

class TrunkRoutesTest : public AdminApiTest {
 protected:
  TrunkRoutesTest() {
    services_.trunks = &trunks_;
    trunks_.set_listener([this](std::string_view id, const conference::Trunk* trunk) {
      changes_.push_back(std::string(id) + (trunk != nullptr ? " set" : " removed"));
    });
    add_trunk_routes(router_, services_);
  }

  static json provider() {
    return {{"name", "provider"},
            {"targets", json::array({{{"host", "sip.provider.example"}},
                                     {{"host", "192.0.2.10"}, {"port", 5080}, {"transport", "tcp"}}})},
            {"registration", {{"username", "4930123456"}, {"password", "reg-s3cret"}, {"expires", 300}}},
            {"outbound_credentials", {{"username", "out"}, {"password", "out-s3cret"}}},
            {"inbound", {{"ranges", json::array({"192.0.2.0/24"})}}},
            {"numbering", {{"country_code", "49"}}},
            {"caller_id", "030 123456"}};
  }

  std::string create(const json& body = provider()) {
    const auto response = call(http::verb::post, "/v1/trunks", kAdminToken, body);
    EXPECT_EQ(response.status(), 201U) << response.message.body();
    return body_of(response).value("id", "");
  }

  conference::TrunkDirectory trunks_;
  std::vector<std::string> changes_;
};

TEST_F(TrunkRoutesTest, CreateShowsEverythingButThePasswords) {
  const auto response = call(http::verb::post, "/v1/trunks", kAdminToken, provider());
  ASSERT_EQ(response.status(), 201U) << response.message.body();
  const auto body = body_of(response);
  const std::string id = body["id"];
  EXPECT_TRUE(id.starts_with("trk_"));
  EXPECT_EQ(header_of(response, http::field::location), "/v1/trunks/" + id);
  EXPECT_EQ(header_of(response, http::field::etag), "\"1\"");
  EXPECT_EQ(header_of(response, http::field::cache_control), "no-store");
  EXPECT_EQ(response.message.body().find("s3cret"), std::string::npos);
  EXPECT_EQ(body["registration"]["password_set"], true);
  EXPECT_EQ(body["registration"]["contact_user"], "4930123456");  // defaults to the username
  EXPECT_EQ(body["registration"]["expires"], 300);
  EXPECT_EQ(body["registration"]["status"]["state"], "unregistered");
  EXPECT_EQ(body["outbound_credentials"]["password_set"], true);
  EXPECT_EQ(body["targets"][1], (json{{"host", "192.0.2.10"}, {"port", 5080}, {"transport", "tcp"}}));
  EXPECT_EQ(body["numbering"],
            (json{{"country_code", "49"}, {"national_prefix", "0"}, {"international_prefix", "00"}}));
  EXPECT_EQ(body["caller_id"], "+4930123456");  // normalised with the trunk's numbering
  // Stored with the passwords, and the live directory has it.
  auto stored = store_->get_trunk(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->registration->password, "reg-s3cret");
  EXPECT_EQ(stored->outbound->password, "out-s3cret");
  ASSERT_NE(trunks_.find(id), nullptr);
  EXPECT_EQ(changes_, std::vector<std::string>{id + " set"});
}

TEST_F(TrunkRoutesTest, GetShowsTheLiveRegistrationStatus) {
  const auto id = create();
  trunks_.set_status(id, {.state = conference::RegistrationState::kFailed, .last_error = "403 Forbidden"});
  const auto response = call(http::verb::get, "/v1/trunks/" + id);
  ASSERT_EQ(response.status(), 200U);
  const auto status = body_of(response)["registration"]["status"];
  EXPECT_EQ(status["state"], "failed");
  EXPECT_EQ(status["last_error"], "403 Forbidden");
  EXPECT_TRUE(status["expires_at"].is_null());
  EXPECT_EQ(call(http::verb::get, "/v1/trunks/trk_nope").status(), 404U);
}

TEST_F(TrunkRoutesTest, ListPages) {
  for (int i = 0; i < 3; ++i) {
    auto body = provider();
    body["name"] = "t" + std::to_string(i);
    create(body);
  }
  const auto first = body_of(call(http::verb::get, "/v1/trunks?limit=2"));
  ASSERT_EQ(first["items"].size(), 2U);
  const std::string token = first["next_page_token"];
  const auto rest = body_of(call(http::verb::get, "/v1/trunks?limit=2&page_token=" + token));
  EXPECT_EQ(rest["items"].size(), 1U);
  EXPECT_TRUE(rest["next_page_token"].is_null());
}

TEST_F(TrunkRoutesTest, PatchKeepsPasswordsItDoesNotName) {
  const auto id = create();
  EXPECT_EQ(call(http::verb::patch, "/v1/trunks/" + id, kAdminToken, json{{"name", "x"}}).status(), 428U);
  EXPECT_EQ(
      call(http::verb::patch, "/v1/trunks/" + id, kAdminToken, json{{"name", "x"}}, {{"If-Match", "\"7\""}}).status(),
      412U);
  const auto response = call(http::verb::patch, "/v1/trunks/" + id, kAdminToken,
                             json{{"registration", {{"username", "new-user"}, {"expires", 120}}},
                                  {"outbound_credentials", nullptr},
                                  {"caller_id", nullptr}},
                             {{"If-Match", "\"1\""}});
  ASSERT_EQ(response.status(), 200U) << response.message.body();
  EXPECT_EQ(header_of(response, http::field::etag), "\"2\"");
  const auto body = body_of(response);
  EXPECT_EQ(body["registration"]["username"], "new-user");
  EXPECT_TRUE(body["outbound_credentials"].is_null());
  EXPECT_TRUE(body["caller_id"].is_null());
  auto stored = store_->get_trunk(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->registration->password, "reg-s3cret");
  EXPECT_EQ(stored->registration->expires, std::chrono::seconds(120));
  EXPECT_EQ(trunks_.find(id)->registration->username, "new-user");
}

TEST_F(TrunkRoutesTest, DeleteRemovesFromStoreAndDirectory) {
  const auto id = create();
  EXPECT_EQ(call(http::verb::delete_, "/v1/trunks/" + id).status(), 204U);
  EXPECT_EQ(trunks_.find(id), nullptr);
  EXPECT_EQ(changes_.back(), id + " removed");
  EXPECT_EQ(call(http::verb::delete_, "/v1/trunks/" + id).status(), 404U);
}

TEST_F(TrunkRoutesTest, NameIsUnique) {
  create();
  EXPECT_EQ(call(http::verb::post, "/v1/trunks", kAdminToken, provider()).status(), 409U);
}

TEST_F(TrunkRoutesTest, InvalidFieldsAreEachNamed) {
  const json body{{"name", ""},
                  {"targets", json::array({{{"host", "bad host!"}, {"port", 70000}, {"transport", "sctp"}},
                                           {{"host", "[2001:db8::1]"}, {"port", 0}}})},
                  {"registration", {{"username", "a b"}, {"expires", 5}}},
                  {"outbound_credentials", {{"username", "u"}}},
                  {"inbound", {{"ranges", json::array({"10.1.2.3/8", "nope"})}, {"from_registration", "yes"}}},
                  {"numbering", {{"country_code", "049"}, {"national_prefix", "abc"}}},
                  {"caller_id", "alice"},
                  {"extra", 1}};
  const auto response = call(http::verb::post, "/v1/trunks", kAdminToken, body);
  ASSERT_EQ(response.status(), 422U) << response.message.body();
  EXPECT_EQ(header_of(response, http::field::content_type), "application/problem+json");
  const auto fields = error_fields(response);
  for (const char* field :
       {"/name", "/targets/0/host", "/targets/0/port", "/targets/0/transport", "/targets/1/port",
        "/registration/username", "/registration/password", "/registration/expires", "/outbound_credentials/password",
        "/inbound/ranges/0", "/inbound/ranges/1", "/inbound/from_registration", "/numbering/country_code",
        "/numbering/national_prefix", "/caller_id", "/extra"}) {
    EXPECT_NE(std::ranges::find(fields, field), fields.end()) << field;
  }
  EXPECT_EQ(store_->list_trunks("", 10)->size(), 0U);
}

TEST_F(TrunkRoutesTest, SizesAreBounded) {
  auto body = provider();
  body["targets"] = json::array();
  for (int i = 0; i < 9; ++i) body["targets"].push_back({{"host", "h" + std::to_string(i) + ".example"}});
  body["registration"]["password"] = std::string(129, 'p');
  body["name"] = std::string(65, 'n');
  const auto fields = error_fields(call(http::verb::post, "/v1/trunks", kAdminToken, body));
  for (const char* field : {"/targets", "/registration/password", "/name"}) {
    EXPECT_NE(std::ranges::find(fields, field), fields.end()) << field;
  }
}

TEST_F(TrunkRoutesTest, NeedsSystemAdminScope) {
  const auto response = call(http::verb::get, "/v1/trunks", "-");
  EXPECT_EQ(response.status(), 401U);
}

}  // namespace trunk_routes_test
}  // namespace chorus::rest::test
