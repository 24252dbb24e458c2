#include "signaling/ua/request_checks.hpp"

#include <algorithm>
#include <array>

#include "common/ascii.hpp"

namespace chorus::sip {
namespace {

constexpr std::array kSupportedMethods{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE"};
// RFC 3261 and the extensions in common use (RFC 3262, 3265, 3311, 3428, 3515, 3903, 6086, 6665).
constexpr std::array kKnownMethods{"INVITE", "ACK",   "BYE",       "CANCEL", "OPTIONS", "REGISTER", "INFO",
                                   "UPDATE", "PRACK", "SUBSCRIBE", "NOTIFY", "MESSAGE", "REFER",    "PUBLISH"};

bool method_in(std::string_view method, const auto& list) {
  for (std::string_view m : list)
    if (m == method) return true;
  return false;
}

// §20.1: Accept lists media ranges; "*/*" and "application/*" also admit application/sdp.
bool accept_allows_sdp(const SipMessage& request) {
  auto values = request.header_values("Accept");
  if (values.empty()) return true;  // §8.2.3: absent Accept means application/sdp
  for (auto value : values) {
    auto range = ascii_lowercase(trim(value.substr(0, value.find(';'))));
    if (range.empty() || range == "application/sdp" || range == "application/*" || range == "*/*") return true;
  }
  return false;
}

std::optional<Rejection> check_require(const SipMessage& request) {
  // §8.2.2.3: not applied to CANCEL, and an ACK is never rejected.
  if (request.method == "CANCEL" || request.method == "ACK") return std::nullopt;
  std::string unsupported;
  for (auto tag : request.header_values("Require")) {
    if (is_supported_extension(tag)) continue;
    if (!unsupported.empty()) unsupported += ", ";
    unsupported += tag;
  }
  if (unsupported.empty()) return std::nullopt;
  return Rejection{420, "Bad Extension", {{"Unsupported", unsupported}}};
}

std::string joined(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& type : types) out += (out.empty() ? "" : ", ") + type;
  return out;
}

std::optional<Rejection> check_body(const SipMessage& request, const ExtensionMethods& extensions) {
  if (request.body.empty() || request.method == "ACK" || request.method == "INFO" || request.method == "CANCEL")
    return std::nullopt;  // INFO bodies are judged by the INFO handler (RFC 6086 packages)
  const auto extension = extensions.accepted_bodies.find(request.method);
  const std::string accepted =
      extension == extensions.accepted_bodies.end() ? std::string(kAcceptedBodies) : joined(extension->second);
  if (const auto* enc = request.header("Content-Encoding"); enc && !iequals(trim(*enc), "identity"))
    return Rejection{415, "Unsupported Media Type", {{"Accept-Encoding", "identity"}, {"Accept", accepted}}};
  if (extension != extensions.accepted_bodies.end()) {
    if (std::ranges::find(extension->second, media_type_of(request)) == extension->second.end())
      return Rejection{415, "Unsupported Media Type", {{"Accept", accepted}}};
    return std::nullopt;
  }
  if (!sdp_body_of(request)) return Rejection{415, "Unsupported Media Type", {{"Accept", accepted}}};
  return std::nullopt;
}

}  // namespace

bool is_supported_method(std::string_view method) {
  return method_in(method, kSupportedMethods);
}

bool is_supported_extension(std::string_view option_tag) {
  for (auto tag : split_header_list(kSupportedExtensions))
    if (iequals(tag, option_tag)) return true;
  return false;
}
bool is_known_method(std::string_view method) {
  return method_in(method, kKnownMethods);
}

std::optional<Rejection> check_request(const SipMessage& request, const ExtensionMethods& extensions) {
  // §8.2.1: a method we do not implement.
  if (!is_supported_method(request.method) && !extensions.accepted_bodies.contains(request.method)) {
    if (!is_known_method(request.method)) return Rejection{501, "Not Implemented", {{"Allow", extensions.allow}}};
    return Rejection{405, "Method Not Allowed", {{"Allow", extensions.allow}}};
  }
  // §8.2.2.1: a Request-URI scheme we do not understand.
  if (!request.request_uri.is_sip()) return Rejection{416, "Unsupported URI Scheme", {}};
  if (auto r = check_require(request)) return r;
  if (auto r = check_body(request, extensions)) return r;
  // §8.2.3 with §20.1: a 2xx to an INVITE carries SDP, so the caller must accept it. (Our 200 to
  // OPTIONS has no body, so any Accept will do there.)
  if (request.method == "INVITE" && !accept_allows_sdp(request))
    return Rejection{406, "Not Acceptable", {{"Accept", std::string(kAcceptedBodies)}}};
  return std::nullopt;
}

std::string media_type_of(const SipMessage& message) {
  const auto* type = message.header("Content-Type");
  if (!type) return {};
  return ascii_lowercase(trim(std::string_view(*type).substr(0, type->find(';'))));
}

namespace {

// The boundary parameter of a multipart Content-Type (RFC 2046 §5.1.1), unquoted.
std::string boundary_of(std::string_view content_type) {
  auto pos = ascii_lowercase(content_type).find("boundary=");
  if (pos == std::string::npos) return {};
  auto value = content_type.substr(pos + 9);
  value = value.substr(0, value.find(';'));
  value = trim(value);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return std::string(value);
}

// RFC 2046 §5.1: parts are separated by CRLF "--" boundary; each part has headers, CRLF, body.
std::optional<std::string> sdp_part(std::string_view body, const std::string& boundary) {
  if (boundary.empty() || boundary.size() > 70) return std::nullopt;
  const std::string delimiter = "--" + boundary;
  std::size_t pos = body.find(delimiter);
  for (int parts = 0; pos != std::string_view::npos && parts < 16; ++parts) {
    std::size_t start = pos + delimiter.size();
    if (body.substr(start, 2) == "--") return std::nullopt;  // closing delimiter
    std::size_t next = body.find(delimiter, start);
    if (next == std::string_view::npos) return std::nullopt;
    std::string_view part = body.substr(start, next - start);
    std::size_t split = part.find("\r\n\r\n");
    std::size_t skip = 4;
    if (split == std::string_view::npos) {
      split = part.find("\n\n");
      skip = 2;
    }
    if (split != std::string_view::npos) {
      std::string headers = ascii_lowercase(part.substr(0, split));
      if (headers.find("content-type: application/sdp") != std::string::npos ||
          headers.find("content-type:application/sdp") != std::string::npos) {
        std::string_view content = part.substr(split + skip);
        if (content.size() >= 2 && content.substr(content.size() - 2) == "\r\n") content.remove_suffix(2);
        return std::string(content);
      }
    }
    pos = next;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> sdp_body_of(const SipMessage& message) {
  if (message.body.empty()) return std::nullopt;
  const std::string type = media_type_of(message);
  if (type == "application/sdp") return message.body;
  if (type == "multipart/mixed" || type == "multipart/alternative")
    return sdp_part(message.body, boundary_of(*message.header("Content-Type")));
  return std::nullopt;
}

}  // namespace chorus::sip
