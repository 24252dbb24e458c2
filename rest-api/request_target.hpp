// The request-target (RFC 9112 §3.2): its path and query, percent-decoding (RFC 3986 §2.1) and
// the query's `name=value&...` form (application/x-www-form-urlencoded, where `+` is a space).
// Pure functions over strings; any thread.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::rest {

struct RequestTarget {
  std::string_view path;   // as sent: still percent-encoded, starts with '/'
  std::string_view query;  // after '?', without it; empty when absent
};

// Accepts origin-form ("/v1/rooms?limit=10") and absolute-form ("http://host/v1/rooms",
// §3.2.2: a server must accept it); nullopt for anything else (asterisk-form, authority-form).
[[nodiscard]] std::optional<RequestTarget> split_target(std::string_view target);

// nullopt when a '%' is not followed by two hex digits, or the result would contain NUL.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

class QueryParams {
 public:
  // The error says which parameter is badly encoded.
  static std::expected<QueryParams, std::string> parse(std::string_view query);

  // The first value of `name`.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] std::vector<std::string_view> all(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;  // in request order, decoded
};

}  // namespace chorus::rest
