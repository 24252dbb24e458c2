// RFC 9457 problem details: every error the REST API returns is `application/problem+json`
// (DESIGN §4).
//
// Type URIs: `https://chorus.example/problems/<slug>` (kProblemTypeBase + slug). The `.example`
// domain is reserved (RFC 2606), so the URI is a stable identifier that is never dereferenced
// (RFC 9457 §3.1.1 lets a type be a non-resolvable URI); clients compare it as a string. The
// slugs, one per problem a client can act on differently, are the kProblem* constants below and
// are listed in rest-api/README.md.
#pragma once

#include <boost/beast/http/status.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "rest-api/http_message.hpp"

namespace chorus::rest {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
inline constexpr std::string_view kProblemTypeBase = "https://chorus.example/problems/";

inline constexpr std::string_view kProblemBadRequest = "bad-request";
inline constexpr std::string_view kProblemInvalidJson = "invalid-json";
inline constexpr std::string_view kProblemUnauthorized = "unauthorized";
inline constexpr std::string_view kProblemForbidden = "forbidden";
inline constexpr std::string_view kProblemNotFound = "not-found";
inline constexpr std::string_view kProblemMethodNotAllowed = "method-not-allowed";
inline constexpr std::string_view kProblemConflict = "conflict";
inline constexpr std::string_view kProblemPreconditionFailed = "precondition-failed";
inline constexpr std::string_view kProblemPayloadTooLarge = "payload-too-large";
inline constexpr std::string_view kProblemUnsupportedMediaType = "unsupported-media-type";
inline constexpr std::string_view kProblemValidation = "validation";
inline constexpr std::string_view kProblemRateLimited = "rate-limited";
inline constexpr std::string_view kProblemHeadersTooLarge = "headers-too-large";
inline constexpr std::string_view kProblemUnavailable = "unavailable";
inline constexpr std::string_view kProblemInternal = "internal";
// The server will not reach out to that target (dial-out allow-list, private webhook address).
inline constexpr std::string_view kProblemEgressRefused = "egress-refused";

// One invalid input: `field` is a JSON Pointer (RFC 6901) into the request body, or the name of a
// query parameter or header.
struct FieldError {
  std::string field;
  std::string message;
  bool operator==(const FieldError&) const = default;
};

struct Problem {
  boost::beast::http::status status = boost::beast::http::status::internal_server_error;
  std::string_view slug = kProblemInternal;  // the type is kProblemTypeBase + slug
  std::string title;                         // short, the same for every occurrence of the type
  std::string detail;                        // this occurrence, for a human
  std::string instance;                      // optional: the request path it concerns
  std::vector<FieldError> errors;            // extension member for 400/422 (RFC 9457 §3.2)
};

[[nodiscard]] std::string problem_type_uri(std::string_view slug);
// The JSON body (members with empty values are left out).
[[nodiscard]] std::string problem_body(const Problem& problem);
[[nodiscard]] HttpResponse problem_response(const Problem& problem);

// The helpers below each make a complete response, headers included.
HttpResponse bad_request(std::string detail, std::vector<FieldError> errors = {});
HttpResponse invalid_json(std::string detail);
// RFC 6750 §3: `WWW-Authenticate: Bearer realm="chorus"`, with error="invalid_token" when a
// token was presented but is not valid.
HttpResponse unauthorized(std::string detail, bool token_presented);
// RFC 6750 §3.1: a valid token without the scope; `required_scope` empty for admin-only routes.
HttpResponse forbidden(std::string detail, std::string_view required_scope = {});
HttpResponse not_found(std::string detail);
// RFC 9110 §15.5.6: the Allow header lists the methods the resource supports.
HttpResponse method_not_allowed(std::string_view allow);
HttpResponse conflict(std::string detail);
HttpResponse precondition_failed(std::string detail);
HttpResponse payload_too_large(std::size_t limit_bytes);
HttpResponse unsupported_media_type(std::string_view expected_content_type);
HttpResponse validation_failed(std::vector<FieldError> errors, std::string detail = {});
// RFC 6585 §4: Retry-After in whole seconds (at least 1).
HttpResponse too_many_requests(std::chrono::seconds retry_after);
HttpResponse headers_too_large(std::size_t limit_bytes);  // RFC 6585 §5
HttpResponse service_unavailable(std::string detail, std::chrono::seconds retry_after = {});
HttpResponse internal_error(std::string detail);

}  // namespace chorus::rest
