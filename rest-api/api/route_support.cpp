#include "rest-api/api/route_support.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string etag_of(std::uint64_t version) {
  return "\"" + std::to_string(version) + "\"";
}

IfMatch check_if_match(std::string_view header, std::uint64_t version) {
  if (trim(header).empty()) return IfMatch::kAbsent;
  const std::string current = etag_of(version);
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view tag = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    if (tag == "*" || tag == current) return IfMatch::kMatch;
  }
  return IfMatch::kMismatch;
}

std::optional<HttpResponse> precondition_error(const RequestContext& context, std::uint64_t version, bool required) {
  switch (check_if_match(context.header(http::field::if_match), version)) {
    case IfMatch::kAbsent:
      if (!required) return std::nullopt;
      return precondition_required("send If-Match with the ETag of the version you changed, e.g. If-Match: " +
                                   etag_of(version));
    case IfMatch::kMismatch:
      return precondition_failed("the resource has changed: its ETag is now " + etag_of(version));
    case IfMatch::kMatch:
      break;
  }
  return std::nullopt;
}

HttpResponse precondition_required(std::string detail) {
  Problem problem;
  problem.status = http::status::precondition_required;
  problem.slug = kProblemPreconditionRequired;
  problem.title = "Precondition required";
  problem.detail = std::move(detail);
  return problem_response(problem);
}

HttpResponse store_error_response(const conference::StoreError& error, std::string_view what) {
  switch (error.kind) {
    case conference::StoreErrorKind::kNotFound:
      return not_found(std::string(what) + " does not exist");
    case conference::StoreErrorKind::kConflict:
      return conflict(std::string(what) + ": " + error.message);
    case conference::StoreErrorKind::kVersionMismatch:
      return precondition_failed(std::string(what) + " has changed; read it again");
    case conference::StoreErrorKind::kIo:
      break;
  }
  CHORUS_LOG(kError, "rest", "store failed", {"resource", what}, {"error", error.message});
  return internal_error("the store failed");
}

HttpResponse with_etag(HttpResponse response, std::uint64_t version) {
  response.message.set(http::field::etag, etag_of(version));
  return response;
}

bool sees_secrets(const RequestContext& context) {
  return context.principal != nullptr && context.principal->has(Scope::kRoomsSecrets);
}

bool has_control_characters(std::string_view text) {
  return std::ranges::any_of(text, [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace chorus::rest
