#include "rest-api/problem.hpp"

#include <gtest/gtest.h>

namespace chorus::rest {
namespace problem_test {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

std::string header_of(const HttpResponse& response, http::field field) {
  return std::string(std_view(response.message[field]));
}

TEST(Problem, ValidationBodyListsFieldErrorsInRfc9457Order) {
  auto response = validation_failed({{"/name", "must not be empty"}, {"/max_participants", "must be at most 500"}});
  EXPECT_EQ(response.status(), 422U);
  EXPECT_EQ(header_of(response, http::field::content_type), "application/problem+json");
  EXPECT_EQ(response.message.body(),
            R"({"type":"https://chorus.example/problems/validation","title":"Validation failed","status":422,)"
            R"("detail":"the request has invalid fields","errors":[{"field":"/name","message":"must not be empty"},)"
            R"({"field":"/max_participants","message":"must be at most 500"}]})");
}

TEST(Problem, SingleValidationErrorBecomesTheDetail) {
  auto response = validation_failed({{"/pin", "digits only"}});
  EXPECT_NE(response.message.body().find(R"("detail":"digits only")"), std::string::npos);
}

TEST(Problem, InstanceAndEmptyMembers) {
  Problem problem{http::status::not_found, kProblemNotFound, "Not found", "", "/v1/rooms/9", {}};
  EXPECT_EQ(problem_body(problem),
            R"({"type":"https://chorus.example/problems/not-found","title":"Not found","status":404,)"
            R"("instance":"/v1/rooms/9"})");
}

TEST(Problem, UnauthorizedCarriesBearerChallenge) {
  EXPECT_EQ(header_of(unauthorized("no token", false), http::field::www_authenticate), R"(Bearer realm="chorus")");
  auto invalid = unauthorized("bad token", true);
  EXPECT_EQ(invalid.status(), 401U);
  EXPECT_EQ(header_of(invalid, http::field::www_authenticate), R"(Bearer realm="chorus", error="invalid_token")");
}

TEST(Problem, ForbiddenNamesTheMissingScope) {
  auto response = forbidden("no", "meetings:write");
  EXPECT_EQ(response.status(), 403U);
  EXPECT_EQ(header_of(response, http::field::www_authenticate),
            R"(Bearer realm="chorus", error="insufficient_scope", scope="meetings:write")");
  EXPECT_EQ(header_of(forbidden("admin only"), http::field::www_authenticate), "");
}

TEST(Problem, StatusSpecificHeaders) {
  auto allow = method_not_allowed("GET, PUT");
  EXPECT_EQ(allow.status(), 405U);
  EXPECT_EQ(header_of(allow, http::field::allow), "GET, PUT");
  auto limited = too_many_requests(3s);
  EXPECT_EQ(limited.status(), 429U);
  EXPECT_EQ(header_of(limited, http::field::retry_after), "3");
  EXPECT_EQ(header_of(too_many_requests(0s), http::field::retry_after), "1");  // never "retry now"
  EXPECT_EQ(header_of(service_unavailable("draining", 5s), http::field::retry_after), "5");
  EXPECT_EQ(header_of(service_unavailable("draining"), http::field::retry_after), "");
}

TEST(Problem, EachHelperHasItsStatusAndType) {
  const struct {
    HttpResponse response;
    unsigned status;
    std::string_view slug;
  } cases[] = {
      {bad_request("x"), 400, kProblemBadRequest},
      {invalid_json("x"), 400, kProblemInvalidJson},
      {not_found("x"), 404, kProblemNotFound},
      {conflict("x"), 409, kProblemConflict},
      {precondition_failed("x"), 412, kProblemPreconditionFailed},
      {payload_too_large(1024), 413, kProblemPayloadTooLarge},
      {unsupported_media_type("application/json"), 415, kProblemUnsupportedMediaType},
      {headers_too_large(16384), 431, kProblemHeadersTooLarge},
      {service_unavailable("x"), 503, kProblemUnavailable},
      {internal_error("x"), 500, kProblemInternal},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.response.status(), c.status) << c.slug;
    const auto& body = c.response.message.body();
    EXPECT_NE(body.find(R"("type":")" + problem_type_uri(c.slug) + "\""), std::string::npos) << body;
    EXPECT_NE(body.find(R"("status":)" + std::to_string(c.status)), std::string::npos) << body;
  }
}

}  // namespace problem_test
}  // namespace chorus::rest
