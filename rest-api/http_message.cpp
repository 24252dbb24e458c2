#include "rest-api/http_message.hpp"

#include <nlohmann/json.hpp>

#include "rest-api/event_stream.hpp"

namespace chorus::rest {

namespace http = boost::beast::http;

HttpResponse HttpResponse::json(http::status status, const nlohmann::json& body) {
  // dump() with error_handler::replace: a stray invalid UTF-8 byte in stored text must not throw
  // out of a response that is otherwise fine (it becomes U+FFFD).
  return text(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kJsonContentType);
}

HttpResponse HttpResponse::text(http::status status, std::string body, std::string_view content_type) {
  HttpResponse response;
  response.message.result(status);
  response.message.set(http::field::content_type, beast_view(content_type));
  response.message.body() = std::move(body);
  return response;
}

HttpResponse HttpResponse::empty(http::status status) {
  HttpResponse response;
  response.message.result(status);
  return response;
}

HttpResponse HttpResponse::event_stream(std::shared_ptr<EventStreamSource> source) {
  HttpResponse response;
  response.message.result(http::status::ok);
  response.message.set(http::field::content_type, beast_view(kEventStreamContentType));
  response.message.set(http::field::cache_control, "no-store");
  response.stream = std::move(source);
  return response;
}

}  // namespace chorus::rest
