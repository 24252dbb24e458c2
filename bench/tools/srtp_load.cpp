// srtp_load: an SRTP load generator for bench/media_pps.py. It sends SRTP packets (RFC 3711,
// RFC 7714 suites) to a media server at a paced rate and receives what the server echoes back,
// then prints one JSON object with what was sent, echoed, lost and how long the echoes took.
//
//   srtp_load --server 127.0.0.1:20000 --local-port 40000 --suite AES_CM_128_HMAC_SHA1_80
//             --key <ours, hex or base64> --server-key <the answer's> --rate 50000 --duration 10
//
// One flow is one call: a local UDP socket, the server's RTP address, our outbound SrtpSession
// (the key of our a=crypto line) and an inbound one (the key of the answer's a=crypto line).
// `--flow SERVER:PORT,LOCAL_PORT,OUR_KEY,SERVER_KEY` adds flows (base64 never contains ',');
// OUR_KEY `-` sends plain RTP (for a protect-only baseline, bench/tools/udp_reflector.cpp), while the
// echoes are still SRTP, unprotected with SERVER_KEY;
// --rate is the total over all flows, packet i going to flow i % flows. Each flow sends from
// --ssrcs SSRCs in turn, each with its own sequence and timestamp (RFC 3550 §5.1). (A server that
// echoes every SSRC under one SSRC of its own interleaves their sequence numbers: expect replays.)
//
// Pacing: the packets due by now (rate × elapsed) are protected and handed to the kernel with
// sendmmsg in batches of --batch per flow; then the echoes waiting are read, and the loop sleeps
// until the next ~1 ms of packets is due (it does not wake for each echo: that would cost the
// loader a wakeup per packet and leave it no time to send); sending stops after --duration. A packet the kernel refuses
// (full socket buffer) is counted in send_failures and not retried, so the offered rate never overshoots. Each payload
// starts with its send time (CLOCK_REALTIME, ns) and global index; with the kernel's receive timestamp of the echo
// (SO_TIMESTAMPNS, same clock) that gives each round trip, however late the loop reads it. Echoes are read with
// recvmmsg; RTP is unprotected with the server's key (echoed), and with rtcp-mux the server's SRTCP reports are
// unprotected too and counted apart (rtcp_received).
//
// Threading: one thread. The tool is a peer for benchmarks, not part of the server; it exits 2 on
// bad arguments and 1 when a socket or SRTP session cannot be set up.
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "load_tool_support.hpp"
#include "media/rtp/packet_kind.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/srtp/srtp_session.hpp"

namespace {

using namespace chorus::bench;  // NOLINT(google-build-using-namespace): load_tool_support.hpp

using chorus::media::SrtpDirection;
using chorus::media::SrtpSession;
using chorus::media::SrtpSuite;

constexpr std::size_t kMaxBatch = 64;
constexpr std::size_t kMaxFlows = 64;
constexpr std::size_t kMaxPayload = 1400;  // stays under a 1,500-octet MTU with header and tag
constexpr std::size_t kPayloadStamp = 12;  // send time (8 octets) + packet index (4 octets)
constexpr std::size_t kSlotSize = 2048;    // one datagram buffer: payload + header + SRTP(C) trailer
constexpr int kSocketBuffer = 8 * 1024 * 1024;
constexpr std::uint32_t kTimestampStep = 160;  // 20 ms of 8 kHz audio (PCMU)

struct alignas(16) Slot {
  std::array<std::uint8_t, kSlotSize> bytes;
};

struct Options {
  std::string suite_name = "AES_CM_128_HMAC_SHA1_80";
  std::string bind_address = "127.0.0.1";
  std::vector<std::string> flow_specs;  // "server:port,local_port,our_key,server_key"
  std::string server, local_port, key, server_key;
  std::size_t ssrcs = 1;
  std::size_t payload = 160;
  std::uint8_t payload_type = 0;
  double rate = 1000;
  double duration_s = 5;
  double drain_ms = 500;
  std::size_t batch = 32;
};

struct SsrcState {
  std::uint32_t ssrc = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
};

struct Flow {
  int fd = -1;
  sockaddr_in server{};
  std::optional<SrtpSession> outbound;
  std::optional<SrtpSession> inbound;
  std::vector<SsrcState> ssrcs;
  std::size_t next_ssrc = 0;
};

struct Totals {
  std::uint64_t attempted = 0;
  std::uint64_t sent = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t protect_failures = 0;
  std::uint64_t received = 0;
  std::uint64_t echoed = 0;
  std::uint64_t foreign = 0;  // datagrams from an address that is not the flow's server
  std::uint64_t malformed = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtcp_unprotect_failures = 0;
  std::uint64_t rx_socket_drops = 0;  // datagrams our sockets' full receive buffers dropped
  std::vector<std::uint32_t> rtt_us;
};

bool parse_hex_octet(std::string_view two, std::uint8_t& out) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(two.data(), two.data() + two.size(), value, 16);
  if (ec != std::errc() || ptr != two.data() + two.size()) return false;
  out = static_cast<std::uint8_t>(value);
  return true;
}

// A key || salt octet string given as hex (2 × length characters) or RFC 4648 base64.
std::optional<std::vector<std::uint8_t>> decode_key(std::string_view text, SrtpSuite suite) {
  const std::size_t length = chorus::media::key_salt_length(suite);
  if (text.size() == 2 * length && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
    std::vector<std::uint8_t> key(length);
    for (std::size_t i = 0; i < length; ++i) {
      if (!parse_hex_octet(text.substr(2 * i, 2), key[i])) return std::nullopt;
    }
    return key;
  }
  auto key = chorus::media::base64_decode(text);
  if (!key || key->size() != length) return std::nullopt;
  return key;
}

void usage() {
  std::fputs(
      "usage: srtp_load --server HOST:PORT --local-port N --key K --server-key K [options]\n"
      "  --suite NAME        AES_CM_128_HMAC_SHA1_80 (default), AES_CM_128_HMAC_SHA1_32,\n"
      "                      AEAD_AES_128_GCM, AEAD_AES_256_GCM\n"
      "  --key K             our key||salt (hex or base64): what we protect with\n"
      "  --server-key K      the server's key||salt: what its echoes are protected with\n"
      "  --flow S:P,L,K,SK   one more flow (server, local port, our key or - for plain RTP out, server key);\n"
      "                      repeatable\n"
      "  --bind ADDR         local address (default 127.0.0.1)\n"
      "  --rate PPS          packets per second over all flows (default 1000)\n"
      "  --duration S        seconds of sending (default 5)\n"
      "  --drain-ms MS       how long to wait for the last echoes (default 500)\n"
      "  --payload N         RTP payload octets, 12..1400 (default 160, PCMU-like)\n"
      "  --pt N              payload type (default 0); --ssrcs N SSRCs per flow (default 1)\n"
      "  --batch N           datagrams per sendmmsg/recvmmsg, 1..64 (default 32)\n",
      stderr);
}

bool apply_option(Options& o, std::string_view name, std::string_view value) {
  if (name == "--server") return o.server = value, true;
  if (name == "--local-port") return o.local_port = value, true;
  if (name == "--key") return o.key = value, true;
  if (name == "--server-key") return o.server_key = value, true;
  if (name == "--flow") return o.flow_specs.emplace_back(value), true;
  if (name == "--suite") return o.suite_name = value, true;
  if (name == "--bind") return o.bind_address = value, true;
  if (name == "--ssrcs") return parse_number(value, o.ssrcs) && o.ssrcs >= 1 && o.ssrcs <= 64;
  if (name == "--payload")
    return parse_number(value, o.payload) && o.payload >= kPayloadStamp && o.payload <= kMaxPayload;
  if (name == "--batch") return parse_number(value, o.batch) && o.batch >= 1 && o.batch <= kMaxBatch;
  if (name == "--rate") return parse_number(value, o.rate) && o.rate > 0;
  if (name == "--duration") return parse_number(value, o.duration_s) && o.duration_s > 0;
  if (name == "--drain-ms") return parse_number(value, o.drain_ms) && o.drain_ms >= 0;
  if (name == "--pt") {
    unsigned pt = 0;
    // RFC 5761 §4: payload types 64..95 would look like RTCP on a muxed port.
    if (!parse_number(value, pt) || pt > 127 || (pt >= 64 && pt <= 95)) return false;
    o.payload_type = static_cast<std::uint8_t>(pt);
    return true;
  }
  return false;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (name == "--help" || name == "-h" || i + 1 >= argc) return std::nullopt;
    if (!apply_option(o, name, argv[i + 1])) {
      std::fprintf(stderr, "srtp_load: bad option or value: %s %s\n", argv[i], argv[i + 1]);
      return std::nullopt;
    }
  }
  if (!o.server.empty() || !o.key.empty() || !o.server_key.empty()) {
    if (o.server.empty() || o.key.empty() || o.server_key.empty()) {
      std::fputs("srtp_load: --server, --key and --server-key go together\n", stderr);
      return std::nullopt;
    }
    o.flow_specs.insert(o.flow_specs.begin(), o.server + "," + (o.local_port.empty() ? "0" : o.local_port) + "," +
                                                  o.key + "," + o.server_key);
  }
  if (o.flow_specs.empty() || o.flow_specs.size() > kMaxFlows) {
    std::fputs("srtp_load: give 1 to 64 flows (--server ... or --flow ...)\n", stderr);
    return std::nullopt;
  }
  return o;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

int open_socket(const std::string& bind_address, std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // Bursts of echoes must not overflow while we are busy protecting: ask for large buffers (the
  // FORCE variants pass net.core.*mem_max when we may; otherwise the kernel caps the plain ones).
  for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
    if (setsockopt(fd, SOL_SOCKET, force, &kSocketBuffer, sizeof(kSocketBuffer)) != 0) {
      setsockopt(fd, SOL_SOCKET, plain, &kSocketBuffer, sizeof(kSocketBuffer));
    }
  }
  const int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_port = htons(port);
  if (inet_pton(AF_INET, bind_address.c_str(), &local.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof(local)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

std::optional<Flow> make_flow(std::string_view spec, SrtpSuite suite, const Options& o, std::mt19937& rng) {
  const auto parts = split(spec, ',');
  std::uint16_t local_port = 0;
  const auto server = parts.size() == 4 ? parse_address(parts[0]) : std::nullopt;
  const bool plain_out = parts.size() == 4 && parts[2] == "-";
  const auto key = parts.size() == 4 && !plain_out ? decode_key(parts[2], suite) : std::nullopt;
  const auto server_key = parts.size() == 4 ? decode_key(parts[3], suite) : std::nullopt;
  if (!server || !parse_number(parts[1], local_port) || (!key && !plain_out) || !server_key) {
    std::fprintf(stderr, "srtp_load: bad flow %.*s (keys must be %zu octets)\n", static_cast<int>(spec.size()),
                 spec.data(), chorus::media::key_salt_length(suite));
    return std::nullopt;
  }
  Flow flow;
  flow.server = *server;
  auto inbound = SrtpSession::create(suite, *server_key, SrtpDirection::kInbound);
  if (!inbound) {
    std::fprintf(stderr, "srtp_load: SRTP session: %s\n", inbound.error().c_str());
    return std::nullopt;
  }
  if (!plain_out) {
    auto outbound = SrtpSession::create(suite, *key, SrtpDirection::kOutbound);
    if (!outbound) {
      std::fprintf(stderr, "srtp_load: SRTP session: %s\n", outbound.error().c_str());
      return std::nullopt;
    }
    flow.outbound.emplace(std::move(*outbound));
  }
  flow.inbound.emplace(std::move(*inbound));
  flow.fd = open_socket(o.bind_address, local_port);
  if (flow.fd < 0) {
    std::fprintf(stderr, "srtp_load: cannot bind %s:%u: %s\n", o.bind_address.c_str(), local_port,
                 std::strerror(errno));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < o.ssrcs; ++i) {
    // RFC 3550 §5.1: random initial sequence number and timestamp.
    flow.ssrcs.push_back(
        {static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()), static_cast<std::uint32_t>(rng())});
  }
  return flow;
}

// Per-flow message arrays for sendmmsg/recvmmsg: flows × batch slots each way.
struct Buffers {
  explicit Buffers(std::size_t flows, std::size_t batch)
      : slots(flows * batch), iov(flows * batch), msgs(flows * batch), names(flows * batch), controls(batch) {}
  std::vector<Slot> slots;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<sockaddr_in> names;
  std::vector<std::array<std::uint8_t, CMSG_SPACE(sizeof(timespec))>> controls;  // SCM_TIMESTAMPNS
};

// When the kernel received the datagram (SO_TIMESTAMPNS), or now if it did not say.
std::uint64_t receive_time_ns(msghdr& header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
      return to_ns(ts);
    }
  }
  return clock_ns(CLOCK_REALTIME);
}

// Writes packet `index` of `flow` into slot: RTP header, stamp, pattern; then protects it.
std::optional<std::size_t> build_packet(Flow& flow, Slot& slot, const Options& o, std::uint64_t index,
                                        std::uint64_t send_ns) {
  SsrcState& s = flow.ssrcs[flow.next_ssrc];
  flow.next_ssrc = (flow.next_ssrc + 1) % flow.ssrcs.size();
  chorus::media::RtpHeaderFields fields;
  fields.payload_type = o.payload_type;
  fields.sequence_number = s.sequence++;
  fields.timestamp = s.timestamp;
  fields.ssrc = s.ssrc;
  s.timestamp += kTimestampStep;
  const auto header = chorus::media::write_rtp_header(slot.bytes, fields);
  if (!header) return std::nullopt;
  std::uint8_t* payload = slot.bytes.data() + *header;
  const auto index32 = static_cast<std::uint32_t>(index);
  std::memcpy(payload, &send_ns, sizeof(send_ns));
  std::memcpy(payload + sizeof(send_ns), &index32, sizeof(index32));
  for (std::size_t i = kPayloadStamp; i < o.payload; ++i) payload[i] = static_cast<std::uint8_t>(i * 13 + 7);
  if (!flow.outbound) return *header + o.payload;  // OUR_KEY `-`: plain RTP out
  return flow.outbound->protect_rtp(slot.bytes, *header + o.payload);
}

// Protects and sends `count` packets, the next ones in global order (packet i → flow i % flows).
void send_packets(std::vector<Flow>& flows, std::uint64_t count, const Options& o, Totals& t, Buffers& b) {
  const std::size_t f_count = flows.size();
  while (count > 0) {
    const std::uint64_t chunk = std::min<std::uint64_t>(count, o.batch * f_count);
    std::vector<std::size_t> filled(f_count, 0);
    const std::uint64_t send_ns = clock_ns(CLOCK_REALTIME);
    for (std::uint64_t k = 0; k < chunk; ++k) {
      const std::uint64_t index = t.attempted + k;
      const std::size_t f = index % f_count;
      const std::size_t m = f * o.batch + filled[f];
      const auto length = build_packet(flows[f], b.slots[m], o, index, send_ns);
      if (!length) {
        ++t.protect_failures;
        continue;
      }
      b.iov[m] = {b.slots[m].bytes.data(), *length};
      b.msgs[m] = {};
      b.msgs[m].msg_hdr.msg_iov = &b.iov[m];
      b.msgs[m].msg_hdr.msg_iovlen = 1;
      b.msgs[m].msg_hdr.msg_name = &flows[f].server;
      b.msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      ++filled[f];
    }
    for (std::size_t f = 0; f < f_count; ++f) {
      if (filled[f] == 0) continue;
      const int n = sendmmsg(flows[f].fd, &b.msgs[f * o.batch], static_cast<unsigned>(filled[f]), 0);
      const std::size_t accepted = n > 0 ? static_cast<std::size_t>(n) : 0;
      t.sent += accepted;
      t.send_failures += filled[f] - accepted;
    }
    t.attempted += chunk;
    count -= chunk;
  }
}

void record_echo(std::span<std::uint8_t> plain, const Options& o, Totals& t, std::uint64_t now) {
  const auto packet = chorus::media::RtpPacket::parse(plain);
  if (!packet || packet->payload().size() != o.payload) {
    ++t.malformed;
    return;
  }
  std::uint64_t send_ns = 0;
  std::memcpy(&send_ns, packet->payload().data(), sizeof(send_ns));
  ++t.echoed;
  if (now >= send_ns)
    t.rtt_us.push_back(static_cast<std::uint32_t>(std::min<std::uint64_t>((now - send_ns) / 1000, UINT32_MAX)));
}

// Reads every datagram waiting on the flow's socket.
void drain_flow(Flow& flow, const Options& o, Totals& t, Buffers& b, std::uint64_t& unprotect_failures) {
  for (;;) {
    for (std::size_t m = 0; m < o.batch; ++m) {
      b.iov[m] = {b.slots[m].bytes.data(), kSlotSize};
      b.msgs[m] = {};
      b.msgs[m].msg_hdr.msg_iov = &b.iov[m];
      b.msgs[m].msg_hdr.msg_iovlen = 1;
      b.msgs[m].msg_hdr.msg_name = &b.names[m];
      b.msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      b.msgs[m].msg_hdr.msg_control = b.controls[m].data();
      b.msgs[m].msg_hdr.msg_controllen = b.controls[m].size();
    }
    const int n = recvmmsg(flow.fd, b.msgs.data(), static_cast<unsigned>(o.batch), MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int m = 0; m < n; ++m) {
      const sockaddr_in& from = b.names[m];
      if (from.sin_addr.s_addr != flow.server.sin_addr.s_addr || from.sin_port != flow.server.sin_port) {
        ++t.foreign;
        continue;
      }
      ++t.received;
      const std::size_t length = b.msgs[m].msg_len;
      std::span<std::uint8_t> buffer(b.slots[m].bytes);
      switch (chorus::media::classify_packet(buffer.first(length))) {
        case chorus::media::PacketKind::kRtp:
          if (auto plain = flow.inbound->unprotect_rtp(buffer, length)) {
            record_echo(buffer.first(*plain), o, t, receive_time_ns(b.msgs[m].msg_hdr));
          } else {
            ++unprotect_failures;
          }
          break;
        case chorus::media::PacketKind::kRtcp:
          ++t.rtcp_received;
          if (!flow.inbound->unprotect_rtcp(buffer, length)) ++t.rtcp_unprotect_failures;
          break;
        default:
          ++t.malformed;
      }
    }
    if (static_cast<std::size_t>(n) < o.batch) return;
  }
}

struct RunClock {
  std::uint64_t start_ns = 0;
  std::uint64_t send_end_ns = 0;
  std::uint64_t end_ns = 0;
};

// Sends at the paced rate for the duration, reading echoes between bursts, then waits up to
// --drain-ms for the echoes still in flight.
RunClock run(std::vector<Flow>& flows, const Options& o, Totals& t, std::uint64_t& unprotect_failures) {
  Buffers buffers(flows.size(), o.batch);
  const auto total = static_cast<std::uint64_t>(o.rate * o.duration_s);
  // Wake about once a millisecond at high rates, and never for less than one packet.
  const std::uint64_t quantum_cap = o.batch * flows.size();
  const auto quantum = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(o.rate / 1000), 1, quantum_cap);
  auto drain_all = [&] {
    for (Flow& flow : flows) drain_flow(flow, o, t, buffers, unprotect_failures);
  };
  RunClock clock;
  clock.start_ns = now_ns();
  // The run lasts --duration even when the loader cannot keep up: achieved_send_pps then says so.
  const std::uint64_t send_until = clock.start_ns + static_cast<std::uint64_t>(o.duration_s * 1e9);
  while (t.attempted < total && now_ns() < send_until) {
    const double elapsed_s = static_cast<double>(now_ns() - clock.start_ns) / 1e9;
    const auto due = std::min(total, static_cast<std::uint64_t>(o.rate * elapsed_s));
    // A loader that fell behind catches up in bursts of a few batches, reading echoes in between
    // so its own receive buffer does not overflow.
    if (due > t.attempted)
      send_packets(flows, std::min<std::uint64_t>(due - t.attempted, 4 * quantum_cap), o, t, buffers);
    drain_all();
    const auto next = std::min(total, t.attempted + quantum);
    sleep_until(clock.start_ns + static_cast<std::uint64_t>(static_cast<double>(next) / o.rate * 1e9));
  }
  clock.send_end_ns = now_ns();
  const std::uint64_t drain_until = clock.send_end_ns + static_cast<std::uint64_t>(o.drain_ms * 1e6);
  while (now_ns() < drain_until && t.echoed + unprotect_failures + t.malformed < t.sent) {
    sleep_until(std::min(drain_until, now_ns() + 1'000'000));
    drain_all();
  }
  clock.end_ns = now_ns();
  return clock;
}

std::uint32_t percentile(std::vector<std::uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

void print_json(const Options& o, const std::vector<Flow>& flows, Totals& t, std::uint64_t unprotect_failures,
                const RunClock& clock, double loader_cpu_s) {
  std::uint64_t replay = 0, auth = 0;
  for (const Flow& flow : flows) {
    replay += flow.inbound->counters().replay;
    auth += flow.inbound->counters().auth_failure;
  }
  const double send_s = static_cast<double>(clock.send_end_ns - clock.start_ns) / 1e9;
  const double lost = t.sent > t.echoed ? static_cast<double>(t.sent - t.echoed) : 0.0;
  const double p50 = percentile(t.rtt_us, 0.50), p99 = percentile(t.rtt_us, 0.99);
  const double max = t.rtt_us.empty() ? 0 : *std::max_element(t.rtt_us.begin(), t.rtt_us.end());
  std::printf(
      "{\"suite\": \"%s\", \"flows\": %zu, \"ssrcs_per_flow\": %zu, \"payload\": %zu, \"target_pps\": %.0f, "
      "\"duration_s\": %.3f, \"attempted\": %" PRIu64 ", \"sent\": %" PRIu64 ", \"send_failures\": %" PRIu64
      ", \"protect_failures\": %" PRIu64 ", \"received\": %" PRIu64 ", \"echoed\": %" PRIu64
      ", \"unprotect_failures\": %" PRIu64 ", \"srtp_auth_failures\": %" PRIu64 ", \"srtp_replays\": %" PRIu64
      ", \"malformed\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"rtcp_received\": %" PRIu64
      ", \"rtcp_unprotect_failures\": %" PRIu64 ", \"rx_socket_drops\": %" PRIu64
      ", \"achieved_send_pps\": %.0f, \"achieved_echo_pps\": %.0f, \"loss\": %.6f, \"rtt_us_p50\": %.0f, "
      "\"rtt_us_p99\": %.0f, \"rtt_us_max\": %.0f, \"loader_cpu_s\": %.3f, \"wall_s\": %.3f}\n",
      o.suite_name.c_str(), flows.size(), o.ssrcs, o.payload, o.rate, send_s, t.attempted, t.sent, t.send_failures,
      t.protect_failures, t.received, t.echoed, unprotect_failures, auth, replay, t.malformed, t.foreign,
      t.rtcp_received, t.rtcp_unprotect_failures, t.rx_socket_drops,
      send_s > 0 ? static_cast<double>(t.sent) / send_s : 0.0,
      send_s > 0 ? static_cast<double>(t.echoed) / send_s : 0.0, t.sent ? lost / static_cast<double>(t.sent) : 0.0, p50,
      p99, max, loader_cpu_s, static_cast<double>(clock.end_ns - clock.start_ns) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) {
    usage();
    return 2;
  }
  const auto suite = chorus::media::suite_from_name(options->suite_name);
  if (!suite) {
    std::fprintf(stderr, "srtp_load: unknown suite %s\n", options->suite_name.c_str());
    return 2;
  }
  std::mt19937 rng(std::random_device{}());
  std::vector<Flow> flows;
  for (const std::string& spec : options->flow_specs) {
    auto flow = make_flow(spec, *suite, *options, rng);
    if (!flow) return 1;
    flows.push_back(std::move(*flow));
  }
  Totals totals;
  totals.rtt_us.reserve(static_cast<std::size_t>(std::min(options->rate * options->duration_s, 5e7)));
  std::uint64_t unprotect_failures = 0;
  const double cpu_before = cpu_seconds();
  const RunClock clock = run(flows, *options, totals, unprotect_failures);
  const double loader_cpu_s = cpu_seconds() - cpu_before;
  for (const Flow& flow : flows) totals.rx_socket_drops += socket_drops(flow.fd);
  print_json(*options, flows, totals, unprotect_failures, clock, loader_cpu_s);
  for (const Flow& flow : flows) close(flow.fd);
  return 0;
}
