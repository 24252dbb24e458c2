#include "conference/chat/cpim.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "common/ascii.hpp"
#include "conference/events/event_log.hpp"

namespace chorus::conference {
namespace {

struct HeaderLine {
  std::string_view name;
  std::string_view value;
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// Splits `text` into its header lines up to the first empty line; `rest` is what follows it.
// RFC 3862 §2: each block ends with an empty line.
std::expected<std::vector<HeaderLine>, std::string> read_block(std::string_view text, std::string_view& rest,
                                                               std::string_view what) {
  std::vector<HeaderLine> headers;
  while (true) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos)
      return std::unexpected(std::string(what) + " headers do not end with an empty line");
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    if (headers.size() == kMaxCpimHeaders) return std::unexpected("too many " + std::string(what) + " headers");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return std::unexpected(std::string(what) + " header without a name: " + std::string(line.substr(0, 40)));
    headers.push_back({trim(line.substr(0, colon)), trim(line.substr(colon + 1))});
  }
  rest = text;
  return headers;
}

// `[Formal-name] <URI>` (RFC 3862 §3.2.1): a quoted string with escapes, or tokens, then the URI.
std::expected<CpimAddress, std::string> read_address(std::string_view value) {
  CpimAddress address;
  const auto open = value.rfind('<');
  const auto close = value.rfind('>');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return std::unexpected("address without <URI>: " + std::string(value.substr(0, 40)));
  address.uri = std::string(trim(value.substr(open + 1, close - open - 1)));
  std::string_view name = trim(value.substr(0, open));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (name[i] == '\\' && i + 1 < name.size()) ++i;
      address.name.push_back(name[i]);
    }
  } else {
    address.name = std::string(name);
  }
  return address;
}

std::optional<std::string_view> find(const std::vector<HeaderLine>& headers, std::string_view name) {
  for (const auto& header : headers)
    if (ascii_lowercase(header.name) == name) return header.value;
  return std::nullopt;
}

}  // namespace

std::expected<CpimMessage, std::string> parse_cpim(std::string_view body) {
  std::string_view rest;
  auto message_headers = read_block(body, rest, "message");
  if (!message_headers) return std::unexpected(message_headers.error());
  std::string_view content;
  auto mime_headers = read_block(rest, content, "MIME");
  if (!mime_headers) return std::unexpected(mime_headers.error());
  CpimMessage message;
  if (auto from = find(*message_headers, "from")) {
    auto address = read_address(*from);
    if (!address) return std::unexpected("From: " + address.error());
    message.from = std::move(*address);
  }
  if (auto to = find(*message_headers, "to")) {
    auto address = read_address(*to);
    if (!address) return std::unexpected("To: " + address.error());
    message.to = std::move(*address);
  }
  if (auto date = find(*message_headers, "datetime")) message.date_time = std::string(*date);
  const auto type = find(*mime_headers, "content-type");
  if (!type) return std::unexpected("the encapsulated object has no Content-Type");
  const auto semicolon = type->find(';');
  message.content_type = ascii_lowercase(trim(type->substr(0, semicolon)));
  if (semicolon != std::string_view::npos) {
    std::string params = ascii_lowercase(type->substr(semicolon));
    if (auto at = params.find("charset="); at != std::string::npos) {
      std::string_view charset = std::string_view(params).substr(at + 8);
      charset = charset.substr(0, charset.find(';'));
      charset = trim(charset);
      if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"')
        charset = charset.substr(1, charset.size() - 2);
      message.charset = std::string(charset);
    }
  }
  message.content = std::string(content);
  return message;
}

std::string cpim_address_text(const CpimAddress& address) {
  std::string out;
  if (!address.name.empty()) {
    out += '"';
    for (char c : address.name) {
      if (c == '\r' || c == '\n') continue;
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += "\" ";
  }
  out += "<" + address.uri + ">";
  return out;
}

std::string encode_cpim(const CpimAddress& from, const CpimAddress& to, std::chrono::system_clock::time_point at,
                        std::string_view text) {
  std::string body;
  body.reserve(text.size() + 256);
  body += "From: " + cpim_address_text(from) + "\r\n";
  body += "To: " + cpim_address_text(to) + "\r\n";
  body += "DateTime: " + format_rfc3339_utc(at) + "\r\n";
  body += "\r\n";
  body += "Content-Type: text/plain;charset=utf-8\r\n";
  body += "\r\n";
  body += text;
  return body;
}

}  // namespace chorus::conference
