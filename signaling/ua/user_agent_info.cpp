// UserAgent: SIP INFO (RFC 6086) both ways — DTMF in (application/dtmf-relay, application/dtmf),
// RFC 5168 picture_fast_update in (application/media_control+xml, the keyframe request of endpoints
// without RTCP feedback), and INFO out in a call's dialog (the conference's video slot map, its own
// picture_fast_update to such endpoints).
#include <charconv>

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"

namespace chorus::sip {
namespace {

constexpr std::string_view kMediaControl = "application/media_control+xml";
constexpr std::size_t kMaxInfoPackages = 16;  // Recv-Info entries kept per call

// application/dtmf-relay (the de-facto format: "Signal=5\r\nDuration=160") or application/dtmf ("5").
std::optional<std::pair<char, int>> parse_dtmf_body(std::string_view type, std::string_view body) {
  auto valid_digit = [](char c) {
    return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd');
  };
  auto upper = [](char c) { return (c >= 'a' && c <= 'd') ? static_cast<char>(c - 'a' + 'A') : c; };
  if (type == "application/dtmf") {
    auto digit = trim(body);
    if (digit.size() == 1 && valid_digit(digit[0])) return std::make_pair(upper(digit[0]), 250);
    return std::nullopt;
  }
  std::optional<char> signal;
  int duration = 250;
  std::size_t pos = 0;
  for (int lines = 0; pos < body.size() && lines < 16; ++lines) {
    std::size_t end = body.find('\n', pos);
    std::string_view line = trim(body.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? body.size() : end + 1;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = trim(line.substr(0, eq));
    auto value = trim(line.substr(eq + 1));
    if (iequals(key, "Signal")) {
      // Some phones send the RFC 4733 event numbers 10 and 11 for * and #.
      if (value == "10") {
        signal = '*';
      } else if (value == "11") {
        signal = '#';
      } else if (value.size() == 1 && valid_digit(value[0])) {
        signal = upper(value[0]);
      }
    }
    if (iequals(key, "Duration")) {
      int d = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), d);
      if (ec == std::errc() && d > 0 && d < 60000) duration = d;
    }
  }
  if (!signal) return std::nullopt;
  return std::make_pair(*signal, duration);
}

// RFC 5168 §3: <media_control><vc_primitive><to_encoder><picture_fast_update/>... — the one
// primitive defined; matched as a token so whitespace and namespace prefixes do not matter.
bool asks_picture_fast_update(std::string_view body) {
  return body.find("picture_fast_update") != std::string_view::npos &&
         body.find("to_encoder") != std::string_view::npos;
}

}  // namespace

std::vector<std::string> recv_info_packages(const SipMessage& request) {
  std::vector<std::string> out;
  for (auto value : request.header_values("Recv-Info")) {
    while (!value.empty() && out.size() < kMaxInfoPackages) {
      const auto comma = value.find(',');
      const auto item = trim(value.substr(0, comma));
      value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
      // RFC 6086 §7.2: a package name, possibly with parameters after ';'.
      const auto name = trim(item.substr(0, item.find(';')));
      if (!name.empty()) out.push_back(ascii_lowercase(name));
    }
  }
  return out;
}

void UserAgent::on_info(TransactionId id, const SipMessage& request, Call& call) {
  const std::string& to_tag = call.dialog.id().local_tag;
  if (request.body.empty()) {  // RFC 6086 §4.2.2: an empty INFO (keep-alive) gets 200
    respond(id, request, 200, {}, {}, to_tag);
    return;
  }
  const std::string type = media_type_of(request);
  if (type == kMediaControl) {
    if (!asks_picture_fast_update(request.body)) {
      respond(id, request, 400, "Unknown Media Control Primitive", {}, to_tag);
      return;
    }
    respond(id, request, 200, {}, {}, to_tag);
    listener_.on_picture_fast_update(call.handle);
    return;
  }
  if (type != "application/dtmf-relay" && type != "application/dtmf") {
    respond(id, request, 415, {},
            {{"Accept", "application/dtmf-relay, application/dtmf, " + std::string(kMediaControl)}}, to_tag);
    return;
  }
  auto dtmf = parse_dtmf_body(type, request.body);
  if (!dtmf) {
    respond(id, request, 400, "Bad DTMF Body", {}, to_tag);
    return;
  }
  respond(id, request, 200, {}, {}, to_tag);
  // Never the digit: it may be a digit of a conference PIN (DESIGN §7, PINs never logged).
  CHORUS_LOG(kDebug, "sip", "DTMF by INFO", {"call_id", request.call_id});
  listener_.on_dtmf(call.handle, dtmf->first, dtmf->second);
}

bool UserAgent::send_info(CallHandle handle, std::string_view package, std::string_view content_type,
                          std::string body) {
  std::vector<Header> headers;
  if (!package.empty()) headers.push_back({"Info-Package", std::string(package)});  // RFC 6086 §7.3
  return send_in_call(handle, "INFO", headers, content_type, std::move(body));
}

}  // namespace chorus::sip
