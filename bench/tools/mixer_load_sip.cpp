#include "mixer_load_sip.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string_view>

namespace chorus::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kT1 = 500ms;  // RFC 3261 §17.1.1.1
constexpr auto kT2 = 4s;     // RFC 3261 §17.1.2.2: the cap of non-INVITE retransmissions
constexpr std::size_t kMaxDatagram = 65535;
constexpr std::size_t kReadsPerWake = 8;  // datagrams read from one SIP socket per wake
constexpr int kSipSocketBuffer = 256 * 1024;
constexpr int kRtpSocketBuffer = 1024 * 1024;  // a few 20 ms periods of a mixer's output
constexpr std::string_view kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";  // RFC 6464 §4
constexpr std::uint8_t kMaxOneByteId = 14;  // RFC 8285 §4.2: 15 is reserved, 1..14 fit the one-byte form

std::string random_hex(std::mt19937& rng, int words) {
  std::string out;
  for (int i = 0; i < words; ++i) {
    std::array<char, 9> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + 8, static_cast<std::uint32_t>(rng()), 16);
    out.append(buffer.data(), end);
  }
  return out;
}

std::string address_text(const sockaddr_in& address) {
  std::array<char, INET_ADDRSTRLEN> host{};
  inet_ntop(AF_INET, &address.sin_addr, host.data(), host.size());
  return std::string(host.data()) + ":" + std::to_string(ntohs(address.sin_port));
}

std::expected<int, std::string> open_socket(const std::string& ip, int buffer, std::uint16_t& port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::unexpected(std::string("socket: ") + std::strerror(errno));
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  socklen_t length = sizeof(local);
  if (inet_pton(AF_INET, ip.c_str(), &local.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    const std::string error = std::string("bind ") + ip + ": " + std::strerror(errno);
    close(fd);
    return std::unexpected(error);
  }
  port = ntohs(local.sin_port);
  return fd;
}

void send_to_server(const SipCall& call, const SipSettings& settings, std::string_view message) {
  // Loopback UDP: a refused datagram is lost like any other and recovered by the retransmit timers.
  sendto(call.sip_fd, message.data(), message.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&settings.server),
         sizeof(settings.server));
}

std::string sdp_offer(const SipCall& call, const SipSettings& settings) {
  const std::string& ip = settings.local_ip;
  std::string sdp = "v=0\r\no=load " + std::to_string(call.rtp_port) + " 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip +
                    "\r\nt=0 0\r\nm=audio " + std::to_string(call.rtp_port) + " RTP/AVP ";
  if (settings.codec == LoadCodec::kOpus) {
    // RFC 7587 §7: opus is always opus/48000/2; useinbandfec=1 says we decode its in-band FEC.
    sdp += "111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n";
  } else if (settings.codec == LoadCodec::kG722) {
    sdp += "9\r\na=rtpmap:9 G722/8000\r\n";  // RFC 3551 §4.5.2: 8000, though it samples at 16 kHz
  } else {
    sdp += "0\r\na=rtpmap:0 PCMU/8000\r\n";
  }
  // RFC 8285 §5 with id 1, the id libwebrtc offers ssrc-audio-level under.
  if (settings.audio_level) sdp += "a=extmap:1 " + std::string(kAudioLevelUri) + "\r\n";
  return sdp + "a=ptime:20\r\na=rtcp-mux\r\na=sendrecv\r\n";  // RFC 4566 §6, RFC 5761 §5.1.1
}

// A request inside (or, for the INVITE, opening) the call's dialog.
std::string request(const SipCall& call, const SipSettings& settings, std::string_view method, std::string_view uri,
                    int cseq, std::string_view branch, std::string_view to, std::string_view body = {}) {
  const std::string me = settings.local_ip + ":" + std::to_string(call.sip_port);
  std::string text = std::string(method) + " " + std::string(uri) + " SIP/2.0\r\nVia: SIP/2.0/UDP " + me +
                     ";branch=" + std::string(branch) + ";rport\r\nMax-Forwards: 70\r\nFrom: <sip:load@" + me +
                     ">;tag=" + call.from_tag + "\r\nTo: " + std::string(to) + "\r\nCall-ID: " + call.call_id +
                     "\r\nCSeq: " + std::to_string(cseq) + " " + std::string(method) + "\r\nContact: <sip:load@" + me +
                     ">\r\nUser-Agent: chorus-mixer-load\r\n";
  if (!body.empty()) text += "Content-Type: application/sdp\r\n";
  return text + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

std::string initial_to(const SipSettings& settings) {
  return "<sip:" + settings.room + "@" + address_text(settings.server) + ">";
}

std::string initial_uri(const SipSettings& settings) {
  return "sip:" + settings.room + "@" + address_text(settings.server);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// A received SIP message, viewed in place: start line, header lines, body (RFC 3261 §7).
struct Message {
  std::string_view start;
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // name, value (trimmed)
  std::string_view body;

  // First value of a header by its full or compact name (RFC 3261 §7.3.3).
  [[nodiscard]] std::string_view header(std::string_view name, std::string_view compact = {}) const {
    for (const auto& [n, v] : headers) {
      if (iequals(n, name) || (!compact.empty() && iequals(n, compact))) return v;
    }
    return {};
  }
};

std::optional<Message> parse_message(std::string_view text) {
  const auto head_end = text.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  Message m;
  m.body = text.substr(head_end + 4);
  std::string_view head = text.substr(0, head_end);
  constexpr std::size_t kMaxHeaders = 64;
  for (std::size_t line_number = 0; !head.empty() && line_number <= kMaxHeaders; ++line_number) {
    const auto eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    head = eol == std::string_view::npos ? std::string_view{} : head.substr(eol + 2);
    if (line_number == 0) {
      m.start = line;
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    m.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return m;
}

// "SIP/2.0 200 OK" → 200; 0 for a request or garbage.
int status_of(const Message& m) {
  int status = 0;
  if (!m.start.starts_with("SIP/2.0 ") || m.start.size() < 11) return 0;
  const auto digits = m.start.substr(8, 3);
  std::from_chars(digits.data(), digits.data() + 3, status);
  return status >= 100 && status <= 699 ? status : 0;
}

// CSeq "2 BYE" → method.
std::string_view cseq_method(const Message& m) {
  const std::string_view cseq = m.header("CSeq");
  const auto space = cseq.find(' ');
  return space == std::string_view::npos ? std::string_view{} : trim(cseq.substr(space + 1));
}

// <sip:x@h:p;transport=udp>;expires=... → sip:x@h:p;transport=udp
std::string contact_uri(std::string_view contact) {
  const auto open = contact.find('<');
  if (open != std::string_view::npos) {
    const auto close = contact.find('>', open);
    if (close != std::string_view::npos) return std::string(contact.substr(open + 1, close - open - 1));
  }
  return std::string(contact.substr(0, contact.find(';')));
}

// The answer's RTP address: media-level c= over session-level (RFC 4566 §5.7), the first audio
// m= port (§5.14); fails when the stream was refused (port 0) or another payload type was chosen.
std::optional<sockaddr_in> answer_media(std::string_view sdp, std::uint8_t payload_type) {
  std::string_view address;
  std::optional<std::uint16_t> port;
  constexpr std::size_t kMaxLines = 200;
  for (std::size_t n = 0; !sdp.empty() && n < kMaxLines; ++n) {
    const auto eol = sdp.find('\n');
    const std::string_view line = trim(sdp.substr(0, eol));
    sdp = eol == std::string_view::npos ? std::string_view{} : sdp.substr(eol + 1);
    if (line.starts_with("c=IN IP4 ") && (!port || address.empty())) {
      address = trim(line.substr(9));
      address = address.substr(0, address.find('/'));
    } else if (line.starts_with("m=audio ") && !port) {
      unsigned value = 0;
      const auto rest = line.substr(8);
      const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
      if (ec != std::errc() || value == 0 || value > 65535) return std::nullopt;
      const auto fmt = rest.rfind(' ');  // "RTP/AVP 111": one answered format (RFC 3264 §6.1)
      if (fmt == std::string_view::npos || rest.substr(fmt + 1) != std::to_string(payload_type)) return std::nullopt;
      port = static_cast<std::uint16_t>(value);
    }
  }
  sockaddr_in media{};
  media.sin_family = AF_INET;
  const std::string host(address);
  if (!port || inet_pton(AF_INET, host.c_str(), &media.sin_addr) != 1) return std::nullopt;
  media.sin_port = htons(*port);
  return media;
}

// "a=extmap:<id>[/<direction>] <uri> [attributes]" (RFC 8285 §5) naming ssrc-audio-level → its id
// when we may send it in the one-byte form; 0 otherwise. An answer marking it sendonly or inactive
// will not receive it (§6), and an id above 14 needs the two-byte form (§4.3).
std::uint8_t audio_level_extmap_id(std::string_view line) {
  if (!line.starts_with("a=extmap:")) return 0;
  line.remove_prefix(9);
  unsigned id = 0;
  const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
  if (ec != std::errc() || id == 0 || id > kMaxOneByteId) return 0;
  line.remove_prefix(static_cast<std::size_t>(end - line.data()));
  const auto space = line.find_first_of(" \t");
  if (space == std::string_view::npos) return 0;
  const std::string_view direction = line.substr(0, space);
  if (!direction.empty() && direction != "/sendrecv" && direction != "/recvonly") return 0;
  const std::string_view rest = trim(line.substr(space));
  return rest.substr(0, rest.find_first_of(" \t")) == kAudioLevelUri ? static_cast<std::uint8_t>(id) : 0;
}

// The answer's ssrc-audio-level id: at session level or in the first audio m-section, which is
// ours (RFC 8285 §5: a session-level extmap applies to every section); 0 when it has none.
std::uint8_t answer_audio_level_id(std::string_view sdp) {
  bool seen_media = false;
  bool in_audio = false;
  constexpr std::size_t kMaxLines = 200;
  for (std::size_t n = 0; !sdp.empty() && n < kMaxLines; ++n) {
    const auto eol = sdp.find('\n');
    const std::string_view line = trim(sdp.substr(0, eol));
    sdp = eol == std::string_view::npos ? std::string_view{} : sdp.substr(eol + 1);
    if (line.starts_with("m=")) {
      if (in_audio) return 0;  // our section ended without it
      in_audio = line.starts_with("m=audio ");
      seen_media = true;
    } else if (in_audio || !seen_media) {
      if (const std::uint8_t id = audio_level_extmap_id(line); id != 0) return id;
    }
  }
  return 0;
}

// 200 (or 501) to a request the server sent us: its Via, From, To, Call-ID and CSeq copied back
// (RFC 3261 §8.2.6.2).
std::string response_to(const Message& m, std::string_view status_line) {
  std::string text = "SIP/2.0 " + std::string(status_line) + "\r\n";
  for (const auto& [name, value] : m.headers) {
    if (iequals(name, "Via") || iequals(name, "v") || iequals(name, "From") || iequals(name, "f") ||
        iequals(name, "To") || iequals(name, "t") || iequals(name, "Call-ID") || iequals(name, "i") ||
        iequals(name, "CSeq")) {
      text += std::string(name) + ": " + std::string(value) + "\r\n";
    }
  }
  return text + "Content-Length: 0\r\n\r\n";
}

void fail(SipCall& call, int status, SipTotals& totals) {
  call.state = CallState::kFailed;
  call.final_status = status;
  ++totals.failed;
  ++totals.failure_statuses[status];
}

void ack_2xx(SipCall& call, const SipSettings& settings, std::mt19937& rng) {
  // RFC 3261 §13.2.2.4: the ACK of a 2xx is a new transaction, CSeq number of the INVITE.
  send_to_server(
      call, settings,
      request(call, settings, "ACK", call.remote_target, 1, "z9hG4bK-" + random_hex(rng, 3), call.to_header));
}

void on_invite_response(SipCall& call, const Message& m, int status, const SipSettings& settings, std::mt19937& rng,
                        SipTotals& totals) {
  const bool pending = call.state == CallState::kCalling || call.state == CallState::kProceeding;
  if (status < 200) {
    if (call.state == CallState::kCalling) call.state = CallState::kProceeding;  // Timer A stops
    return;
  }
  if (status >= 300) {
    // RFC 3261 §17.1.1.3: the ACK of a failure reuses the INVITE's branch, and is sent for every
    // retransmission of the response too.
    send_to_server(call, settings,
                   request(call, settings, "ACK", initial_uri(settings), 1, call.invite_branch, m.header("To", "t")));
    if (pending) fail(call, status, totals);
    return;
  }
  if (call.dialog) {  // a retransmitted 2xx: our ACK was lost
    ack_2xx(call, settings, rng);
    ++totals.acks_resent;
    return;
  }
  call.dialog = true;
  call.to_header = std::string(m.header("To", "t"));
  const std::string contact = contact_uri(m.header("Contact", "m"));
  call.remote_target = contact.empty() ? initial_uri(settings) : contact;
  ack_2xx(call, settings, rng);
  if (!pending) return;  // answered after we gave up: the dialog still gets its BYE
  const auto media = answer_media(m.body, payload_type_of(settings.codec));
  if (!media) {
    fail(call, 606, totals);  // counted as failed: an answer we cannot send media to
    return;
  }
  call.media = *media;
  call.audio_level_id = settings.audio_level ? answer_audio_level_id(m.body) : 0;
  call.state = CallState::kConfirmed;
  call.final_status = status;
  ++totals.answered;
}

void on_server_request(SipCall& call, const Message& m, const SipSettings& settings, SipTotals& totals) {
  const std::string_view method = m.start.substr(0, m.start.find(' '));
  if (method == "ACK") return;
  if (method == "BYE") {
    send_to_server(call, settings, response_to(m, "200 OK"));
    if (call.dialog && !call.ended_by_server) ++totals.ended_by_server;
    call.ended_by_server = true;
    return;
  }
  // A load generator only takes calls down: it answers OPTIONS (keep-alives) and refuses every other
  // request inside the call (re-INVITE, UPDATE, INFO) with 501, which RFC 3261 §21.5.2 allows for a
  // method the UA does not support; chorusd sends none of them during a benchmark run.
  send_to_server(call, settings, response_to(m, method == "OPTIONS" ? "200 OK" : "501 Not Implemented"));
}

// Reads up to kReadsPerWake datagrams from the call's SIP socket and acts on each.
void read_sip(SipCall& call, const SipSettings& settings, std::mt19937& rng, SipTotals& totals) {
  static std::array<char, kMaxDatagram> buffer;
  for (std::size_t i = 0; i < kReadsPerWake; ++i) {
    const ssize_t n = recv(call.sip_fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n <= 0) return;
    const auto m = parse_message(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    if (!m || m->header("Call-ID", "i") != call.call_id) continue;
    const int status = status_of(*m);
    if (status == 0) {
      on_server_request(call, *m, settings, totals);
    } else if (cseq_method(*m) == "INVITE") {
      on_invite_response(call, *m, status, settings, rng, totals);
    } else if (cseq_method(*m) == "BYE" && status >= 200) {
      call.bye_answered = true;
    }
  }
}

// Timer A/E: resend `message` when due, doubling the interval up to `cap`.
void retransmit_if_due(SipCall& call, const SipSettings& settings, std::string_view message, Clock::time_point now,
                       std::chrono::milliseconds cap) {
  if (now < call.retransmit_at) return;
  send_to_server(call, settings, message);
  call.retransmit_interval = std::min(call.retransmit_interval * 2, cap);
  call.retransmit_at = now + call.retransmit_interval;
}

// Polls the sockets of `active` calls for up to 5 ms and reads what arrived.
void poll_calls(std::vector<SipCall>& calls, const std::vector<std::size_t>& active, const SipSettings& settings,
                std::mt19937& rng, SipTotals& totals) {
  std::vector<pollfd> fds;
  fds.reserve(active.size());
  for (std::size_t i : active) fds.push_back({calls[i].sip_fd, POLLIN, 0});
  if (poll(fds.data(), fds.size(), 5) <= 0) return;
  for (std::size_t k = 0; k < fds.size(); ++k) {
    if (fds[k].revents & POLLIN) read_sip(calls[active[k]], settings, rng, totals);
  }
}

}  // namespace

std::expected<void, std::string> open_call(SipCall& call, const SipSettings& settings, std::mt19937& rng) {
  auto sip = open_socket(settings.local_ip, kSipSocketBuffer, call.sip_port);
  if (!sip) return std::unexpected(sip.error());
  call.sip_fd = *sip;
  auto rtp = open_socket(settings.local_ip, kRtpSocketBuffer, call.rtp_port);
  if (!rtp) return std::unexpected(rtp.error());
  call.rtp_fd = *rtp;
  call.call_id = random_hex(rng, 4) + "@mixer-load";
  call.from_tag = random_hex(rng, 2);
  call.invite_branch = "z9hG4bK-" + random_hex(rng, 3);
  call.invite = request(call, settings, "INVITE", initial_uri(settings), 1, call.invite_branch, initial_to(settings),
                        sdp_offer(call, settings));
  return {};
}

void establish_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals) {
  const std::size_t window = std::max<std::size_t>(settings.window, 1);
  // Every call settles within answer_timeout of its INVITE; the guard only bounds the loop.
  const auto guard = Clock::now() + settings.answer_timeout * (calls.size() / window + 2) + 5s;
  std::size_t next = 0;
  std::vector<std::size_t> active;
  while ((next < calls.size() || !active.empty()) && Clock::now() < guard) {
    for (; next < calls.size() && active.size() < window; ++next) {
      SipCall& call = calls[next];
      call.state = CallState::kCalling;
      call.invite_sent = Clock::now();
      call.retransmit_interval = kT1;
      call.retransmit_at = call.invite_sent + kT1;
      send_to_server(call, settings, call.invite);
      active.push_back(next);
    }
    poll_calls(calls, active, settings, rng, totals);
    const auto now = Clock::now();
    for (std::size_t i : active) {
      SipCall& call = calls[i];
      if (call.state == CallState::kCalling)
        retransmit_if_due(call, settings, call.invite, now, settings.answer_timeout);
      const bool pending = call.state == CallState::kCalling || call.state == CallState::kProceeding;
      if (pending && now - call.invite_sent >= settings.answer_timeout) {
        // RFC 3261 §9.1: CANCEL only what got a provisional answer; same branch as the INVITE.
        if (call.state == CallState::kProceeding) {
          send_to_server(
              call, settings,
              request(call, settings, "CANCEL", initial_uri(settings), 1, call.invite_branch, initial_to(settings)));
        }
        fail(call, 408, totals);
      }
    }
    std::erase_if(active, [&](std::size_t i) {
      return calls[i].state != CallState::kCalling && calls[i].state != CallState::kProceeding;
    });
  }
  for (std::size_t i : active) fail(calls[i], 408, totals);  // only when the guard expired
  for (; next < calls.size(); ++next) fail(calls[next], 408, totals);
}

void service_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals) {
  for (SipCall& call : calls) {
    if (call.sip_fd >= 0) read_sip(call, settings, rng, totals);
  }
}

void terminate_calls(std::vector<SipCall>& calls, const SipSettings& settings, std::mt19937& rng, SipTotals& totals) {
  const std::size_t window = std::max<std::size_t>(settings.window, 1);
  const auto deadline = Clock::now() + settings.bye_timeout;
  std::vector<std::string> byes(calls.size());
  std::vector<std::size_t> waiting;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].dialog && !calls[i].ended_by_server) waiting.push_back(i);
  }
  std::size_t next = 0;
  std::vector<std::size_t> active;
  while ((next < waiting.size() || !active.empty()) && Clock::now() < deadline) {
    for (; next < waiting.size() && active.size() < window; ++next) {
      SipCall& call = calls[waiting[next]];
      byes[waiting[next]] =
          request(call, settings, "BYE", call.remote_target, 2, "z9hG4bK-" + random_hex(rng, 3), call.to_header);
      call.retransmit_interval = kT1;
      call.retransmit_at = Clock::now() + kT1;
      send_to_server(call, settings, byes[waiting[next]]);
      ++totals.byes_sent;
      active.push_back(waiting[next]);
    }
    poll_calls(calls, active, settings, rng, totals);
    const auto now = Clock::now();
    for (std::size_t i : active) {
      if (!calls[i].bye_answered && !calls[i].ended_by_server) retransmit_if_due(calls[i], settings, byes[i], now, kT2);
    }
    std::erase_if(active, [&](std::size_t i) {
      if (!calls[i].bye_answered && !calls[i].ended_by_server) return false;
      if (calls[i].bye_answered) ++totals.byes_answered;
      return true;
    });
  }
}

void close_call(SipCall& call) {
  if (call.sip_fd >= 0) close(call.sip_fd);
  if (call.rtp_fd >= 0) close(call.rtp_fd);
  call.sip_fd = call.rtp_fd = -1;
}

}  // namespace chorus::bench
