// libFuzzer target for web_host_of (rest-api/api/web_client_config), which reads the Host header
// of every request for the page and puts what it keeps into /client-config.json and into the
// Content-Security-Policy header.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/web_host_fuzz.cpp \
//       rest-api/api/web_client_config.cpp -o /tmp/web_host_fuzz
//   /tmp/web_host_fuzz -max_total_time=60 fuzz/seeds/web_host_fuzz   (or make fuzz-build: build-fuzz/bin/)
//
// Besides crashes it checks, for every input:
//   - a kept host is a DNS name / IPv4 address of [a-z0-9.-] or an IPv6 literal "[...]" of
//     [0-9a-f:.], no longer than the input, and parsing it again gives it back unchanged;
//   - the CSP built from it is exactly the five directives, one space between tokens, nothing that
//     could end a directive or a header (';' ',' '"' CR LF) coming from the input, and the
//     WebSocket origins in connect-src are exactly ws://<host>:<port> and wss://<host>:<port>
//     (none for an IPv6 literal);
//   - the client config names the same host and URLs, and dumps as JSON.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rest-api/api/web_client_config.hpp"

namespace {

using namespace chorus::rest;

void check(bool condition) {
  if (!condition) std::abort();
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool is_ipv6_char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

void check_host(std::string_view input, const std::string& host) {
  check(!host.empty() && host.size() <= input.size());
  if (host.front() == '[') {
    check(host.back() == ']' && host.size() >= 4);
    check(std::all_of(host.begin() + 1, host.end() - 1, is_ipv6_char));
  } else {
    check(std::ranges::all_of(host, is_name_char));
  }
  check(web_host_of(host) == host);
}

void check_policy(const WebClientSettings& settings, const std::string& host) {
  const std::string policy = web_content_security_policy(settings, host);
  check(std::ranges::count(policy, ';') == 4);
  check(policy.find_first_of(",\"\r\n\t") == std::string::npos);
  check(policy.find("  ") == std::string::npos);
  std::string connect = "connect-src 'self'";
  if (host.front() != '[') {
    connect += " ws://" + host + ":" + std::to_string(*settings.ws_port);
    connect += " wss://" + host + ":" + std::to_string(*settings.wss_port);
  }
  check(policy == "default-src 'self'; " + connect + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
}

void check_config(const WebClientSettings& settings, const std::string& host) {
  const auto config = client_config_json(settings, host);
  check(config["sip_domain"] == host);
  check(config["ws_url"] == "ws://" + host + ":" + std::to_string(*settings.ws_port));
  check(config["wss_url"] == "wss://" + host + ":" + std::to_string(*settings.wss_port));
  check(!config.dump().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto host = web_host_of(input);
  if (!host) return 0;
  check_host(input, *host);
  // The ports come from the settings, never from the request: any pair will do.
  const WebClientSettings settings{
      .ws_port = static_cast<std::uint16_t>(size * 7 % 65536), .wss_port = 7443, .default_host = "192.0.2.1"};
  check_policy(settings, *host);
  check_config(settings, *host);
  return 0;
}
