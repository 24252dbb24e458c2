// The messages that cross between the REST server's sessions and the request handler. Both are
// plain values: a session moves the request to the handler (which the server wiring runs on the
// control loop, DESIGN §2) and gets a response back, so nothing here refers to a connection.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string_type.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace chorus::rest {

class EventStreamSource;
class FileSlice;

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct HttpRequest {
  BeastRequest message;                     // method, target, headers, body (within the server's limits)
  boost::asio::ip::address remote_address;  // the peer, for logs
};

struct HttpResponse {
  // Status, headers and body. The server fills in the version, keep-alive and Content-Length.
  BeastResponse message;
  // Set: a Server-Sent Events stream (WHATWG HTML §9.2). The server sends `message`'s status and
  // headers with a chunked body, then pulls chunks from the source until the client closes, the
  // source ends or the server stops; `message`'s body is ignored.
  std::shared_ptr<EventStreamSource> stream;
  // Set: a file download (file_response.hpp, built by file_download()). The server sends
  // `message`'s status and headers with Content-Length set to the slice's length, then the slice's
  // bytes read from the open file in bounded chunks (none for a HEAD request); `message`'s body is
  // ignored. Const: copies of a response may share it.
  std::shared_ptr<const FileSlice> file;

  [[nodiscard]] unsigned status() const { return message.result_int(); }

  // `application/json` with the serialised value.
  static HttpResponse json(boost::beast::http::status status, const nlohmann::json& body);
  static HttpResponse text(boost::beast::http::status status, std::string body, std::string_view content_type);
  static HttpResponse empty(boost::beast::http::status status);  // e.g. 204 No Content
  // 200 with `Content-Type: text/event-stream` and `Cache-Control: no-store`.
  static HttpResponse event_stream(std::shared_ptr<EventStreamSource> source);
};

// Beast 1.74 speaks boost::string_view; these convert at the boundary.
inline boost::beast::string_view beast_view(std::string_view text) {
  return {text.data(), text.size()};
}
inline std::string_view std_view(boost::beast::string_view text) {
  return {text.data(), text.size()};
}

inline constexpr std::string_view kJsonContentType = "application/json";
inline constexpr std::string_view kEventStreamContentType = "text/event-stream";

}  // namespace chorus::rest
