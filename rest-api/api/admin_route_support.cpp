#include "rest-api/api/admin_route_support.hpp"

#include <charconv>
#include <string>

#include "common/log.hpp"
#include "common/random.hpp"
#include "conference/events/event_log.hpp"
#include "rest-api/api/api_services.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest::admin_api {

namespace {

constexpr std::size_t kIdRandomLength = 20;  // 62^20 ≈ 2^119: collisions are not a concern

}  // namespace

std::expected<PageRequest, HttpResponse> parse_page(const RequestContext& context) {
  PageRequest page{.after = {}, .limit = kDefaultPageSize};
  if (const auto token = context.query.get("page_token")) page.after = std::string(*token);
  if (const auto text = context.query.get("limit")) {
    std::size_t value = 0;
    const auto* end = text->data() + text->size();
    const auto [next, error] = std::from_chars(text->data(), end, value);
    if (error != std::errc{} || next != end || value < 1 || value > kMaxPageSize) {
      const std::string message = "limit must be an integer from 1 to " + std::to_string(kMaxPageSize);
      return std::unexpected(bad_request(message, {{"limit", message}}));
    }
    page.limit = value;
  }
  return page;
}

HttpResponse store_error_response(const conference::StoreError& error, std::string_view what) {
  using conference::StoreErrorKind;
  switch (error.kind) {
    case StoreErrorKind::kNotFound:
      return not_found(std::string(what) + " does not exist");
    case StoreErrorKind::kConflict:
      return conflict(std::string(what) + " conflicts with an existing record");
    case StoreErrorKind::kVersionMismatch:
      return precondition_failed(std::string(what) + " was changed by someone else");
    case StoreErrorKind::kIo:
      break;
  }
  CHORUS_LOG(kError, "rest", "store failed", {"what", what}, {"error", error.message});
  return internal_error("the store could not complete the request");
}

std::string new_id(std::string_view prefix) {
  std::string id(prefix);
  id += random_alphanumeric(kIdRandomLength);
  return id;
}

std::string json_time(std::chrono::system_clock::time_point at) {
  return conference::format_rfc3339_utc(at);
}

}  // namespace chorus::rest::admin_api
