#include "rest-api/router.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace router_test {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::Pair;

// API keys kept in a map by token hash, as the store keeps them.
class KeyTable : public ApiKeyLookup {
 public:
  void add(const std::string& token, ApiKeyPrincipal key) { keys_[hash_token(token)] = std::move(key); }
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override {
    const auto it = keys_.find(token_hash);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, ApiKeyPrincipal> keys_;
};

HttpRequest make_request(http::verb method, std::string target, std::string token = {}, std::string body = {}) {
  HttpRequest request;
  request.message.method(method);
  request.message.target(target);
  request.message.version(11);
  if (!token.empty()) request.message.set(http::field::authorization, "Bearer " + token);
  request.message.body() = std::move(body);
  return request;
}

nlohmann::json body_of(const HttpResponse& response) {
  return nlohmann::json::parse(response.message.body());
}

std::string header_of(const HttpResponse& response, http::field field) {
  return std::string(std_view(response.message[field]));
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : authenticator_(kAdminToken, keys_), limiter_(RateLimitConfig{1, 2}, [this] { return now_; }) {
    keys_.add(std::string(kReaderToken), {"key-reader", "reader", {Scope::kRoomsRead}});
    keys_.add(std::string(kWriterToken), {"key-writer", "writer", {Scope::kRoomsRead, Scope::kRoomsWrite}});
  }

  // A handler that reports what it saw: route, params, query and principal.
  static RouteHandler echo(std::string name) {
    return [name](const RequestContext& context) {
      nlohmann::json out{{"route", name}, {"pattern", context.pattern}, {"path", context.path}};
      for (const auto& [key, value] : context.params) out["params"][key] = value;
      for (const auto& [key, value] : context.query.items()) out["query"].push_back({key, value});
      if (context.principal != nullptr) out["principal"] = context.principal->id;
      return HttpResponse::json(http::status::ok, out);
    };
  }

  static constexpr std::string_view kAdminToken = "admin-secret";
  static constexpr std::string_view kReaderToken = "chorus_reader";
  static constexpr std::string_view kWriterToken = "chorus_writer";

  KeyTable keys_;
  Authenticator authenticator_;
  std::chrono::steady_clock::time_point now_{std::chrono::seconds(1000)};
  RateLimiter limiter_;
  Router router_{authenticator_, limiter_};
};

TEST_F(RouterTest, MatchesLiteralsAndDecodesParameters) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead, .summary = "List rooms"}, echo("list"));
  router_.add(http::verb::get, "/v1/rooms/{id}", {.scope = Scope::kRoomsRead, .summary = "Get a room"}, echo("get"));

  auto response = router_.handle(make_request(http::verb::get, "/v1/rooms/board%20room", std::string(kReaderToken)));
  ASSERT_EQ(response.status(), 200U) << response.message.body();
  const auto body = body_of(response);
  EXPECT_EQ(body["route"], "get");
  EXPECT_EQ(body["params"]["id"], "board room");
  EXPECT_EQ(body["path"], "/v1/rooms/board%20room");
  EXPECT_EQ(body["principal"], "key-reader");

  EXPECT_EQ(body_of(router_.handle(make_request(http::verb::get, "/v1/rooms", std::string(kReaderToken))))["route"],
            "list");
}

TEST_F(RouterTest, SuffixSegmentBeatsBareParameter) {
  router_.add(http::verb::get, "/v1/meetings/{id}", {.public_route = true}, echo("meeting"));
  router_.add(http::verb::get, "/v1/meetings/{id}.ics", {.public_route = true}, echo("ics"));

  auto ics = body_of(router_.handle(make_request(http::verb::get, "/v1/meetings/m-42.ics")));
  EXPECT_EQ(ics["route"], "ics");
  EXPECT_EQ(ics["params"]["id"], "m-42");
  auto plain = body_of(router_.handle(make_request(http::verb::get, "/v1/meetings/m-42")));
  EXPECT_EQ(plain["route"], "meeting");
  EXPECT_EQ(plain["params"]["id"], "m-42");
  // ".ics" alone leaves the parameter empty: not the suffix route.
  EXPECT_EQ(body_of(router_.handle(make_request(http::verb::get, "/v1/meetings/.ics")))["route"], "meeting");
}

TEST_F(RouterTest, LiteralSegmentBeatsParameterWhateverTheOrder) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {.public_route = true}, echo("room"));
  router_.add(http::verb::get, "/v1/rooms/defaults", {.public_route = true}, echo("defaults"));
  EXPECT_EQ(body_of(router_.handle(make_request(http::verb::get, "/v1/rooms/defaults")))["route"], "defaults");
  EXPECT_EQ(body_of(router_.handle(make_request(http::verb::get, "/v1/rooms/other")))["route"], "room");
}

TEST_F(RouterTest, KnownPathWithOtherMethodIs405WithAllow) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {.public_route = true}, echo("get"));
  router_.add(http::verb::patch, "/v1/rooms/{id}", {.public_route = true}, echo("patch"));
  router_.add(http::verb::delete_, "/v1/rooms/{id}", {.public_route = true}, echo("delete"));

  auto response = router_.handle(make_request(http::verb::post, "/v1/rooms/1000"));
  EXPECT_EQ(response.status(), 405U);
  EXPECT_EQ(header_of(response, http::field::allow), "DELETE, GET, PATCH");
  EXPECT_EQ(header_of(response, http::field::content_type), "application/problem+json");
  EXPECT_EQ(body_of(response)["type"], "https://chorus.example/problems/method-not-allowed");
}

TEST_F(RouterTest, UnknownPathIs404Problem) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {.public_route = true}, echo("get"));
  for (const char* target : {"/v1/rooms", "/v1/rooms/1/participants", "/v2/rooms/1", "/v1/rooms/1/"}) {
    auto response = router_.handle(make_request(http::verb::get, target));
    EXPECT_EQ(response.status(), 404U) << target;
    EXPECT_EQ(body_of(response)["status"], 404) << target;
  }
}

TEST_F(RouterTest, QueryIsSplitAndDecoded) {
  router_.add(http::verb::get, "/v1/rooms", {.public_route = true}, echo("list"));
  auto body = body_of(
      router_.handle(make_request(http::verb::get, "/v1/rooms?name=a%20b&tag=x&tag=y+z&&flag&after=r%2F1#frag")));
  EXPECT_EQ(body["query"], nlohmann::json::parse(R"([["name","a b"],["tag","x"],["tag","y z"],["flag",""],
                                                      ["after","r/1"]])"));
}

TEST_F(RouterTest, BadPercentEncodingIs400) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {.public_route = true}, echo("get"));
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms/%zz")).status(), 400U);
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms/%00")).status(), 400U);
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms/1?a=%2")).status(), 400U);
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "*")).status(), 400U);
}

TEST_F(RouterTest, AbsoluteFormTargetIsServed) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {.public_route = true}, echo("get"));
  auto body = body_of(router_.handle(make_request(http::verb::get, "http://chorus.test:8080/v1/rooms/7?x=1")));
  EXPECT_EQ(body["params"]["id"], "7");
  EXPECT_EQ(body["query"][0][1], "1");
}

TEST_F(RouterTest, MissingTokenIs401WithBearerChallenge) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead}, echo("list"));
  auto response = router_.handle(make_request(http::verb::get, "/v1/rooms"));
  EXPECT_EQ(response.status(), 401U);
  EXPECT_EQ(header_of(response, http::field::www_authenticate), R"(Bearer realm="chorus")");
}

TEST_F(RouterTest, UnknownOrMalformedTokenIs401InvalidToken) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead}, echo("list"));
  for (const char* authorization : {"Bearer chorus_nobody", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"}) {
    auto request = make_request(http::verb::get, "/v1/rooms");
    request.message.set(http::field::authorization, authorization);
    auto response = router_.handle(request);
    EXPECT_EQ(response.status(), 401U) << authorization;
    EXPECT_EQ(header_of(response, http::field::www_authenticate), R"(Bearer realm="chorus", error="invalid_token")");
  }
}

TEST_F(RouterTest, KeyWithoutTheScopeIs403InsufficientScope) {
  router_.add(http::verb::post, "/v1/rooms", {.scope = Scope::kRoomsWrite}, echo("create"));
  auto denied = router_.handle(make_request(http::verb::post, "/v1/rooms", std::string(kReaderToken)));
  EXPECT_EQ(denied.status(), 403U);
  EXPECT_EQ(header_of(denied, http::field::www_authenticate),
            R"(Bearer realm="chorus", error="insufficient_scope", scope="rooms:write")");
  auto allowed = router_.handle(make_request(http::verb::post, "/v1/rooms", std::string(kWriterToken)));
  EXPECT_EQ(allowed.status(), 200U);
  EXPECT_EQ(body_of(allowed)["principal"], "key-writer");
}

TEST_F(RouterTest, AdminTokenHasEveryScopeAndAdminRoutes) {
  router_.add(http::verb::post, "/v1/conferences/{id}/mute", {.scope = Scope::kConferencesModerate}, echo("mute"));
  router_.add(http::verb::post, "/v1/api-keys", {.admin_only = true}, echo("keys"));
  const std::string admin(kAdminToken);
  EXPECT_EQ(body_of(router_.handle(make_request(http::verb::post, "/v1/conferences/1/mute", admin)))["principal"],
            "admin");
  EXPECT_EQ(router_.handle(make_request(http::verb::post, "/v1/api-keys", admin)).status(), 200U);
  EXPECT_EQ(router_.handle(make_request(http::verb::post, "/v1/api-keys", std::string(kWriterToken))).status(), 403U);
}

TEST_F(RouterTest, RateLimitGives429WithRetryAfterThenRecovers) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead}, echo("list"));
  const std::string token(kReaderToken);
  // 1 request/s, burst 2: two pass, the third is refused until a second has passed.
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", token)).status(), 200U);
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", token)).status(), 200U);
  auto refused = router_.handle(make_request(http::verb::get, "/v1/rooms", token));
  EXPECT_EQ(refused.status(), 429U);
  EXPECT_EQ(header_of(refused, http::field::retry_after), "1");
  EXPECT_EQ(body_of(refused)["type"], "https://chorus.example/problems/rate-limited");
  // Another key has its own bucket.
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", std::string(kWriterToken))).status(), 200U);
  now_ += 1s;
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", token)).status(), 200U);
  EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", token)).status(), 429U);
}

TEST_F(RouterTest, AdminTokenIsNotThrottled) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead}, echo("list"));
  for (int i = 0; i < 10; ++i)  // well past the 1/s, burst 2 that throttles API keys
    EXPECT_EQ(router_.handle(make_request(http::verb::get, "/v1/rooms", std::string(kAdminToken))).status(), 200U);
}

TEST_F(RouterTest, HandlerExceptionIs500Problem) {
  router_.add(http::verb::get, "/boom", {.public_route = true},
              [](const RequestContext&) -> HttpResponse { throw std::runtime_error("disk on fire"); });
  auto response = router_.handle(make_request(http::verb::get, "/boom"));
  EXPECT_EQ(response.status(), 500U);
  EXPECT_EQ(body_of(response)["type"], "https://chorus.example/problems/internal");
  EXPECT_EQ(response.message.body().find("disk on fire"), std::string::npos);  // internals stay in the log
}

TEST_F(RouterTest, RoutesListsMethodAndPatternInOrder) {
  router_.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead, .summary = "List rooms"}, echo("a"));
  router_.add(http::verb::post, "/v1/rooms", {.scope = Scope::kRoomsWrite, .summary = "Create a room"}, echo("b"));
  router_.add(http::verb::get, "/v1/meetings/{id}.ics", {.summary = "Calendar file"}, echo("c"));
  const auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 3U);
  EXPECT_EQ(routes[0].method, http::verb::get);
  EXPECT_EQ(routes[0].pattern, "/v1/rooms");
  EXPECT_EQ(routes[1].method, http::verb::post);
  EXPECT_EQ(routes[1].options.summary, "Create a room");
  EXPECT_EQ(routes[2].pattern, "/v1/meetings/{id}.ics");
}

TEST_F(RouterTest, BadPatternsAndDuplicatesThrow) {
  router_.add(http::verb::get, "/v1/rooms/{id}", {}, echo("a"));
  EXPECT_THROW(router_.add(http::verb::get, "/v1/rooms/{id}", {}, echo("b")), std::invalid_argument);
  EXPECT_THROW(router_.add(http::verb::get, "v1/rooms", {}, echo("c")), std::invalid_argument);
  EXPECT_THROW(router_.add(http::verb::get, "/v1/{}", {}, echo("d")), std::invalid_argument);
  EXPECT_THROW(router_.add(http::verb::get, "/v1/{a}{b}", {}, echo("e")), std::invalid_argument);
  EXPECT_THROW(router_.add(http::verb::get, "/v1/{a", {}, echo("f")), std::invalid_argument);
}

class JsonBodyTest : public RouterTest {
 protected:
  HttpResponse post(std::string content_type, std::string body) {
    auto request = make_request(http::verb::post, "/v1/rooms", {}, std::move(body));
    if (!content_type.empty()) request.message.set(http::field::content_type, content_type);
    return router_.handle(request);
  }
  void SetUp() override {
    router_.add(http::verb::post, "/v1/rooms", {.public_route = true}, [](const RequestContext& context) {
      auto json = parse_json_body(context);
      if (!json) return std::move(json.error());
      return HttpResponse::json(http::status::created, *json);
    });
  }
};

TEST_F(JsonBodyTest, AcceptsJsonMediaTypes) {
  EXPECT_EQ(post("application/json", R"({"name":"a"})").status(), 201U);
  EXPECT_EQ(post("Application/JSON; charset=utf-8", R"({"name":"a"})").status(), 201U);
  EXPECT_EQ(post("application/merge-patch+json", R"({"name":null})").status(), 201U);
}

TEST_F(JsonBodyTest, OtherMediaTypeIs415) {
  auto response = post("text/plain", R"({"name":"a"})");
  EXPECT_EQ(response.status(), 415U);
  EXPECT_EQ(body_of(response)["type"], "https://chorus.example/problems/unsupported-media-type");
  EXPECT_EQ(post("", R"({"name":"a"})").status(), 415U);
}

TEST_F(JsonBodyTest, MalformedEmptyOrTooDeepIs400InvalidJson) {
  for (const std::string& body : {std::string(R"({"name":)"), std::string(), std::string(100, '[')}) {
    auto response = post("application/json", body);
    EXPECT_EQ(response.status(), 400U) << body;
    EXPECT_EQ(body_of(response)["type"], "https://chorus.example/problems/invalid-json") << body;
  }
  const auto nested = [](int levels) { return std::string(levels, '[') + "1" + std::string(levels, ']'); };
  EXPECT_EQ(post("application/json", nested(kMaxJsonDepth)).status(), 201U);
  EXPECT_EQ(body_of(post("application/json", nested(kMaxJsonDepth + 1)))["detail"], "nested deeper than 64");
}

TEST(RequestTarget, SplitsOriginAndAbsoluteForms) {
  auto origin = split_target("/v1/rooms?limit=5");
  ASSERT_TRUE(origin);
  EXPECT_EQ(origin->path, "/v1/rooms");
  EXPECT_EQ(origin->query, "limit=5");
  auto absolute = split_target("https://h.example/v1?x");
  ASSERT_TRUE(absolute);
  EXPECT_EQ(absolute->path, "/v1");
  EXPECT_EQ(absolute->query, "x");
  EXPECT_EQ(split_target("http://h.example")->path, "/");
  EXPECT_FALSE(split_target("*"));
  EXPECT_FALSE(split_target("h.example:443"));
}

TEST(RequestTarget, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%2Fb%2fc"), "a/b/c");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%E2%82%AC"), "\xE2\x82\xAC");
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%4"));
  EXPECT_FALSE(percent_decode("%g0"));
  EXPECT_FALSE(percent_decode("%00"));
}

TEST(RequestTarget, QueryParamsKeepOrderAndRepeats) {
  auto query = QueryParams::parse("b=2&a=1&b=3");
  ASSERT_TRUE(query);
  EXPECT_THAT(query->items(), ElementsAre(Pair("b", "2"), Pair("a", "1"), Pair("b", "3")));
  EXPECT_EQ(query->get("b"), "2");
  EXPECT_THAT(query->all("b"), ElementsAre("2", "3"));
  EXPECT_FALSE(query->get("c"));
  std::string many;
  for (int i = 0; i < 101; ++i) many += "k=v&";
  EXPECT_FALSE(QueryParams::parse(many));
}

}  // namespace router_test
}  // namespace chorus::rest
