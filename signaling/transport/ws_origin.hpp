// Which web pages may open a SIP WebSocket here: the Origin check of the upgrade (RFC 6455 §4.2.2
// item 4 and §10.2, RFC 6454 §7). A browser names the page that runs the script in `Origin`; a page
// of another site must not be able to make a visitor's browser join our rooms, so only configured
// origins are accepted. Requests without Origin come from SIP UAs that are not browsers and are
// never refused for that (they could send any Origin they liked anyway).
//
// Comparison is of the origin triple (RFC 6454 §5): scheme and host case-insensitively, and the
// port with the scheme's default filled in, so "https://Example.com" matches "https://example.com:443".
// Pure values: no sockets, no state; safe to share between connections.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::sip {

inline constexpr std::string_view kAnyOrigin = "*";  // allows every origin: unsafe, for tests and labs

struct WsOrigin {
  std::string scheme;                 // lower case
  std::string host;                   // lower case; IPv6 literals keep their brackets
  std::optional<std::uint16_t> port;  // explicit, else the scheme's default (http 80, https 443); empty if unknown

  bool operator==(const WsOrigin&) const = default;
  [[nodiscard]] std::string to_string() const;  // RFC 6454 §6.2 serialisation, default port left out
};

// Parses `scheme "://" host [ ":" port ]` (RFC 6454 §7.1, the serialisation browsers send). No
// path, query, user info or whitespace; "null" (an opaque origin) is not an origin here. The error
// says what is wrong.
std::expected<WsOrigin, std::string> parse_ws_origin(std::string_view text);

class WsOriginPolicy {
 public:
  // Each entry is an origin or "*". The error names the first entry that is neither.
  static std::expected<WsOriginPolicy, std::string> make(std::span<const std::string> allowed);

  // Whether an `Origin` header value may connect. Unparseable values (including "null") are
  // refused unless "*" was configured.
  [[nodiscard]] bool allows(std::string_view origin_header) const;
  [[nodiscard]] bool allows_any() const { return any_; }
  [[nodiscard]] std::size_t size() const { return allowed_.size(); }

 private:
  std::vector<WsOrigin> allowed_;
  bool any_ = false;
};

// The origins of the server's own web page (DESIGN §4: the page at `http_port` joins rooms over
// WebSocket): http:// and https:// of `public_host`, 127.0.0.1 and localhost at `http_port`.
// `public_host` is an address literal or a name; IPv6 literals are bracketed here.
std::vector<std::string> own_http_origins(std::string_view public_host, std::uint16_t http_port);

}  // namespace chorus::sip
