#include "signaling/ua/session_timer.hpp"

#include <algorithm>
#include <charconv>

#include "common/ascii.hpp"

namespace chorus::sip {
namespace {

std::optional<std::uint32_t> parse_delta_seconds(std::string_view text) {
  text = trim(text);
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return value;
}

bool supports_timer(const SipMessage& request) {
  for (auto header : {"Supported", "Require"})
    for (auto tag : request.header_values(header))
      if (iequals(tag, "timer")) return true;
  return false;
}

}  // namespace

SessionTimerOutcome negotiate_session_timer(const SipMessage& request, const SessionTimerPolicy& policy) {
  SessionTimerOutcome out;
  out.min_se = std::max<std::uint32_t>(policy.min_se, 90);
  out.peer_supports_timer = supports_timer(request);

  const std::string* se_header = request.header("Session-Expires");
  std::optional<std::uint32_t> requested;
  std::string refresher;
  if (se_header) {
    std::string_view value = *se_header;
    requested = parse_delta_seconds(value.substr(0, value.find(';')));
    std::vector<GenericParam> params;
    if (auto semi = value.find(';'); semi != std::string_view::npos && parse_params(value.substr(semi), params)) {
      if (const auto* r = find_param(params, "refresher")) refresher = ascii_lowercase(r->value);
    }
  }
  std::uint32_t request_min_se = 90;
  if (const auto* h = request.header("Min-SE")) {
    std::string_view v = *h;
    request_min_se = std::max<std::uint32_t>(90, parse_delta_seconds(v.substr(0, v.find(';'))).value_or(90));
  }

  if (requested) {
    if (*requested < out.min_se) {
      out.too_small = true;
      return out;
    }
    // §9: the UAS may lower the interval, but not below the Min-SE of the request or ours.
    const std::uint32_t floor = std::max(out.min_se, request_min_se);
    out.interval = std::max(floor, std::min(*requested, policy.session_expires));
  } else if (out.peer_supports_timer) {
    // §9: the UAC supports timers but asked for none; we insert our own so dead calls end.
    out.interval = std::max({policy.session_expires, out.min_se, request_min_se});
  } else {
    return out;  // neither side asked for a session timer
  }
  // §9: honour the UAC's choice; otherwise the UAC refreshes when it can, else we do.
  if (refresher == "uas") {
    out.we_refresh = true;
  } else if (refresher == "uac") {
    out.we_refresh = false;
  } else {
    out.we_refresh = !out.peer_supports_timer;
  }
  return out;
}

std::vector<Header> SessionTimerOutcome::response_headers() const {
  if (too_small) return {{"Min-SE", std::to_string(min_se)}};
  if (!interval) return {};
  std::vector<Header> headers;
  headers.push_back({"Session-Expires", std::to_string(*interval) + ";refresher=" + (we_refresh ? "uas" : "uac")});
  // §9: when the UAC supports the extension, the 2xx says it is in use.
  if (peer_supports_timer) headers.push_back({"Require", "timer"});
  return headers;
}

std::chrono::milliseconds SessionTimerOutcome::refresh_after() const {
  return std::chrono::seconds(interval.value_or(0) / 2);
}

std::chrono::milliseconds SessionTimerOutcome::expire_after() const {
  const std::uint32_t i = interval.value_or(0);
  return std::chrono::seconds(i - std::min<std::uint32_t>(32, i / 3));
}

}  // namespace chorus::sip
