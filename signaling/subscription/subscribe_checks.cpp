#include "signaling/subscription/subscribe_checks.hpp"

#include <charconv>

#include "common/ascii.hpp"
#include "signaling/message/header_types.hpp"

namespace chorus::sip {

std::optional<EventHeader> event_of(const SipMessage& request) {
  const std::string* value = request.header("Event");
  if (value == nullptr) return std::nullopt;
  const std::string_view text = trim(*value);
  const std::size_t semicolon = text.find(';');
  EventHeader event;
  // §8.2.1 / §7.2: event-type is a token; compared case-insensitively here, as the packages we
  // know are registered in lower case and some phones send "Conference".
  event.package = ascii_lowercase(trim(text.substr(0, semicolon)));
  if (event.package.empty() || !is_token(event.package)) return std::nullopt;
  if (semicolon != std::string_view::npos) {
    std::vector<GenericParam> params;
    if (!parse_params(text.substr(semicolon), params)) return std::nullopt;
    if (const auto* id = find_param(params, "id")) event.id = id->value;
  }
  return event;
}

ExpiresDecision granted_expires(const SipMessage& request, const ExpiresLimits& limits) {
  const std::string* value = request.header("Expires");
  if (value == nullptr) return {200, limits.fallback};
  const std::string_view text = trim(*value);
  std::uint64_t seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  // RFC 3261 §20.19: delta-seconds; a value too large for us is just "long" (clamped below).
  if (text.empty() || end != text.data() + text.size() ||
      (error != std::errc{} && error != std::errc::result_out_of_range))
    return {400, {}};
  if (error == std::errc::result_out_of_range) seconds = UINT64_MAX;
  if (seconds == 0) return {200, std::chrono::seconds{0}};
  // RFC 6665 §4.2.1.1: shorter than we accept → 423 with Min-Expires; longer → we answer less.
  if (seconds < static_cast<std::uint64_t>(limits.min.count())) return {423, {}};
  if (seconds > static_cast<std::uint64_t>(limits.max.count())) return {200, limits.max};
  return {200, std::chrono::seconds{static_cast<std::int64_t>(seconds)}};
}

bool accepts(const SipMessage& request, std::string_view content_type) {
  if (!request.has_header("Accept")) return true;
  const std::string_view slash_type = content_type.substr(0, content_type.find('/'));
  for (auto entry : request.header_values("Accept")) {
    const std::string_view range = trim(entry.substr(0, entry.find(';')));
    if (iequals(range, content_type) || range == "*/*") return true;
    if (range.ends_with("/*") && iequals(range.substr(0, range.size() - 2), slash_type)) return true;
  }
  return false;
}

}  // namespace chorus::sip
