#include "rest-api/request_target.hpp"

namespace chorus::rest {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr std::size_t kMaxQueryItems = 100;  // more parameters than any route takes

}  // namespace

std::optional<RequestTarget> split_target(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) {
      const auto slash = target.find_first_of("/?", scheme.size());
      if (slash == std::string_view::npos) return RequestTarget{"/", {}};
      target.remove_prefix(slash);
      if (target.front() == '?') return RequestTarget{"/", target.substr(1)};
      break;
    }
  }
  if (target.empty() || target.front() != '/') return std::nullopt;
  // A fragment is never sent (RFC 9110 §7.1); if a client does, it is not part of the resource.
  target = target.substr(0, target.find('#'));
  const auto question = target.find('?');
  if (question == std::string_view::npos) return RequestTarget{target, {}};
  return RequestTarget{target.substr(0, question), target.substr(question + 1)};
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      const char decoded = static_cast<char>(high * 16 + low);
      if (decoded == '\0') return std::nullopt;
      out.push_back(decoded);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::expected<QueryParams, std::string> QueryParams::parse(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;  // "a=1&&b=2"
    if (params.items_.size() == kMaxQueryItems) return std::unexpected("too many query parameters");
    const auto equals = item.find('=');
    const auto raw_name = item.substr(0, equals);
    const auto raw_value = equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1);
    auto name = percent_decode(raw_name, true);
    auto value = percent_decode(raw_value, true);
    if (!name || !value) return std::unexpected("query parameter \"" + std::string(raw_name) + "\" is badly encoded");
    params.items_.emplace_back(std::move(*name), std::move(*value));
  }
  return params;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryParams::all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [key, value] : items_) {
    if (key == name) values.emplace_back(value);
  }
  return values;
}

}  // namespace chorus::rest
