#include "rest-api/api/web_routes.hpp"

#include <gtest/gtest.h>

#include "tests/unit/test_support/temp_dir.hpp"

#include <unistd.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>

#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace web_routes_test {

namespace http = boost::beast::http;
namespace fs = std::filesystem;

// No API keys exist: the routes under test are public, and /v1-style routes need the admin token.
class NoKeys : public ApiKeyLookup {
 public:
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string&) override { return std::nullopt; }
};

HttpRequest make_request(http::verb method, std::string target, std::string_view host = {}) {
  HttpRequest request;
  request.message.method(method);
  request.message.target(target);
  request.message.version(11);
  if (!host.empty()) request.message.set(http::field::host, beast_view(host));
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
    write_file(root_ / "call.js", "const ChorusCall = {};\n");
    write_file(root_ / "join.js", "initJoin();\n");
    add_web_routes(router_, {.web_root = root_, .client = {.ws_port = 5066, .wss_port = 7443, .default_host = "::1"}});
  }

  HttpResponse get(std::string target, std::string_view host = "conf.example.org:8080") const {
    return router_.handle(make_request(http::verb::get, target, host));
  }

  void install_jssip(const std::string& content) {
    fs::create_directories(root_ / "node_modules" / "jssip" / "dist");
    write_file(root_ / "node_modules" / "jssip" / "dist" / "jssip.min.js", content);
  }

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
  EXPECT_EQ(header_of(response, "Content-Security-Policy"),
            "default-src 'self'; connect-src 'self' ws://conf.example.org:5066 wss://conf.example.org:7443; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
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

TEST_F(WebRoutesTest, ServesOnlyItsOwnFiles) {
  write_file(root_ / "README.md", "secret notes");
  write_file(root_ / "package.json", "{}");
  write_file(root_.parent_path() / "outside.txt", "outside");
  install_jssip("var JsSIP;");
  write_file(root_ / "node_modules" / "jssip" / "package.json", "{}");
  EXPECT_EQ(get("/README.md").status(), 404u);
  EXPECT_EQ(get("/package.json").status(), 404u);
  EXPECT_EQ(get("/index.html").status(), 404u);
  EXPECT_EQ(get("/../outside.txt").status(), 404u);
  EXPECT_EQ(get("/%2e%2e/outside.txt").status(), 404u);
  EXPECT_EQ(get("/vendor/package.json").status(), 404u);
  EXPECT_EQ(get("/vendor/jssip.js").status(), 404u);
  EXPECT_EQ(get("/node_modules/jssip/package.json").status(), 404u);
  EXPECT_EQ(get("/vendor/../README.md").status(), 404u);
  fs::remove(root_.parent_path() / "outside.txt");
}

TEST_F(WebRoutesTest, ServesTheCallScripts) {
  for (const auto* route : {"/call.js", "/join.js"}) {
    const auto response = get(route);
    ASSERT_EQ(response.status(), 200u) << route;
    EXPECT_EQ(header_of(response, "Content-Type"), "text/javascript; charset=utf-8") << route;
    EXPECT_EQ(header_of(response, "X-Content-Type-Options"), "nosniff") << route;
  }
  EXPECT_EQ(get("/join.js").message.body(), "initJoin();\n");
}

TEST_F(WebRoutesTest, ServesJsSipFromNodeModules) {
  install_jssip("var JsSIP=(()=>{})();\n");
  const auto response = get("/vendor/jssip.min.js");
  ASSERT_EQ(response.status(), 200u) << response.message.body();
  EXPECT_EQ(response.message.body(), "var JsSIP=(()=>{})();\n");
  EXPECT_EQ(header_of(response, "Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(header_of(response, "Cache-Control"), "no-cache");
  EXPECT_EQ(header_of(response, "X-Content-Type-Options"), "nosniff");
}

TEST_F(WebRoutesTest, JsSipNotInstalledIsNotFoundProblemThatSaysHow) {
  const auto response = get("/vendor/jssip.min.js");
  ASSERT_EQ(response.status(), 404u);
  EXPECT_EQ(header_of(response, "Content-Type"), kProblemContentType);
  const auto body = nlohmann::json::parse(response.message.body());
  EXPECT_EQ(body["type"], problem_type_uri(kProblemNotFound));
  EXPECT_NE(body["detail"].get<std::string>().find("npm ci --prefix web"), std::string::npos) << body.dump();
}

TEST_F(WebRoutesTest, ClientConfigNamesTheHostTheBrowserUsed) {
  const auto response = get("/client-config.json", "Conf.Example.ORG:8080");
  ASSERT_EQ(response.status(), 200u);
  EXPECT_EQ(header_of(response, "Content-Type"), "application/json");
  EXPECT_EQ(header_of(response, "Cache-Control"), "no-cache");
  EXPECT_EQ(nlohmann::json::parse(response.message.body()),
            (nlohmann::json{{"sip_domain", "conf.example.org"},
                            {"ws_url", "ws://conf.example.org:5066"},
                            {"wss_url", "wss://conf.example.org:7443"}}));

  const auto by_address = nlohmann::json::parse(get("/client-config.json", "127.0.0.1:18080").message.body());
  EXPECT_EQ(by_address["sip_domain"], "127.0.0.1");
  EXPECT_EQ(by_address["ws_url"], "ws://127.0.0.1:5066");
}

TEST_F(WebRoutesTest, ClientConfigWithoutAUsableHostUsesThePublicAddress) {
  for (const auto* host : {"", "evil.example\"; default-src *", "a b", "host:99999", "[::1"}) {
    const auto response = get("/client-config.json", host);
    ASSERT_EQ(response.status(), 200u) << host;
    const auto body = nlohmann::json::parse(response.message.body());
    EXPECT_EQ(body["sip_domain"], "[::1]") << host;
    EXPECT_EQ(body["ws_url"], "ws://[::1]:5066") << host;
    // CSP3 has no IPv6 host-source: connect-src stays 'self' and nothing from the Host gets in.
    EXPECT_EQ(header_of(response, "Content-Security-Policy").find("connect-src 'self';"),
              std::string("default-src 'self'; ").size())
        << host;
    EXPECT_EQ(header_of(response, "Content-Security-Policy").find("evil"), std::string::npos);
  }
}

TEST_F(WebRoutesTest, ClientConfigSaysNullForTransportsNotServed) {
  Router router{authenticator_, limiter_};
  add_web_routes(router, {.web_root = root_, .client = {.ws_port = 5066, .default_host = "198.51.100.7"}});
  const auto response = router.handle(make_request(http::verb::get, "/client-config.json"));
  EXPECT_EQ(
      nlohmann::json::parse(response.message.body()),
      (nlohmann::json{{"sip_domain", "198.51.100.7"}, {"ws_url", "ws://198.51.100.7:5066"}, {"wss_url", nullptr}}));
  EXPECT_EQ(header_of(router.handle(make_request(http::verb::get, "/", "198.51.100.7:80")), "Content-Security-Policy"),
            "default-src 'self'; connect-src 'self' ws://198.51.100.7:5066; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'");

  Router neither{authenticator_, limiter_};
  add_web_routes(neither, {.web_root = root_});
  EXPECT_EQ(nlohmann::json::parse(neither.handle(make_request(http::verb::get, "/client-config.json")).message.body()),
            (nlohmann::json{{"sip_domain", nullptr}, {"ws_url", nullptr}, {"wss_url", nullptr}}));
}

TEST(WebHost, KeepsTheHostOfAValidHostHeader) {
  EXPECT_EQ(web_host_of("conf.example.org"), "conf.example.org");
  EXPECT_EQ(web_host_of("CONF.example.org:8080"), "conf.example.org");
  EXPECT_EQ(web_host_of("conf.example.org.:443"), "conf.example.org.");
  EXPECT_EQ(web_host_of("127.0.0.1:18080"), "127.0.0.1");
  EXPECT_EQ(web_host_of("localhost"), "localhost");
  EXPECT_EQ(web_host_of("[::1]:8080"), "[::1]");
  EXPECT_EQ(web_host_of("[2001:DB8::7]"), "[2001:db8::7]");
  EXPECT_EQ(web_host_of("[::ffff:192.0.2.1]:80"), "[::ffff:192.0.2.1]");
  EXPECT_EQ(web_host_of("x-1.example"), "x-1.example");
}

TEST(WebHost, RefusesWhatIsNotAHost) {
  for (const auto* bad : {"",
                          ":8080",
                          "conf.example.org:",
                          "conf.example.org:0",
                          "conf.example.org:65536",
                          "conf.example.org:80:80",
                          "conf.example.org:8o",
                          "user@conf.example.org",
                          "a b",
                          "a\"b",
                          "a;b",
                          "a/b",
                          "-a.example",
                          "a-.example",
                          "a..example",
                          ".",
                          "[::1",
                          "[::1]x",
                          "[::1]:",
                          "[:]",
                          "[1.2.3.4]",
                          "[::1<]",
                          "ex_ample.org",
                          "exämple.org"}) {
    EXPECT_EQ(web_host_of(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(web_host_of(std::string(64, 'a') + ".example"), std::nullopt);  // a label over 63
  EXPECT_EQ(web_host_of(std::string(kMaxWebHostLength + 1, 'a')), std::nullopt);
  std::string long_name;
  while (long_name.size() + 10 <= kMaxWebHostLength) long_name += "abcdefghi.";
  EXPECT_TRUE(web_host_of(long_name + "x").has_value());
}

TEST(WebHost, UrlFormBracketsIpv6Only) {
  EXPECT_EQ(web_url_host("::1"), "[::1]");
  EXPECT_EQ(web_url_host("[::1]"), "[::1]");
  EXPECT_EQ(web_url_host("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(web_url_host("conf.example.org"), "conf.example.org");
}

TEST_F(WebRoutesTest, OtherMethodsAreNotAllowed) {
  const auto response = router_.handle(make_request(http::verb::post, "/"));
  EXPECT_EQ(response.status(), 405u);
  EXPECT_EQ(header_of(response, "Allow"), "GET");
}

TEST_F(WebRoutesTest, RoutesArePublicAndDescribed) {
  const auto routes = router_.routes();
  ASSERT_EQ(routes.size(), std::size(kWebAssets) + 2);  // + JsSIP and the client config
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
    // Text-only rendering: names and titles from the server or other callers cannot inject markup.
    EXPECT_EQ(content->find("innerHTML"), std::string::npos) << asset.file;
    EXPECT_EQ(content->find("insertAdjacentHTML"), std::string::npos) << asset.file;
    EXPECT_EQ(content->find("eval("), std::string::npos) << asset.file;
  }
  const auto html = read_file(web / "index.html");
  for (const auto& asset : kWebAssets) {
    if (asset.route == "/" || asset.route == "/style.css") continue;
    EXPECT_NE(html.find("<script src=\"" + std::string(asset.route) + "\""), std::string::npos) << asset.route;
  }
  EXPECT_NE(html.find("<script src=\"/vendor/jssip.min.js\""), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/style.css\""), std::string::npos);
  // Every <script> has a same-origin src (no inline script), and no element has an on…= handler.
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) {
    EXPECT_EQ(html.compare(at, 14, "<script src=\"/"), 0) << html.substr(at, 40);
  }
  EXPECT_EQ(html.find("<style"), std::string::npos) << "inline style";
  EXPECT_EQ(html.find(" style="), std::string::npos) << "style attribute";
  std::smatch handler;
  EXPECT_FALSE(std::regex_search(html, handler, std::regex(R"(\son[a-z]+\s*=)"))) << "inline handler " << handler.str();
}

}  // namespace web_routes_test
}  // namespace chorus::rest
