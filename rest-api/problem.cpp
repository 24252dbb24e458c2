#include "rest-api/problem.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace chorus::rest {

namespace http = boost::beast::http;

namespace {

HttpResponse make(http::status status, std::string_view slug, std::string title, std::string detail,
                  std::vector<FieldError> errors = {}) {
  return problem_response(Problem{status, slug, std::move(title), std::move(detail), {}, std::move(errors)});
}

std::string seconds_text(std::chrono::seconds value) {
  return std::to_string(std::max<long long>(1, value.count()));
}

}  // namespace

std::string problem_type_uri(std::string_view slug) {
  std::string uri(kProblemTypeBase);
  uri.append(slug);
  return uri;
}

std::string problem_body(const Problem& problem) {
  // RFC 9457 §3.1 members in their documented order (nlohmann::ordered_json keeps it).
  nlohmann::ordered_json body;
  body["type"] = problem_type_uri(problem.slug);
  body["title"] = problem.title;
  body["status"] = static_cast<unsigned>(problem.status);
  if (!problem.detail.empty()) body["detail"] = problem.detail;
  if (!problem.instance.empty()) body["instance"] = problem.instance;
  if (!problem.errors.empty()) {
    auto& errors = body["errors"] = nlohmann::ordered_json::array();
    for (const auto& error : problem.errors) errors.push_back({{"field", error.field}, {"message", error.message}});
  }
  return body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

HttpResponse problem_response(const Problem& problem) {
  return HttpResponse::text(problem.status, problem_body(problem), kProblemContentType);
}

HttpResponse bad_request(std::string detail, std::vector<FieldError> errors) {
  return make(http::status::bad_request, kProblemBadRequest, "Bad request", std::move(detail), std::move(errors));
}

HttpResponse invalid_json(std::string detail) {
  return make(http::status::bad_request, kProblemInvalidJson, "Request body is not valid JSON", std::move(detail));
}

HttpResponse unauthorized(std::string detail, bool token_presented) {
  auto response = make(http::status::unauthorized, kProblemUnauthorized, "Authentication required", std::move(detail));
  response.message.set(http::field::www_authenticate, token_presented
                                                          ? R"(Bearer realm="chorus", error="invalid_token")"
                                                          : R"(Bearer realm="chorus")");
  return response;
}

HttpResponse forbidden(std::string detail, std::string_view required_scope) {
  auto response = make(http::status::forbidden, kProblemForbidden, "Not allowed", std::move(detail));
  if (!required_scope.empty()) {
    response.message.set(http::field::www_authenticate,
                         std::string(R"(Bearer realm="chorus", error="insufficient_scope", scope=")")
                             .append(required_scope)
                             .append("\""));
  }
  return response;
}

HttpResponse not_found(std::string detail) {
  return make(http::status::not_found, kProblemNotFound, "Not found", std::move(detail));
}

HttpResponse method_not_allowed(std::string_view allow) {
  auto response = make(http::status::method_not_allowed, kProblemMethodNotAllowed, "Method not allowed",
                       std::string("this resource supports ").append(allow));
  response.message.set(http::field::allow, beast_view(allow));
  return response;
}

HttpResponse conflict(std::string detail) {
  return make(http::status::conflict, kProblemConflict, "Conflict", std::move(detail));
}

HttpResponse precondition_failed(std::string detail) {
  return make(http::status::precondition_failed, kProblemPreconditionFailed, "Precondition failed", std::move(detail));
}

HttpResponse payload_too_large(std::size_t limit_bytes) {
  return make(http::status::payload_too_large, kProblemPayloadTooLarge, "Request body too large",
              "the body limit is " + std::to_string(limit_bytes) + " bytes");
}

HttpResponse unsupported_media_type(std::string_view expected_content_type) {
  return make(http::status::unsupported_media_type, kProblemUnsupportedMediaType, "Unsupported media type",
              std::string("send the body as ").append(expected_content_type));
}

HttpResponse validation_failed(std::vector<FieldError> errors, std::string detail) {
  if (detail.empty()) detail = errors.size() == 1 ? errors.front().message : "the request has invalid fields";
  return make(http::status::unprocessable_entity, kProblemValidation, "Validation failed", std::move(detail),
              std::move(errors));
}

HttpResponse too_many_requests(std::chrono::seconds retry_after) {
  const auto seconds = seconds_text(retry_after);
  auto response =
      make(http::status::too_many_requests, kProblemRateLimited, "Too many requests", "retry in " + seconds + " s");
  response.message.set(http::field::retry_after, seconds);
  return response;
}

HttpResponse headers_too_large(std::size_t limit_bytes) {
  return make(http::status::request_header_fields_too_large, kProblemHeadersTooLarge, "Request header fields too large",
              "the header limit is " + std::to_string(limit_bytes) + " bytes");
}

HttpResponse service_unavailable(std::string detail, std::chrono::seconds retry_after) {
  auto response =
      make(http::status::service_unavailable, kProblemUnavailable, "Service unavailable", std::move(detail));
  if (retry_after.count() > 0) response.message.set(http::field::retry_after, seconds_text(retry_after));
  return response;
}

HttpResponse internal_error(std::string detail) {
  return make(http::status::internal_server_error, kProblemInternal, "Internal error", std::move(detail));
}

}  // namespace chorus::rest
