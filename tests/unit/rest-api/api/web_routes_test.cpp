#include "rest-api/api/web_routes.hpp"

#include <gtest/gtest.h>

#include "tests/unit/test_support/temp_dir.hpp"

#include <unistd.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
namespace fs = std::filesystem;

// No API keys exist: the routes under test are public, and /v1-style routes need the admin token.
class NoKeys : public ApiKeyLookup {
 public:
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string&) override { return std::nullopt; }
};

HttpRequest make_request(http::verb method, std::string target) {
  HttpRequest request;
  request.message.method(method);
  request.message.target(target);
  request.message.version(11);
  return request;
}

std::string header_of(const HttpResponse& response, std::string_view name) {
  return std::string(std_view(response.message[beast_view(name)]));
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class WebRoutesTest : public ::testing::Test {
 protected:
  WebRoutesTest() {
    write_file(root_ / "index.html", "<!doctype html><title>Chorus</title>");
    write_file(root_ / "app.js", "\"use strict\";\n");
    write_file(root_ / "style.css", "body { margin: 0; }\n");
    add_web_routes(router_, root_);
  }

  HttpResponse get(std::string target) const { return router_.handle(make_request(http::verb::get, target)); }

  chorus::test::TempDir temp_;
  fs::path root_ = temp_.path();
  NoKeys keys_;
  Authenticator authenticator_{"admin-secret", keys_};
  RateLimiter limiter_;
  Router router_{authenticator_, limiter_};
};

TEST_F(WebRoutesTest, ServesThePageWithoutATokenAndWithItsSecurityHeaders) {
  const auto response = get("/");
  ASSERT_EQ(response.status(), 200u) << response.message.body();
  EXPECT_EQ(response.message.body(), "<!doctype html><title>Chorus</title>");
  EXPECT_EQ(header_of(response, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(header_of(response, "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(response, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header_of(response, "Content-Security-Policy").rfind("default-src 'self';", 0), 0u);
  EXPECT_NE(header_of(response, "Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(header_of(response, "Referrer-Policy"), "no-referrer");
}

TEST_F(WebRoutesTest, ServesScriptAndStylesheetWithTheirContentTypes) {
  const auto script = get("/app.js");
  ASSERT_EQ(script.status(), 200u);
  EXPECT_EQ(script.message.body(), "\"use strict\";\n");
  EXPECT_EQ(header_of(script, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header_of(script, "X-Content-Type-Options"), "nosniff");

  const auto style = get("/style.css?v=2");  // a query does not change the file
  ASSERT_EQ(style.status(), 200u);
  EXPECT_EQ(style.message.body(), "body { margin: 0; }\n");
  EXPECT_EQ(header_of(style, "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(header_of(style, "Cache-Control"), "no-cache");
}

TEST_F(WebRoutesTest, ReadsTheFileAtEachRequest) {
  ASSERT_EQ(get("/app.js").message.body(), "\"use strict\";\n");
  write_file(root_ / "app.js", "console.log(1);\n");
  EXPECT_EQ(get("/app.js").message.body(), "console.log(1);\n");
}

TEST_F(WebRoutesTest, MissingFileIsNotFoundProblem) {
  fs::remove(root_ / "style.css");
  const auto response = get("/style.css");
  ASSERT_EQ(response.status(), 404u);
  EXPECT_EQ(header_of(response, "Content-Type"), kProblemContentType);
  const auto body = nlohmann::json::parse(response.message.body());
  EXPECT_EQ(body["type"], problem_type_uri(kProblemNotFound));
  EXPECT_NE(body["detail"].get<std::string>().find("style.css"), std::string::npos);
}

TEST_F(WebRoutesTest, DirectoryInPlaceOfAFileIsNotFound) {
  fs::remove(root_ / "app.js");
  fs::create_directory(root_ / "app.js");
  EXPECT_EQ(get("/app.js").status(), 404u);
}

TEST_F(WebRoutesTest, FileOverTheLimitIsNotServed) {
  write_file(root_ / "index.html", std::string(kMaxWebAssetBytes + 1, 'x'));
  const auto response = get("/");
  EXPECT_EQ(response.status(), 500u);
  EXPECT_EQ(header_of(response, "Content-Type"), kProblemContentType);
  // The problem says the file is too large; none of the file's bytes (all 'x') leak into it.
  EXPECT_EQ(response.message.body().find("xxxx"), std::string::npos);

  write_file(root_ / "index.html", std::string(kMaxWebAssetBytes, 'y'));  // exactly the limit is fine
  EXPECT_EQ(get("/").message.body().size(), kMaxWebAssetBytes);
}

TEST_F(WebRoutesTest, ReadWebAssetHonoursAnExplicitLimit) {
  write_file(root_ / "small.txt", "12345");
  EXPECT_EQ(read_web_asset(root_ / "small.txt", 5).value(), "12345");
  EXPECT_EQ(read_web_asset(root_ / "small.txt", 4).error(), WebAssetError::kTooLarge);
  EXPECT_EQ(read_web_asset(root_ / "absent.txt", 4).error(), WebAssetError::kMissing);
  write_file(root_ / "empty.txt", "");
  EXPECT_EQ(read_web_asset(root_ / "empty.txt").value(), "");
}

TEST_F(WebRoutesTest, ServesOnlyTheThreeFiles) {
  write_file(root_ / "README.md", "secret notes");
  write_file(root_.parent_path() / "outside.txt", "outside");
  EXPECT_EQ(get("/README.md").status(), 404u);
  EXPECT_EQ(get("/index.html").status(), 404u);
  EXPECT_EQ(get("/../outside.txt").status(), 404u);
  EXPECT_EQ(get("/%2e%2e/outside.txt").status(), 404u);
  fs::remove(root_.parent_path() / "outside.txt");
}

TEST_F(WebRoutesTest, OtherMethodsAreNotAllowed) {
  const auto response = router_.handle(make_request(http::verb::post, "/"));
  EXPECT_EQ(response.status(), 405u);
  EXPECT_EQ(header_of(response, "Allow"), "GET");
}

TEST_F(WebRoutesTest, RoutesArePublicAndDescribed) {
  const auto routes = router_.routes();
  ASSERT_EQ(routes.size(), 3u);
  for (const auto& route : routes) {
    EXPECT_EQ(route.method, http::verb::get);
    EXPECT_TRUE(route.options.public_route) << route.pattern;
    EXPECT_FALSE(route.options.summary.empty()) << route.pattern;
  }
}

// The page in the source tree obeys the policy it is served with: no inline script or style (CSP
// `default-src 'self'` blocks both) and no other origin (no fonts or CDNs).
TEST(WebRoutesSourceTree, ShippedPageLoadsOnlyItsOwnFiles) {
  const fs::path web = fs::path(CHORUS_SOURCE_DIR) / "web";
  for (const auto& asset : kWebAssets) {
    const auto content = read_web_asset(web / asset.file);
    ASSERT_TRUE(content.has_value()) << asset.file;
    EXPECT_EQ(content->find("://"), std::string::npos) << asset.file << " refers to another origin";
    EXPECT_EQ(content->find("//cdn"), std::string::npos) << asset.file;
  }
  const auto html = read_file(web / "index.html");
  EXPECT_NE(html.find("<script src=\"/app.js\""), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/style.css\""), std::string::npos);
  EXPECT_EQ(html.find("<script>"), std::string::npos) << "inline script";
  EXPECT_EQ(html.find("<style"), std::string::npos) << "inline style";
  EXPECT_EQ(html.find(" style=\""), std::string::npos) << "style attribute";
  EXPECT_EQ(html.find(" onclick="), std::string::npos) << "inline handler";
}

}  // namespace
}  // namespace chorus::rest
