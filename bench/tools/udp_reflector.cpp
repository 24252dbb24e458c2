// udp_reflector: the bare baseline of bench/sfu_forward.py — the SFU's fan-out with nothing else.
// One UDP socket; recvmmsg takes what the publishers send, and every packet is copied to each slot
// that shows its publisher (the same fan-out as the SFU room: M copies of a publisher's packet),
// with the slot's SSRC written in, and the copies leave through sendmmsg. With SRTP (the default)
// each publisher's packets are unprotected with its key and each copy is protected by the slot's
// own outbound session (one per slot, as the SFU has: RFC 3711 keys per leg), calling libsrtp2's
// srtp_unprotect/srtp_protect directly; with --plain the bytes are only copied. No router, no
// rewriting beyond the SSRC, no RTCP: what any SRTP fan-out must pay at least.
//
//   udp_reflector --bind 127.0.0.1:0 --publisher 127.0.0.1:40000,KEY
//                 --slot 0,127.0.0.1:40002,305419896,KEY --slot 0,127.0.0.1:40004,305419897,KEY ...
//
// --publisher HOST:PORT[,KEY]: where a publisher sends from (its packets are recognised by source
// address) and the key it protects with; publishers are numbered 0.. in the order given. Without a
// KEY (and without --plain) the publisher's packets are taken as plain RTP and only the copies are
// protected: the protect-only baseline of bench/media_pps.py (issue 13: one srtp_protect a packet).
// --slot PUBLISHER,HOST:PORT,SSRC[,KEY]: a subscriber's slot — which publisher it shows, where it
// receives, the SSRC it is sent under and the key its copies are protected with. Keys are base64
// key||salt (RFC 4568 §6.1), left out with --plain. RTCP arriving (receiver reports) is counted and
// dropped, as are packets from unknown sources.
//
// It prints {"event": "ready", "port": N} once bound, runs until SIGTERM or SIGINT (or
// --max-seconds) and then prints one JSON object with its counters and CPU time.
// Threading: one thread. A benchmark peer: exits 2 on bad arguments, 1 when it cannot set up.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <srtp2/srtp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load_tool_support.hpp"
#include "media/srtp/libsrtp_reference.hpp"
#include "media/srtp/sdes.hpp"
#include "media/srtp/srtp_session.hpp"

namespace {

using namespace chorus::bench;  // NOLINT(google-build-using-namespace): load_tool_support.hpp

using chorus::media::SrtpSuite;

constexpr std::size_t kMaxPublishers = 32;
constexpr std::size_t kMaxSlots = 1024;
constexpr std::size_t kMaxInBatch = 64;
constexpr std::size_t kMaxOutBatch = 1024;  // UIO_MAXIOV: the most sendmmsg takes at once
constexpr std::size_t kBufferSize = 2048;   // a datagram of up to 1,500 octets + the SRTP trailer
constexpr int kSocketBuffer = 8 * 1024 * 1024;
constexpr std::size_t kRtpHeaderSize = 12;  // RFC 3550 §5.1

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
}

struct alignas(16) Buffer {
  std::array<std::uint8_t, kBufferSize> bytes;
};

using BareSession = chorus::media::LibsrtpSession;

struct Options {
  std::string bind = "127.0.0.1:0";
  std::string suite_name = "AES_CM_128_HMAC_SHA1_80";
  bool plain = false;
  std::vector<std::string> publisher_specs;
  std::vector<std::string> slot_specs;
  std::size_t in_batch = 64;
  std::size_t out_batch = 256;
  double max_seconds = 3600;
};

struct Destination {
  sockaddr_in address{};
  std::uint32_t ssrc = 0;
  BareSession outbound;  // null with --plain
};

struct Publisher {
  sockaddr_in source{};
  BareSession inbound;                    // null with --plain
  std::vector<std::size_t> destinations;  // indices into Reflector::destinations
};

struct Counters {
  std::uint64_t received = 0;
  std::uint64_t rtcp_ignored = 0;
  std::uint64_t malformed = 0;
  std::uint64_t unknown_source = 0;
  std::uint64_t unprotect_failures = 0;
  std::uint64_t protect_failures = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t receive_calls = 0;
  std::uint64_t send_calls = 0;
};

struct Reflector {
  int fd = -1;
  std::vector<Publisher> publishers;
  std::vector<Destination> destinations;
  Counters counters;
};

// RFC 3711 / RFC 7714 policy for one direction, as Chorus negotiates it, on a bare srtp_t.
BareSession make_session(SrtpSuite suite, std::span<const std::uint8_t> key, bool inbound) {
  return chorus::media::make_libsrtp_session(suite, key, !inbound);
}

void usage() {
  std::fputs(
      "usage: udp_reflector --publisher HOST:PORT[,KEY] ... --slot PUBLISHER,HOST:PORT,SSRC[,KEY] ... [options]\n"
      "  --bind ADDR:PORT    where publishers send (default 127.0.0.1:0: a free port, printed)\n"
      "  --suite NAME        SRTP suite (default AES_CM_128_HMAC_SHA1_80); --plain: no SRTP, no keys\n"
      "  --in-batch N        datagrams per recvmmsg, 1..64 (default 64)\n"
      "  --out-batch N       datagrams per sendmmsg, 1..1024 (default 256)\n"
      "  --max-seconds S     stop after S seconds even without a signal (default 3600)\n",
      stderr);
}

bool apply_option(Options& o, std::string_view name, std::string_view value) {
  if (name == "--bind") return o.bind = value, true;
  if (name == "--suite") return o.suite_name = value, true;
  if (name == "--publisher") return o.publisher_specs.emplace_back(value), true;
  if (name == "--slot") return o.slot_specs.emplace_back(value), true;
  if (name == "--in-batch") return parse_number(value, o.in_batch) && o.in_batch >= 1 && o.in_batch <= kMaxInBatch;
  if (name == "--out-batch") return parse_number(value, o.out_batch) && o.out_batch >= 1 && o.out_batch <= kMaxOutBatch;
  if (name == "--max-seconds") return parse_number(value, o.max_seconds) && o.max_seconds > 0;
  return false;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc;) {
    const std::string_view name = argv[i];
    if (name == "--plain") {
      o.plain = true;
      ++i;
      continue;
    }
    if (name == "--help" || name == "-h" || i + 1 >= argc) return std::nullopt;
    if (!apply_option(o, name, argv[i + 1])) {
      std::fprintf(stderr, "udp_reflector: bad option or value: %s %s\n", argv[i], argv[i + 1]);
      return std::nullopt;
    }
    i += 2;
  }
  if (o.publisher_specs.empty() || o.publisher_specs.size() > kMaxPublishers || o.slot_specs.empty() ||
      o.slot_specs.size() > kMaxSlots) {
    std::fprintf(stderr, "udp_reflector: give 1 to %zu publishers and 1 to %zu slots\n", kMaxPublishers, kMaxSlots);
    return std::nullopt;
  }
  return o;
}

std::vector<std::string_view> fields_of(std::string_view text) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos || parts.size() > 8) return parts;
    text.remove_prefix(comma + 1);
  }
}

// The session for `key_text` (base64 key||salt), or null with --plain; nullopt when the key is bad.
// An inbound (publisher) key may be left out: that publisher sends plain RTP.
std::optional<BareSession> session_from(const std::vector<std::string_view>& parts, std::size_t key_field,
                                        const Options& o, SrtpSuite suite, bool inbound) {
  if (o.plain || (inbound && parts.size() == key_field))
    return parts.size() == key_field ? std::optional(BareSession{}) : std::nullopt;
  if (parts.size() != key_field + 1) return std::nullopt;
  const auto key = chorus::media::base64_decode(parts[key_field]);
  if (!key || key->size() != chorus::media::key_salt_length(suite)) return std::nullopt;
  auto session = make_session(suite, *key, inbound);
  if (!session) return std::nullopt;
  return session;
}

bool set_up(Reflector& r, const Options& o, SrtpSuite suite) {
  for (const std::string& text : o.publisher_specs) {
    const auto parts = fields_of(text);
    auto source = parse_address(parts[0]);
    auto session = session_from(parts, 1, o, suite, true);
    if (!source || !session) {
      std::fprintf(stderr, "udp_reflector: bad publisher %s\n", text.c_str());
      return false;
    }
    r.publishers.push_back({*source, std::move(*session), {}});
  }
  for (const std::string& text : o.slot_specs) {
    const auto parts = fields_of(text);
    std::size_t publisher = 0;
    std::uint32_t ssrc = 0;
    auto address = parts.size() >= 3 ? parse_address(parts[1]) : std::nullopt;
    auto session = session_from(parts, 3, o, suite, false);
    if (!parse_number(parts[0], publisher) || publisher >= r.publishers.size() || !address ||
        !parse_number(parts.size() >= 3 ? parts[2] : "", ssrc) || !session) {
      std::fprintf(stderr, "udp_reflector: bad slot %s\n", text.c_str());
      return false;
    }
    r.publishers[publisher].destinations.push_back(r.destinations.size());
    r.destinations.push_back({*address, ssrc, std::move(*session)});
  }
  return true;
}

// "IPv4:PORT" with port 0 allowed (the kernel picks one), or nullopt.
std::optional<sockaddr_in> bind_address(std::string_view text) {
  const auto colon = text.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string_view::npos || !parse_number(text.substr(colon + 1), port)) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  const std::string host(text.substr(0, colon));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) return std::nullopt;
  return address;
}

std::optional<std::uint16_t> open_socket(Reflector& r, const std::string& bind_text) {
  auto address = bind_address(bind_text);
  if (!address) return std::nullopt;
  r.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (r.fd < 0) return std::nullopt;
  for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
    if (setsockopt(r.fd, SOL_SOCKET, force, &kSocketBuffer, sizeof(kSocketBuffer)) != 0)
      setsockopt(r.fd, SOL_SOCKET, plain, &kSocketBuffer, sizeof(kSocketBuffer));
  }
  // Blocking reads that still wake now and then to see a stop signal.
  const timeval wake{0, 100'000};
  setsockopt(r.fd, SOL_SOCKET, SO_RCVTIMEO, &wake, sizeof(wake));
  socklen_t length = sizeof(*address);
  if (bind(r.fd, reinterpret_cast<const sockaddr*>(&*address), sizeof(*address)) != 0 ||
      getsockname(r.fd, reinterpret_cast<sockaddr*>(&*address), &length) != 0)
    return std::nullopt;
  return ntohs(address->sin_port);
}

// Outgoing copies waiting for one sendmmsg.
struct OutQueue {
  explicit OutQueue(std::size_t capacity) : buffers(capacity), iov(capacity), msgs(capacity) {}
  std::vector<Buffer> buffers;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::size_t count = 0;
};

void flush(Reflector& r, OutQueue& out) {
  std::size_t done = 0;
  while (done < out.count) {
    ++r.counters.send_calls;
    const int n = sendmmsg(r.fd, &out.msgs[done], static_cast<unsigned>(out.count - done), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.counters.send_failures += out.count - done;
      break;
    }
    done += static_cast<std::size_t>(n);
    r.counters.forwarded += static_cast<std::size_t>(n);
  }
  out.count = 0;
}

Publisher* publisher_of(Reflector& r, const sockaddr_in& source) {
  for (Publisher& p : r.publishers)
    if (p.source.sin_addr.s_addr == source.sin_addr.s_addr && p.source.sin_port == source.sin_port) return &p;
  return nullptr;
}

// One publisher packet to every slot that shows it.
void reflect(Reflector& r, std::uint8_t* packet, std::size_t length, const sockaddr_in& source, OutQueue& out) {
  // RFC 3550 §5.1 version 2 and a whole fixed header; RFC 5761 §4: 192..223 in octet 1 is RTCP.
  if (length < kRtpHeaderSize || (packet[0] >> 6) != 2) {
    ++r.counters.malformed;
    return;
  }
  if (packet[1] >= 192 && packet[1] <= 223) {
    ++r.counters.rtcp_ignored;
    return;
  }
  Publisher* publisher = publisher_of(r, source);
  if (publisher == nullptr) {
    ++r.counters.unknown_source;
    return;
  }
  int plain_length = static_cast<int>(length);
  if (publisher->inbound && srtp_unprotect(publisher->inbound.get(), packet, &plain_length) != srtp_err_status_ok) {
    ++r.counters.unprotect_failures;
    return;
  }
  for (std::size_t index : publisher->destinations) {
    Destination& destination = r.destinations[index];
    std::uint8_t* copy = out.buffers[out.count].bytes.data();
    std::memcpy(copy, packet, static_cast<std::size_t>(plain_length));
    const std::uint32_t ssrc = htonl(destination.ssrc);
    std::memcpy(copy + 8, &ssrc, sizeof(ssrc));
    int copy_length = plain_length;
    if (destination.outbound && srtp_protect(destination.outbound.get(), copy, &copy_length) != srtp_err_status_ok) {
      ++r.counters.protect_failures;
      continue;
    }
    out.iov[out.count] = {copy, static_cast<std::size_t>(copy_length)};
    out.msgs[out.count] = {};
    out.msgs[out.count].msg_hdr.msg_iov = &out.iov[out.count];
    out.msgs[out.count].msg_hdr.msg_iovlen = 1;
    out.msgs[out.count].msg_hdr.msg_name = &destination.address;
    out.msgs[out.count].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    if (++out.count == out.msgs.size()) flush(r, out);
  }
}

void serve(Reflector& r, const Options& o) {
  std::vector<Buffer> in(o.in_batch);
  std::vector<iovec> iov(o.in_batch);
  std::vector<mmsghdr> msgs(o.in_batch);
  std::vector<sockaddr_in> names(o.in_batch);
  OutQueue out(o.out_batch);
  const std::uint64_t end = now_ns() + static_cast<std::uint64_t>(o.max_seconds * 1e9);
  while (!g_stop.load() && now_ns() < end) {
    for (std::size_t m = 0; m < o.in_batch; ++m) {
      iov[m] = {in[m].bytes.data(), kBufferSize - chorus::media::kSrtpMaxTrailer};
      msgs[m] = {};
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      msgs[m].msg_hdr.msg_name = &names[m];
      msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    ++r.counters.receive_calls;
    // MSG_WAITFORONE: block for the first datagram, then take what else is queued without waiting.
    const int n = recvmmsg(r.fd, msgs.data(), static_cast<unsigned>(o.in_batch), MSG_WAITFORONE, nullptr);
    if (n <= 0) continue;  // the wake-up timeout or a signal
    for (int m = 0; m < n; ++m) {
      ++r.counters.received;
      reflect(r, in[m].bytes.data(), msgs[m].msg_len, names[m], out);
    }
    flush(r, out);
  }
}

void print_json(const Reflector& r, const Options& o, double wall_s, double cpu_s) {
  const Counters& c = r.counters;
  std::printf("{\"mode\": \"%s\", \"publishers\": %zu, \"slots\": %zu, \"received\": %" PRIu64
              ", \"rtcp_ignored\": %" PRIu64 ", \"malformed\": %" PRIu64 ", \"unknown_source\": %" PRIu64
              ", \"unprotect_failures\": %" PRIu64 ", \"protect_failures\": %" PRIu64 ", \"forwarded\": %" PRIu64
              ", \"send_failures\": %" PRIu64 ", \"receive_calls\": %" PRIu64 ", \"send_calls\": %" PRIu64
              ", \"rx_socket_drops\": %" PRIu64 ", \"cpu_s\": %.3f, \"wall_s\": %.3f}\n",
              o.plain ? "plain" : o.suite_name.c_str(), r.publishers.size(), r.destinations.size(), c.received,
              c.rtcp_ignored, c.malformed, c.unknown_source, c.unprotect_failures, c.protect_failures, c.forwarded,
              c.send_failures, c.receive_calls, c.send_calls, socket_drops(r.fd), cpu_s, wall_s);
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
    std::fprintf(stderr, "udp_reflector: unknown suite %s\n", options->suite_name.c_str());
    return 2;
  }
  Reflector reflector;
  if (!set_up(reflector, *options, *suite)) return 2;
  const auto port = open_socket(reflector, options->bind);
  if (!port) {
    std::fprintf(stderr, "udp_reflector: cannot bind %s: %s\n", options->bind.c_str(), std::strerror(errno));
    return 1;
  }
  struct sigaction action{};
  action.sa_handler = on_signal;  // no SA_RESTART: a blocked recvmmsg returns at once
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::printf("{\"event\": \"ready\", \"port\": %u}\n", *port);
  std::fflush(stdout);
  const double cpu_start = cpu_seconds();
  const std::uint64_t start = now_ns();
  serve(reflector, *options);
  print_json(reflector, *options, static_cast<double>(now_ns() - start) / 1e9, cpu_seconds() - cpu_start);
  close(reflector.fd);
  return 0;
}
