// /v1/webhooks through the Router with a real SqliteStore: secrets shown once, URL / type /
// secret validation, paging, deletion (and the fan-out's list following it), the delivery log as
// StoreDeliveryRecorder writes it, and admin-only access.
#include "rest-api/webhooks/webhook_signature.hpp"
#include "tests/unit/rest-api/api/webhook_api_fixture.hpp"

namespace chorus::rest::test {
namespace webhook_routes_test {

constexpr std::string_view kGivenSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
constexpr std::string_view kUrl = "http://127.0.0.1:9/hooks";

using WebhookRoutesTest = WebhookApiTest;

TEST_F(WebhookRoutesTest, CreateGeneratesASecretAndShowsItOnce) {
  const auto response = call(http::verb::post, "/v1/webhooks", kAdminToken,
                             {{"url", kUrl}, {"event_types", {"participant.joined", "room.created"}}});
  ASSERT_EQ(response.status(), 201U) << response.message.body();
  const auto body = body_of(response);
  const std::string id = body["id"];
  EXPECT_TRUE(id.starts_with("wh_")) << id;
  EXPECT_EQ(body["url"], kUrl);
  EXPECT_EQ(body["event_types"], (nlohmann::json{"participant.joined", "room.created"}));
  const std::string secret = body["secret"];
  EXPECT_TRUE(secret.starts_with(kWebhookSecretPrefix)) << secret;
  const auto key = decode_webhook_secret(secret);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->size(), kWebhookSecretBytes);
  EXPECT_EQ(header_of(response, http::field::location), "/v1/webhooks/" + id);
  EXPECT_EQ(header_of(response, http::field::cache_control), "no-store");
  EXPECT_EQ(store_->get_webhook(id)->secret, secret);

  const auto got = call(http::verb::get, "/v1/webhooks/" + id);
  ASSERT_EQ(got.status(), 200U);
  EXPECT_FALSE(body_of(got).contains("secret"));
  EXPECT_EQ(body_of(got)["url"], kUrl);
  const auto list = body_of(call(http::verb::get, "/v1/webhooks"));
  ASSERT_EQ(list["items"].size(), 1U);
  EXPECT_FALSE(list["items"][0].contains("secret"));
  EXPECT_EQ(fanout_.webhook_count(), 1U);
}

TEST_F(WebhookRoutesTest, CreateKeepsAGivenSecret) {
  const auto response =
      call(http::verb::post, "/v1/webhooks", kAdminToken,
           {{"url", "http://localhost:8081/x?y=1"}, {"event_types", {"*"}}, {"secret", kGivenSecret}});
  ASSERT_EQ(response.status(), 201U) << response.message.body();
  EXPECT_EQ(body_of(response)["secret"], kGivenSecret);
  EXPECT_EQ(store_->get_webhook(body_of(response)["id"].get<std::string>())->secret, kGivenSecret);
}

TEST_F(WebhookRoutesTest, RefusesUrlsTheDispatcherCannotReach) {
  for (const std::string url : {"https://127.0.0.1/hooks", "http://example.com/hooks", "ftp://127.0.0.1/",
                                "127.0.0.1:8080/hooks", "http://", "http://127.0.0.1:99999/"}) {
    const auto response = call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", url}, {"event_types", {"*"}}});
    EXPECT_EQ(response.status(), 422U) << url;
    EXPECT_EQ(error_fields(response), std::vector<std::string>{"/url"}) << url;
  }
  const auto not_string = call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", 42}, {"event_types", {"*"}}});
  EXPECT_EQ(error_fields(not_string), std::vector<std::string>{"/url"});
  const auto too_long =
      call(http::verb::post, "/v1/webhooks", kAdminToken,
           {{"url", "http://127.0.0.1/" + std::string(kMaxWebhookUrlLength, 'a')}, {"event_types", {"*"}}});
  EXPECT_EQ(error_fields(too_long), std::vector<std::string>{"/url"});
  EXPECT_TRUE(body_of(call(http::verb::get, "/v1/webhooks"))["items"].empty());
}

TEST_F(WebhookRoutesTest, RefusesUnknownEventTypesAndBadSecrets) {
  auto response = call(http::verb::post, "/v1/webhooks", kAdminToken,
                       {{"url", kUrl}, {"event_types", {"room.created", "room.exploded", 3}}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(error_fields(response), (std::vector<std::string>{"/event_types/1", "/event_types/2"}));

  response =
      call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", kUrl}, {"event_types", nlohmann::json::array()}});
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"/event_types"});

  response = call(http::verb::post, "/v1/webhooks", kAdminToken,
                  {{"url", kUrl}, {"event_types", {"*"}}, {"secret", "whsec_not base64!"}});
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"/secret"});

  response = call(http::verb::post, "/v1/webhooks", kAdminToken, {{"secret", 5}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(error_fields(response), (std::vector<std::string>{"/url", "/event_types", "/secret"}));
  EXPECT_EQ(fanout_.webhook_count(), 0U);
}

TEST_F(WebhookRoutesTest, ListsInPagesAndDeletes) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(create_webhook(std::string(kUrl), {"*"})["id"]);
  std::ranges::sort(ids);
  EXPECT_EQ(fanout_.webhook_count(), 3U);

  auto page = body_of(call(http::verb::get, "/v1/webhooks?limit=2"));
  ASSERT_EQ(page["items"].size(), 2U);
  EXPECT_EQ(page["items"][0]["id"], ids[0]);
  EXPECT_EQ(page["next_page_token"], ids[1]);
  page = body_of(call(http::verb::get, "/v1/webhooks?limit=2&page_token=" + ids[1]));
  ASSERT_EQ(page["items"].size(), 1U);
  EXPECT_EQ(page["items"][0]["id"], ids[2]);
  EXPECT_TRUE(page["next_page_token"].is_null());
  EXPECT_EQ(call(http::verb::get, "/v1/webhooks?limit=500").status(), 400U);

  EXPECT_EQ(call(http::verb::delete_, "/v1/webhooks/" + ids[1]).status(), 204U);
  EXPECT_EQ(fanout_.webhook_count(), 2U);
  EXPECT_EQ(call(http::verb::get, "/v1/webhooks/" + ids[1]).status(), 404U);
  EXPECT_EQ(call(http::verb::delete_, "/v1/webhooks/" + ids[1]).status(), 404U);
  EXPECT_EQ(body_of(call(http::verb::get, "/v1/webhooks"))["items"].size(), 2U);
}

TEST_F(WebhookRoutesTest, DeliveryLogShowsEachDeliveryWithItsLastAttempt) {
  const std::string id = create_webhook(std::string(kUrl), {"*"})["id"];
  const auto at = std::chrono::system_clock::now();
  // As the dispatcher reports them, from another thread: event 7 failed once then got through;
  // event 8 failed for good without an answer.
  std::thread dispatcher_thread([&] {
    recorder_.on_attempt({id, 7, "evt_7", 1, AttemptStatus::kRetrying, 500, "HTTP 500", at});
    recorder_.on_attempt({id, 7, "evt_7", 2, AttemptStatus::kDelivered, 200, "", at});
    recorder_.on_attempt({id, 8, "evt_8", 1, AttemptStatus::kFailed, std::nullopt, "connection refused", at});
  });
  dispatcher_thread.join();
  ASSERT_TRUE(pump_until([&] { return deliveries(id)["items"].size() == 2; }));
  control_.restart();
  control_.poll();  // nothing left, but make sure the last write ran

  const auto all = deliveries(id)["items"];
  ASSERT_EQ(all.size(), 2U);
  EXPECT_EQ(all[0]["webhook_id"], id);
  EXPECT_EQ(all[0]["event_id"], 7);
  EXPECT_EQ(all[0]["attempt"], 2);
  EXPECT_EQ(all[0]["status"], "delivered");
  EXPECT_EQ(all[0]["http_status"], 200);
  EXPECT_EQ(all[0]["error"], "");
  EXPECT_EQ(all[0]["at"], conference::format_rfc3339_utc(at));
  EXPECT_EQ(all[1]["event_id"], 8);
  EXPECT_EQ(all[1]["status"], "failed");
  EXPECT_TRUE(all[1]["http_status"].is_null());
  EXPECT_EQ(all[1]["error"], "connection refused");

  const auto first = deliveries(id, "?limit=1");
  ASSERT_EQ(first["items"].size(), 1U);
  ASSERT_TRUE(first["next_page_token"].is_string());
  const auto second = deliveries(id, "?limit=1&page_token=" + first["next_page_token"].get<std::string>());
  ASSERT_EQ(second["items"].size(), 1U);
  EXPECT_EQ(second["items"][0]["event_id"], 8);
  EXPECT_TRUE(second["next_page_token"].is_null());

  EXPECT_EQ(call(http::verb::get, "/v1/webhooks/" + id + "/deliveries?page_token=abc").status(), 400U);
  EXPECT_EQ(call(http::verb::get, "/v1/webhooks/wh_none/deliveries").status(), 404U);
}

TEST_F(WebhookRoutesTest, NeedsTheAdminToken) {
  add_api_key_routes(router_, services_);
  const auto key = body_of(call(http::verb::post, "/v1/api-keys", kAdminToken,
                                {{"name", "all"}, {"scopes", {"rooms:read", "rooms:write", "meetings:write"}}}));
  const std::string token = key["token"];
  EXPECT_EQ(call(http::verb::get, "/v1/webhooks", token).status(), 403U);
  EXPECT_EQ(call(http::verb::post, "/v1/webhooks", token, {{"url", kUrl}, {"event_types", {"*"}}}).status(), 403U);
  EXPECT_EQ(call(http::verb::get, "/v1/webhooks", "").status(), 401U);
  for (const auto& route : router_.routes()) EXPECT_TRUE(route.options.admin_only) << route.pattern;
}

// Issue 12: without webhook_allow_private a private, loopback or link-local address is refused
// 403 egress-refused naming the reason; a public one is taken; a listed range opens its addresses.
TEST_F(WebhookRoutesTest, PrivateTargetsAreRefused403UnlessAllowed) {
  services_.webhook_policy = {};
  for (const std::string url : {"http://127.0.0.1:9/hooks", "http://localhost/x", "http://10.0.0.7/", "http://[::1]/",
                                "http://169.254.169.254/latest", "http://100.64.0.1/", "http://[fd00::1]/"}) {
    const auto response = call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", url}, {"event_types", {"*"}}});
    ASSERT_EQ(response.status(), 403U) << url;
    EXPECT_EQ(body_of(response)["type"], "https://chorus.example/problems/egress-refused") << url;
    EXPECT_EQ(error_fields(response), std::vector<std::string>{"/url"}) << url;
  }
  EXPECT_EQ(call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", "http://192.0.2.10/"}, {"event_types", {"*"}}})
                .status(),
            201U);
  services_.webhook_policy.allow_ranges = {sip::parse_address_range("10.0.0.0/24").value()};
  EXPECT_EQ(call(http::verb::post, "/v1/webhooks", kAdminToken, {{"url", "http://10.0.0.7/"}, {"event_types", {"*"}}})
                .status(),
            201U);
}

}  // namespace webhook_routes_test
}  // namespace chorus::rest::test
