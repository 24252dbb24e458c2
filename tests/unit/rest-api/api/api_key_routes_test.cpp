// /v1/api-keys through the Router with a real SqliteStore: the token is shown once and only its
// hash is stored, the token then authenticates through the Authenticator + StoreApiKeyLookup with
// exactly its scopes, paging, validation, deletion, and admin-only access.
#include "rest-api/api/api_key_routes.hpp"

#include <fstream>
#include <iterator>

#include "rest-api/api_key_cache.hpp"
#include "tests/unit/rest-api/api/admin_api_fixture.hpp"

namespace chorus::rest::test {
namespace api_key_routes_test {

class ApiKeyRoutesTest : public AdminApiTest {
 protected:
  void SetUp() override {
    add_api_key_routes(router_, services_);
    // Probes for the scope checks: the Router's pipeline in front of a trivial handler.
    const auto probe = [](const RequestContext& context) {
      return HttpResponse::json(http::status::ok, {{"caller", context.principal->id}});
    };
    router_.add(http::verb::get, "/v1/probe/read", {.scope = Scope::kRoomsRead}, probe);
    router_.add(http::verb::get, "/v1/probe/write", {.scope = Scope::kRoomsWrite}, probe);
  }

  nlohmann::json create(const std::string& name, std::vector<std::string> scopes) {
    const auto response = call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", name}, {"scopes", scopes}});
    EXPECT_EQ(response.status(), 201U) << response.message.body();
    return body_of(response);
  }

  // Every file of the store directory (database, WAL, shared memory), concatenated.
  std::string store_bytes() const {
    std::string bytes;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      std::ifstream in(entry.path(), std::ios::binary);
      bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return bytes;
  }
};

TEST_F(ApiKeyRoutesTest, CreateShowsTheTokenOnceAndStoresOnlyItsHash) {
  const auto response = call(http::verb::post, "/v1/api-keys", kAdminToken,
                             {{"name", "dashboard"}, {"scopes", {"rooms:write", "rooms:read", "rooms:read"}}});
  ASSERT_EQ(response.status(), 201U) << response.message.body();
  const auto body = body_of(response);
  const std::string id = body["id"];
  const std::string token = body["token"];
  EXPECT_TRUE(id.starts_with("k_")) << id;
  EXPECT_TRUE(token.starts_with("chorus_")) << token;
  EXPECT_EQ(token.size(), 7U + 43U);
  EXPECT_EQ(body["name"], "dashboard");
  EXPECT_EQ(body["scopes"], (nlohmann::json{"rooms:read", "rooms:write"}));  // once each, in enum order
  EXPECT_TRUE(body["created_at"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(header_of(response, http::field::location), "/v1/api-keys/" + id);
  EXPECT_EQ(header_of(response, http::field::cache_control), "no-store");

  const auto stored = store_->get_api_key(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->token_hash, hash_token(token));
  EXPECT_EQ(store_bytes().find(token), std::string::npos) << "the token is in the store in clear";
  EXPECT_EQ(store_bytes().find(token.substr(7)), std::string::npos);

  // Never shown again.
  const auto got = call(http::verb::get, "/v1/api-keys/" + id);
  ASSERT_EQ(got.status(), 200U);
  EXPECT_FALSE(body_of(got).contains("token"));
  EXPECT_FALSE(body_of(got).contains("token_hash"));
  EXPECT_EQ(body_of(got)["scopes"], body["scopes"]);
  const auto list = body_of(call(http::verb::get, "/v1/api-keys"));
  ASSERT_EQ(list["items"].size(), 1U);
  EXPECT_FALSE(list["items"][0].contains("token"));
  EXPECT_EQ(response.message.body().find(stored->token_hash), std::string::npos);
}

TEST_F(ApiKeyRoutesTest, TheTokenAuthenticatesWithExactlyItsScopes) {
  const auto key = create("reader", {"rooms:read"});
  const std::string token = key["token"];

  const auto principal = authenticator_.authenticate("Bearer " + token);
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->id, key["id"].get<std::string>());
  EXPECT_EQ(principal->name, "reader");
  EXPECT_FALSE(principal->admin);
  EXPECT_EQ(principal->scopes, (ScopeSet{Scope::kRoomsRead}));

  const auto read = call(http::verb::get, "/v1/probe/read", token);
  EXPECT_EQ(read.status(), 200U);
  EXPECT_EQ(body_of(read)["caller"], key["id"]);
  const auto write = call(http::verb::get, "/v1/probe/write", token);
  EXPECT_EQ(write.status(), 403U);
  EXPECT_NE(header_of(write, http::field::www_authenticate).find("insufficient_scope"), std::string::npos);
  // Keys never reach the admin-only routes, whatever their scopes.
  EXPECT_EQ(call(http::verb::get, "/v1/api-keys", token).status(), 403U);
  EXPECT_EQ(call(http::verb::get, "/v1/probe/read", token + "x").status(), 401U);
}

TEST_F(ApiKeyRoutesTest, DeleteRevokesTheKey) {
  const auto key = create("temp", {"rooms:read"});
  const std::string id = key["id"];
  ASSERT_EQ(call(http::verb::get, "/v1/probe/read", key["token"].get<std::string>()).status(), 200U);

  const auto deleted = call(http::verb::delete_, "/v1/api-keys/" + id);
  EXPECT_EQ(deleted.status(), 204U);
  EXPECT_TRUE(deleted.message.body().empty());
  EXPECT_EQ(call(http::verb::get, "/v1/probe/read", key["token"].get<std::string>()).status(), 401U);
  EXPECT_EQ(call(http::verb::get, "/v1/api-keys/" + id).status(), 404U);
  const auto again = call(http::verb::delete_, "/v1/api-keys/" + id);
  EXPECT_EQ(again.status(), 404U);
  EXPECT_EQ(header_of(again, http::field::content_type), kProblemContentType);
}

// Issue 13: with the key cache a server wires (ApiServices::key_cache), a key that has been used is
// answered from memory, on the control loop and on the HTTP thread (handle_local); its DELETE
// clears the cache before the 204, so its very next request is 401 wherever it is answered.
TEST_F(ApiKeyRoutesTest, DeleteStopsACachedKeyAtOnce) {
  ApiKeyCache cache;
  CachingApiKeyLookup cached(keys_, cache);
  const Authenticator authenticator(kAdminToken, cached, &cache);
  Router router(authenticator, limiter_);
  services_.key_cache = &cache;
  add_api_key_routes(router, services_);
  const auto probe = [](const RequestContext& context) {
    return HttpResponse::json(http::status::ok, {{"caller", context.principal->id}});
  };
  router.add(http::verb::get, "/v1/probe/read", {.scope = Scope::kRoomsRead}, probe);
  router.set_local(http::verb::get, "/v1/probe/read", LocalRoute{.ready = [] { return true; }, .answer = probe});

  const auto created = router.handle(
      make_request(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", "temp"}, {"scopes", {"rooms:read"}}}));
  ASSERT_EQ(created.status(), 201U);
  const std::string id = body_of(created)["id"];
  const std::string token = body_of(created)["token"];
  ASSERT_EQ(router.handle(make_request(http::verb::get, "/v1/probe/read", token)).status(), 200U);
  EXPECT_EQ(cache.size(), 1U);
  const auto local = router.handle_local(make_request(http::verb::get, "/v1/probe/read", token));
  ASSERT_TRUE(local.has_value()) << "a cached key is answered on the HTTP thread";
  EXPECT_EQ(local->status(), 200U);

  ASSERT_EQ(router.handle(make_request(http::verb::delete_, "/v1/api-keys/" + id)).status(), 204U);
  EXPECT_EQ(cache.size(), 0U);
  EXPECT_FALSE(router.handle_local(make_request(http::verb::get, "/v1/probe/read", token)).has_value())
      << "no longer known without the store";
  EXPECT_EQ(router.handle(make_request(http::verb::get, "/v1/probe/read", token)).status(), 401U);
}

TEST_F(ApiKeyRoutesTest, ListsInPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create("key " + std::to_string(i), {"rooms:read"})["id"]);
  std::ranges::sort(ids);

  std::vector<std::string> seen;
  std::string target = "/v1/api-keys?limit=2";
  for (int page = 0; page < 10; ++page) {
    const auto response = call(http::verb::get, target);
    ASSERT_EQ(response.status(), 200U) << response.message.body();
    const auto body = body_of(response);
    EXPECT_LE(body["items"].size(), 2U);
    for (const auto& item : body["items"]) seen.push_back(item["id"]);
    if (body["next_page_token"].is_null()) break;
    target = "/v1/api-keys?limit=2&page_token=" + body["next_page_token"].get<std::string>();
  }
  EXPECT_EQ(seen, ids);

  const auto all = body_of(call(http::verb::get, "/v1/api-keys"));  // default 50
  EXPECT_EQ(all["items"].size(), 5U);
  EXPECT_TRUE(all["next_page_token"].is_null());
}

TEST_F(ApiKeyRoutesTest, RefusesBadLimits) {
  for (const std::string limit : {"0", "201", "-1", "ten", "5x", ""}) {
    const auto response = call(http::verb::get, "/v1/api-keys?limit=" + limit);
    EXPECT_EQ(response.status(), 400U) << limit;
    EXPECT_EQ(error_fields(response), std::vector<std::string>{"limit"}) << limit;
  }
  EXPECT_EQ(call(http::verb::get, "/v1/api-keys?limit=200").status(), 200U);
  EXPECT_EQ(call(http::verb::get, "/v1/api-keys?limit=1").status(), 200U);
}

TEST_F(ApiKeyRoutesTest, RefusesAnEmptyNameAndUnknownScopes) {
  auto response = call(http::verb::post, "/v1/api-keys", kAdminToken, {{"name", ""}, {"scopes", {"rooms:read"}}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(body_of(response)["type"], problem_type_uri(kProblemValidation));
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"/name"});

  response = call(http::verb::post, "/v1/api-keys", kAdminToken,
                  {{"name", "x"}, {"scopes", {"rooms:read", "rooms:delete", 7}}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(error_fields(response), (std::vector<std::string>{"/scopes/1", "/scopes/2"}));

  response = call(http::verb::post, "/v1/api-keys", kAdminToken, {{"scopes", nlohmann::json::array()}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(error_fields(response), (std::vector<std::string>{"/name", "/scopes"}));

  response = call(http::verb::post, "/v1/api-keys", kAdminToken, nlohmann::json::array({1, 2}));
  EXPECT_EQ(response.status(), 422U);
  response = call(http::verb::post, "/v1/api-keys", kAdminToken,
                  {{"name", std::string(kMaxApiKeyNameLength + 1, 'n')}, {"scopes", {"rooms:read"}}});
  EXPECT_EQ(error_fields(response), std::vector<std::string>{"/name"});

  auto list = body_of(call(http::verb::get, "/v1/api-keys"));
  EXPECT_TRUE(list["items"].empty()) << "a refused key was stored";
}

TEST_F(ApiKeyRoutesTest, NeedsTheAdminToken) {
  EXPECT_EQ(call(http::verb::get, "/v1/api-keys", "").status(), 401U);
  EXPECT_EQ(call(http::verb::post, "/v1/api-keys", "", {{"name", "x"}, {"scopes", {"rooms:read"}}}).status(), 401U);
  for (const auto& route : router_.routes()) {
    if (route.pattern.starts_with("/v1/api-keys")) {
      EXPECT_TRUE(route.options.admin_only) << route.pattern;
    }
  }
}

TEST_F(ApiKeyRoutesTest, LookupSkipsStoredScopesItDoesNotKnow) {
  const std::string token = generate_token();
  ASSERT_TRUE(store_
                  ->create_api_key({.id = "k_old",
                                    .name = "old",
                                    .scopes = {"rooms:read", "rooms:archive"},
                                    .token_hash = hash_token(token),
                                    .created_at = services_.now()})
                  .has_value());
  const auto found = keys_.find_by_hash(hash_token(token));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->scopes, (ScopeSet{Scope::kRoomsRead}));
  EXPECT_FALSE(keys_.find_by_hash(hash_token("chorus_unknown")).has_value());
}

}  // namespace api_key_routes_test
}  // namespace chorus::rest::test
