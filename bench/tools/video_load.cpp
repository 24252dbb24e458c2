// video_load: the SFU forwarding generator for bench/sfu_forward.py. Publishers send paced,
// SRTP-protected synthetic VP8 (video_load_packets.hpp) to an SFU or a reflector; subscribers —
// one per video slot — receive what it forwards, unprotect it, count it per slot and time it.
//
//   video_load --publisher 127.0.0.1:20000,40000,KEY,SERVER_KEY
//              --subscriber 127.0.0.1:20002,40002,KEY,SERVER_KEY,SSRC ... --rate 1000 --duration 10
//
// A flow is HOST:PORT (where we send: the answer's port), LOCAL_PORT (the port we offered: the
// server latches to it, so we send from it), OUR_KEY (the key of our a=crypto line: we protect
// with it) and SERVER_KEY (the answer's: we unprotect with it), both base64; a subscriber adds the
// SSRC the answer announced for its slot (a=ssrc, RFC 5576; 0 or absent: any). With --plain there
// is no SRTP and the keys are "-".
//
// Phases: --warmup seconds of sending (the router switches each slot to its publisher at a key
// frame and asks for one with PLI, which the publisher answers with a key frame next frame), then
// the measurement window: every slot's counters restart, "{"event": "measure_start"}" is printed,
// --duration seconds of sending, --drain-ms for what is still in flight, "{"event": "measure_end"}"
// and one JSON object with the figures (the driver reads the server's CPU at the two events).
//
// Pacing: each publisher sends --rate packets/s: the packets due by now are built, protected and
// handed to the kernel with sendmmsg in batches of --batch; then the sockets epoll says are
// readable are drained with recvmmsg, and the loop sleeps until the next --tick-us. Latency is the
// kernel's receive time (SO_TIMESTAMPNS) minus the send time in the payload, both CLOCK_REALTIME,
// so it does not depend on when the loop reads. Loss is counted from each slot's sequence numbers
// (gaps, RFC 3550 §A.1); --verify-every N unprotects and inspects only every Nth packet of a slot
// (the header is in the clear, so counting needs no decryption), to keep the generator's core free.
// Subscribers send an SRTCP receiver report every --rr-interval-ms (RFC 3550 §6.2), which also
// tells a latching server where they are.
//
// Threading: one thread. A peer for benchmarks, not part of the server: exits 2 on bad arguments,
// 1 when a socket or SRTP session cannot be set up.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "load_tool_support.hpp"
#include "media/rtcp/compound_builder.hpp"
#include "media/rtp/packet_kind.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/srtp/sdes.hpp"
#include "media/srtp/srtp_session.hpp"
#include "video_load_packets.hpp"

namespace {

using namespace chorus::bench;  // NOLINT(google-build-using-namespace): load_tool_support.hpp, video_load_packets.hpp

using chorus::media::SrtpDirection;
using chorus::media::SrtpSession;
using chorus::media::SrtpSuite;

constexpr std::size_t kMaxPublishers = 32;
constexpr std::size_t kMaxSubscribers = 1024;  // slots over all subscribers
constexpr std::size_t kMaxBatch = 64;
constexpr std::size_t kSlotSize = 2048;  // one datagram: packet + SRTP(C) trailer
constexpr int kPublisherSocketBuffer = 1024 * 1024;
constexpr int kSubscriberSocketBuffer = 2 * 1024 * 1024;
constexpr std::size_t kMaxLatencySamples = 20'000'000;  // memory bound: 80 MB of samples at most

struct alignas(16) Slot {
  std::array<std::uint8_t, kSlotSize> bytes;
};

struct Options {
  std::string suite_name = "AES_CM_128_HMAC_SHA1_80";
  bool plain = false;
  std::string bind_address = "127.0.0.1";
  std::vector<std::string> publisher_specs;
  std::vector<std::string> subscriber_specs;
  double rate = 1000;  // per publisher
  double fps = 30;
  std::size_t packet_size = 1200;
  std::uint16_t width = 1280;
  std::uint16_t height = 720;
  double warmup_s = 2;
  double duration_s = 10;
  double drain_ms = 500;
  double rr_interval_ms = 1000;
  std::uint64_t tick_us = 1000;
  std::size_t batch = 32;
  std::uint64_t verify_every = 1;
};

struct FlowSpec {
  sockaddr_in server{};
  std::uint16_t local_port = 0;
  std::vector<std::uint8_t> our_key;
  std::vector<std::uint8_t> server_key;
  std::uint32_t ssrc = 0;
};

struct Publisher {
  int fd = -1;
  sockaddr_in server{};
  std::optional<SrtpSession> outbound;
  std::optional<SrtpSession> inbound;
  std::optional<Vp8Packetizer> packetizer;
  std::uint32_t index = 0;
  std::uint64_t attempted = 0;  // packets built, from the start
  std::uint64_t sent = 0;
  std::uint64_t sent_in_window = 0;
  std::uint64_t send_failures = 0;
  std::uint64_t protect_failures = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtcp_unprotect_failures = 0;
  std::uint64_t rtcp_malformed = 0;
  std::uint64_t foreign = 0;
  FeedbackSeen feedback;
};

struct Subscriber {
  int fd = -1;
  sockaddr_in server{};
  std::optional<SrtpSession> inbound;
  std::optional<SrtpSession> outbound;
  std::uint32_t expected_ssrc = 0;
  std::uint32_t our_ssrc = 0;  // the SSRC of our receiver reports
  SequenceTracker tracker;
  std::uint64_t packets = 0;  // RTP of the slot's SSRC, in the window (duplicates included)
  std::uint64_t verify_counter = 0;
  std::uint64_t verified = 0;
  std::uint64_t unprotect_failures = 0;
  std::uint64_t bad_payload = 0;
  std::uint64_t foreign_ssrc = 0;
  std::uint64_t foreign_source = 0;
  std::uint64_t malformed = 0;
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtcp_unprotect_failures = 0;
  std::uint64_t keyframes = 0;
  std::optional<std::uint32_t> publisher_seen;
  std::uint64_t publisher_changes = 0;
  std::uint64_t reports_sent = 0;
};

struct Run {
  std::vector<Publisher> publishers;
  std::vector<Subscriber> subscribers;
  std::vector<std::uint32_t> latency_ns;  // in the window, capped at UINT32_MAX
  bool measuring = false;
};

void usage() {
  std::fputs(
      "usage: video_load --publisher FLOW ... --subscriber FLOW[,SSRC] ... [options]\n"
      "  FLOW                HOST:PORT,LOCAL_PORT,OUR_KEY,SERVER_KEY (keys base64; \"-\" with --plain)\n"
      "  --suite NAME        SRTP suite (default AES_CM_128_HMAC_SHA1_80); --plain: no SRTP\n"
      "  --rate PPS          packets per second per publisher (default 1000)\n"
      "  --fps N             frames per second (default 30): rate/fps packets per frame\n"
      "  --packet-size N     RTP packet octets before SRTP, 44..1400 (default 1200)\n"
      "  --width N --height N  key frame size (default 1280x720)\n"
      "  --warmup S          seconds before the window (default 2); --duration S of window (default 10)\n"
      "  --drain-ms MS       wait for packets in flight after the window (default 500)\n"
      "  --verify-every N    unprotect and inspect every Nth packet of a slot (default 1: all)\n"
      "  --rr-interval-ms MS subscribers' receiver reports (default 1000)\n"
      "  --tick-us US        loop period (default 1000); --batch N per sendmmsg/recvmmsg, 1..64 (32)\n"
      "  --bind ADDR         local address (default 127.0.0.1)\n",
      stderr);
}

bool apply_option(Options& o, std::string_view name, std::string_view value) {
  if (name == "--publisher") return o.publisher_specs.emplace_back(value), true;
  if (name == "--subscriber") return o.subscriber_specs.emplace_back(value), true;
  if (name == "--suite") return o.suite_name = value, true;
  if (name == "--bind") return o.bind_address = value, true;
  if (name == "--rate") return parse_number(value, o.rate) && o.rate > 0 && o.rate <= 1e6;
  if (name == "--fps") return parse_number(value, o.fps) && o.fps > 0 && o.fps <= 1000;
  if (name == "--packet-size")
    return parse_number(value, o.packet_size) && o.packet_size >= kMinPacketSize && o.packet_size <= kMaxPacketSize;
  if (name == "--width") return parse_number(value, o.width) && o.width > 0 && o.width < 16384;
  if (name == "--height") return parse_number(value, o.height) && o.height > 0 && o.height < 16384;
  if (name == "--warmup") return parse_number(value, o.warmup_s) && o.warmup_s >= 0 && o.warmup_s <= 600;
  if (name == "--duration") return parse_number(value, o.duration_s) && o.duration_s > 0 && o.duration_s <= 3600;
  if (name == "--drain-ms") return parse_number(value, o.drain_ms) && o.drain_ms >= 0 && o.drain_ms <= 60'000;
  if (name == "--rr-interval-ms") return parse_number(value, o.rr_interval_ms) && o.rr_interval_ms >= 10;
  if (name == "--tick-us") return parse_number(value, o.tick_us) && o.tick_us >= 50 && o.tick_us <= 100'000;
  if (name == "--batch") return parse_number(value, o.batch) && o.batch >= 1 && o.batch <= kMaxBatch;
  if (name == "--verify-every") return parse_number(value, o.verify_every) && o.verify_every >= 1;
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
      std::fprintf(stderr, "video_load: bad option or value: %s %s\n", argv[i], argv[i + 1]);
      return std::nullopt;
    }
    i += 2;
  }
  if (o.publisher_specs.empty() || o.publisher_specs.size() > kMaxPublishers || o.subscriber_specs.empty() ||
      o.subscriber_specs.size() > kMaxSubscribers) {
    std::fprintf(stderr, "video_load: give 1 to %zu publishers and 1 to %zu subscribers\n", kMaxPublishers,
                 kMaxSubscribers);
    return std::nullopt;
  }
  return o;
}

// The comma-separated fields of a flow: at most `max_fields`.
std::vector<std::string_view> fields_of(std::string_view text, std::size_t max_fields) {
  std::vector<std::string_view> parts;
  while (parts.size() < max_fields + 1) {
    const auto comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return parts;
}

std::optional<std::vector<std::uint8_t>> parse_key(std::string_view text, const Options& o, SrtpSuite suite) {
  if (o.plain) return text == "-" ? std::optional(std::vector<std::uint8_t>{}) : std::nullopt;
  auto key = chorus::media::base64_decode(text);
  if (!key || key->size() != chorus::media::key_salt_length(suite)) return std::nullopt;
  return key;
}

std::optional<FlowSpec> parse_flow(std::string_view text, bool with_ssrc, const Options& o, SrtpSuite suite) {
  const auto parts = fields_of(text, with_ssrc ? 5 : 4);
  if (parts.size() < 4 || parts.size() > (with_ssrc ? 5u : 4u)) return std::nullopt;
  FlowSpec spec;
  auto server = parse_address(parts[0]);
  auto our_key = parse_key(parts[2], o, suite);
  auto server_key = parse_key(parts[3], o, suite);
  if (!server || !parse_number(parts[1], spec.local_port) || !our_key || !server_key) return std::nullopt;
  if (parts.size() == 5 && !parse_number(parts[4], spec.ssrc)) return std::nullopt;
  spec.server = *server;
  spec.our_key = std::move(*our_key);
  spec.server_key = std::move(*server_key);
  return spec;
}

int open_socket(const std::string& bind_address, std::uint16_t port, int buffer) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // FORCE passes net.core.*mem_max when we may (root); otherwise the kernel caps the plain request.
  for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
    if (setsockopt(fd, SOL_SOCKET, force, &buffer, sizeof(buffer)) != 0)
      setsockopt(fd, SOL_SOCKET, plain, &buffer, sizeof(buffer));
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

// SRTP sessions for a flow (none with --plain); false after printing why.
bool make_sessions(const FlowSpec& spec, const Options& o, SrtpSuite suite, std::optional<SrtpSession>& outbound,
                   std::optional<SrtpSession>& inbound) {
  if (o.plain) return true;
  auto out = SrtpSession::create(suite, spec.our_key, SrtpDirection::kOutbound);
  auto in = SrtpSession::create(suite, spec.server_key, SrtpDirection::kInbound);
  if (!out || !in) {
    std::fprintf(stderr, "video_load: SRTP session: %s\n", (out ? in.error() : out.error()).c_str());
    return false;
  }
  outbound.emplace(std::move(*out));
  inbound.emplace(std::move(*in));
  return true;
}

bool open_flow(int& fd, const FlowSpec& spec, const Options& o, int buffer) {
  fd = open_socket(o.bind_address, spec.local_port, buffer);
  if (fd >= 0) return true;
  std::fprintf(stderr, "video_load: cannot bind %s:%u: %s\n", o.bind_address.c_str(), spec.local_port,
               std::strerror(errno));
  return false;
}

bool set_up(Run& run, const Options& o, SrtpSuite suite, std::mt19937& rng) {
  const FrameShape shape = frame_shape(o.rate, o.fps);
  for (const std::string& text : o.publisher_specs) {
    auto spec = parse_flow(text, false, o, suite);
    if (!spec) return std::fprintf(stderr, "video_load: bad publisher %s\n", text.c_str()), false;
    Publisher& p = run.publishers.emplace_back();
    p.index = static_cast<std::uint32_t>(run.publishers.size() - 1);
    p.server = spec->server;
    // RFC 3550 §5.1: random SSRC, initial sequence number and timestamp; RFC 7741 §4.2: PictureID.
    p.packetizer =
        Vp8Packetizer::create({static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()),
                               static_cast<std::uint32_t>(rng()), static_cast<std::uint16_t>(rng()),
                               shape.packets_per_frame, shape.ticks_per_frame, o.width, o.height, o.packet_size});
    if (!p.packetizer || !make_sessions(*spec, o, suite, p.outbound, p.inbound) ||
        !open_flow(p.fd, *spec, o, kPublisherSocketBuffer))
      return false;
  }
  for (const std::string& text : o.subscriber_specs) {
    auto spec = parse_flow(text, true, o, suite);
    if (!spec) return std::fprintf(stderr, "video_load: bad subscriber %s\n", text.c_str()), false;
    Subscriber& s = run.subscribers.emplace_back();
    s.server = spec->server;
    s.expected_ssrc = spec->ssrc;
    s.our_ssrc = static_cast<std::uint32_t>(rng());
    if (!make_sessions(*spec, o, suite, s.outbound, s.inbound) || !open_flow(s.fd, *spec, o, kSubscriberSocketBuffer))
      return false;
  }
  return true;
}

bool same_address(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

// Message arrays for one sendmmsg/recvmmsg batch.
struct Buffers {
  explicit Buffers(std::size_t batch) : slots(batch), iov(batch), msgs(batch), names(batch), controls(batch) {}
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

// Builds, protects and sends `count` packets of publisher `p`, batch by batch.
void send_packets(Publisher& p, std::uint64_t count, bool measuring, const Options& o, Buffers& b) {
  while (count > 0) {
    const auto chunk = static_cast<std::size_t>(std::min<std::uint64_t>(count, o.batch));
    const std::uint64_t send_ns = clock_ns(CLOCK_REALTIME);
    std::size_t filled = 0;
    for (std::size_t k = 0; k < chunk; ++k) {
      const PayloadStamp stamp{send_ns, p.index, static_cast<std::uint32_t>(p.attempted++)};
      auto length = p.packetizer->next(b.slots[filled].bytes, stamp);
      if (length && p.outbound) length = p.outbound->protect_rtp(b.slots[filled].bytes, *length);
      if (!length) {
        ++p.protect_failures;
        continue;
      }
      b.iov[filled] = {b.slots[filled].bytes.data(), *length};
      b.msgs[filled] = {};
      b.msgs[filled].msg_hdr.msg_iov = &b.iov[filled];
      b.msgs[filled].msg_hdr.msg_iovlen = 1;
      b.msgs[filled].msg_hdr.msg_name = &p.server;
      b.msgs[filled].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      ++filled;
    }
    // A packet the kernel refuses (full buffer) is counted, not retried: the offered rate never overshoots.
    const int n = filled > 0 ? sendmmsg(p.fd, b.msgs.data(), static_cast<unsigned>(filled), 0) : 0;
    const std::size_t accepted = n > 0 ? static_cast<std::size_t>(n) : 0;
    p.sent += accepted;
    if (measuring) p.sent_in_window += accepted;
    p.send_failures += filled - accepted;
    count -= chunk;
  }
}

// Reads up to one batch from `fd` into `b`; the count read (0 when nothing waits).
std::size_t receive_batch(int fd, Buffers& b, std::size_t batch) {
  for (std::size_t m = 0; m < batch; ++m) {
    b.iov[m] = {b.slots[m].bytes.data(), kSlotSize};
    b.msgs[m] = {};
    b.msgs[m].msg_hdr.msg_iov = &b.iov[m];
    b.msgs[m].msg_hdr.msg_iovlen = 1;
    b.msgs[m].msg_hdr.msg_name = &b.names[m];
    b.msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    b.msgs[m].msg_hdr.msg_control = b.controls[m].data();
    b.msgs[m].msg_hdr.msg_controllen = b.controls[m].size();
  }
  const int n = recvmmsg(fd, b.msgs.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

// RFC 4585 §6.3.1 / RFC 5104 §4.3.1: a PLI or FIR naming our stream makes the next frame a key frame.
void on_publisher_datagram(Publisher& p, std::span<std::uint8_t> buffer, std::size_t length) {
  if (chorus::media::classify_packet(buffer.first(length)) != chorus::media::PacketKind::kRtcp) {
    ++p.foreign;
    return;
  }
  ++p.rtcp_received;
  std::optional<std::size_t> plain = length;
  if (p.inbound) plain = p.inbound->unprotect_rtcp(buffer, length);
  if (!plain) {
    ++p.rtcp_unprotect_failures;
    return;
  }
  const auto seen = scan_feedback(buffer.first(*plain), p.packetizer->settings().ssrc);
  if (!seen) {
    ++p.rtcp_malformed;
    return;
  }
  if (seen->pli > 0 || seen->fir > 0) p.packetizer->request_keyframe();
  p.feedback.pli += seen->pli;
  p.feedback.fir += seen->fir;
  p.feedback.nack += seen->nack;
  p.feedback.reports += seen->reports;
  p.feedback.other += seen->other;
}

// Decrypts (when SRTP) and inspects a slot's packet: who sent it, when, and whether it starts a key frame.
void verify(Subscriber& s, Run& run, std::span<std::uint8_t> buffer, std::size_t length, std::uint64_t received_ns) {
  std::optional<std::size_t> plain = length;
  if (s.inbound) plain = s.inbound->unprotect_rtp(buffer, length);
  if (!plain) {
    ++s.unprotect_failures;
    return;
  }
  const auto packet = chorus::media::RtpPacket::parse(buffer.first(*plain));
  if (!packet) {
    ++s.bad_payload;
    return;
  }
  const auto inspected = inspect_payload(packet->payload());
  if (!inspected) {
    ++s.bad_payload;
    return;
  }
  ++s.verified;
  if (inspected->keyframe) ++s.keyframes;
  if (s.publisher_seen && *s.publisher_seen != inspected->stamp.publisher) ++s.publisher_changes;
  s.publisher_seen = inspected->stamp.publisher;
  if (run.measuring && received_ns >= inspected->stamp.send_ns && run.latency_ns.size() < kMaxLatencySamples)
    run.latency_ns.push_back(static_cast<std::uint32_t>(
        std::min<std::uint64_t>(received_ns - inspected->stamp.send_ns, std::numeric_limits<std::uint32_t>::max())));
}

void on_subscriber_datagram(Subscriber& s, Run& run, const Options& o, std::span<std::uint8_t> buffer,
                            std::size_t length, msghdr& header) {
  switch (chorus::media::classify_packet(buffer.first(length))) {
    case chorus::media::PacketKind::kRtp:
      break;
    case chorus::media::PacketKind::kRtcp:  // the server's reports on the slot (RFC 5761 rtcp-mux)
      ++s.rtcp_received;
      if (s.inbound && !s.inbound->unprotect_rtcp(buffer, length)) ++s.rtcp_unprotect_failures;
      return;
    default:
      ++s.malformed;
      return;
  }
  const auto packet = chorus::media::RtpPacket::parse(buffer.first(length));  // the header is in the clear
  if (!packet) {
    ++s.malformed;
    return;
  }
  if (s.expected_ssrc != 0 && packet->ssrc() != s.expected_ssrc) {
    ++s.foreign_ssrc;
    return;
  }
  if (run.measuring) {
    ++s.packets;
    s.tracker.on_packet(packet->sequence_number());
  }
  if (++s.verify_counter % o.verify_every == 0) verify(s, run, buffer, length, receive_time_ns(header));
}

// epoll data: publishers are 0..P-1, subscribers P..P+S-1.
void drain_ready(Run& run, const Options& o, int epoll_fd, Buffers& b, std::vector<epoll_event>& events) {
  const int ready = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 0);
  for (int e = 0; e < ready; ++e) {
    const auto id = static_cast<std::size_t>(events[e].data.u64);
    const bool publisher = id < run.publishers.size();
    const int fd = publisher ? run.publishers[id].fd : run.subscribers[id - run.publishers.size()].fd;
    const sockaddr_in& server =
        publisher ? run.publishers[id].server : run.subscribers[id - run.publishers.size()].server;
    for (std::size_t n = receive_batch(fd, b, o.batch);; n = receive_batch(fd, b, o.batch)) {
      for (std::size_t m = 0; m < n; ++m) {
        std::span<std::uint8_t> buffer(b.slots[m].bytes);
        const std::size_t length = b.msgs[m].msg_len;
        if (publisher) {
          if (!same_address(b.names[m], server)) {
            ++run.publishers[id].foreign;
            continue;
          }
          on_publisher_datagram(run.publishers[id], buffer, length);
          continue;
        }
        Subscriber& s = run.subscribers[id - run.publishers.size()];
        if (!same_address(b.names[m], server)) {
          ++s.foreign_source;
          continue;
        }
        on_subscriber_datagram(s, run, o, buffer, length, b.msgs[m].msg_hdr);
      }
      if (n < o.batch) break;
    }
  }
}

// RFC 3550 §6.4.2: an empty receiver report and our CNAME, SRTCP-protected (RFC 3711 §3.4).
void send_receiver_report(Subscriber& s, Buffers& b) {
  auto& bytes = b.slots[0].bytes;
  auto length = chorus::media::rtcp::write_minimal_compound(chorus::media::rtcp::ReceiverReport{s.our_ssrc, {}},
                                                            "video-load", bytes);
  if (length && s.outbound) length = s.outbound->protect_rtcp(bytes, *length);
  if (!length) return;
  if (sendto(s.fd, bytes.data(), *length, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&s.server),
             sizeof(s.server)) > 0)
    ++s.reports_sent;
}

void open_window(Run& run) {
  for (Subscriber& s : run.subscribers) {
    s.tracker.reset();
    s.packets = 0;
  }
  run.latency_ns.clear();
  run.measuring = true;
  std::printf("{\"event\": \"measure_start\"}\n");
  std::fflush(stdout);
}

struct Timing {
  double window_wall_s = 0;
  double window_cpu_s = 0;
};

Timing run_load(Run& run, const Options& o) {
  Buffers buffers(o.batch);
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  std::vector<epoll_event> events(run.publishers.size() + run.subscribers.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    const int fd = i < run.publishers.size() ? run.publishers[i].fd : run.subscribers[i - run.publishers.size()].fd;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  const auto seconds = [](double s) { return static_cast<std::uint64_t>(s * 1e9); };
  const std::uint64_t start = now_ns();
  const std::uint64_t window_start = start + seconds(o.warmup_s);
  const std::uint64_t send_end = window_start + seconds(o.duration_s);
  const std::uint64_t drain_end = send_end + seconds(o.drain_ms / 1000);
  const std::uint64_t rr_interval = seconds(o.rr_interval_ms / 1000);
  std::uint64_t next_rr = start, tick = start;
  double window_cpu_start = 0;
  for (;;) {
    const std::uint64_t now = now_ns();
    if (!run.measuring && now >= window_start) {
      open_window(run);
      window_cpu_start = cpu_seconds();
    }
    if (now >= drain_end) break;
    if (now < send_end) {
      const auto due = static_cast<std::uint64_t>(o.rate * static_cast<double>(std::min(now, send_end) - start) / 1e9);
      for (Publisher& p : run.publishers)
        if (due > p.attempted) send_packets(p, due - p.attempted, run.measuring, o, buffers);
    }
    if (now >= next_rr) {
      for (Subscriber& s : run.subscribers) send_receiver_report(s, buffers);
      next_rr += rr_interval;
    }
    drain_ready(run, o, epoll_fd, buffers, events);
    tick = std::max(tick + o.tick_us * 1000, now_ns());  // behind: go round at once, no catch-up ticks later
    sleep_until(tick);
  }
  close(epoll_fd);
  return {static_cast<double>(now_ns() - window_start) / 1e9, cpu_seconds() - window_cpu_start};
}

std::uint32_t percentile(std::vector<std::uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

void print_publishers(const Run& run) {
  std::uint64_t sent = 0, in_window = 0, send_failures = 0, protect_failures = 0, rtcp = 0, rtcp_failures = 0,
                foreign = 0, keyframes = 0, frames = 0, drops = 0;
  FeedbackSeen feedback;
  for (const Publisher& p : run.publishers) {
    sent += p.sent;
    in_window += p.sent_in_window;
    send_failures += p.send_failures;
    protect_failures += p.protect_failures;
    rtcp += p.rtcp_received;
    rtcp_failures += p.rtcp_unprotect_failures + p.rtcp_malformed;
    foreign += p.foreign;
    keyframes += p.packetizer->keyframes();
    frames += p.packetizer->frames();
    feedback.pli += p.feedback.pli;
    feedback.fir += p.feedback.fir;
    feedback.nack += p.feedback.nack;
    drops += socket_drops(p.fd);
  }
  std::printf("\"publishers\": %zu, \"sent\": %" PRIu64 ", \"sent_in_window\": %" PRIu64 ", \"send_failures\": %" PRIu64
              ", \"protect_failures\": %" PRIu64 ", \"frames\": %" PRIu64 ", \"keyframes_sent\": %" PRIu64
              ", \"plis\": %u, \"firs\": %u, \"nacks\": %u, \"publisher_rtcp\": %" PRIu64
              ", \"publisher_rtcp_failures\": %" PRIu64 ", \"publisher_foreign\": %" PRIu64
              ", \"publisher_rx_drops\": %" PRIu64 ", ",
              run.publishers.size(), sent, in_window, send_failures, protect_failures, frames, keyframes, feedback.pli,
              feedback.fir, feedback.nack, rtcp, rtcp_failures, foreign, drops);
}

void print_subscribers(const Run& run) {
  std::uint64_t packets = 0, expected = 0, received = 0, lost = 0, duplicates = 0, reordered = 0, restarts = 0,
                verified = 0, unprotect_failures = 0, bad_payload = 0, foreign = 0, malformed = 0, rtcp = 0,
                rtcp_failures = 0, changes = 0, reports = 0, drops = 0, keyframes = 0;
  std::vector<std::uint64_t> per_slot;
  std::size_t dark = 0;
  for (const Subscriber& s : run.subscribers) {
    packets += s.packets;
    expected += s.tracker.expected();
    received += s.tracker.received();
    lost += s.tracker.lost();
    duplicates += s.tracker.duplicates();
    reordered += s.tracker.reordered();
    restarts += s.tracker.restarts();
    verified += s.verified;
    unprotect_failures += s.unprotect_failures;
    bad_payload += s.bad_payload;
    foreign += s.foreign_ssrc + s.foreign_source;
    malformed += s.malformed;
    rtcp += s.rtcp_received;
    rtcp_failures += s.rtcp_unprotect_failures;
    changes += s.publisher_changes;
    reports += s.reports_sent;
    keyframes += s.keyframes;
    drops += socket_drops(s.fd);
    per_slot.push_back(s.tracker.received());
    if (s.tracker.received() == 0) ++dark;
  }
  std::ranges::sort(per_slot);
  // Who each slot showed last (-1: nothing verified), in the order of --subscriber: the driver checks
  // that a subscriber's slots show distinct publishers.
  std::printf("\"slot_publishers\": [");
  for (std::size_t i = 0; i < run.subscribers.size(); ++i) {
    const auto& seen = run.subscribers[i].publisher_seen;
    std::printf("%s%lld", i ? ", " : "", seen ? static_cast<long long>(*seen) : -1LL);
  }
  std::printf("], ");
  std::printf("\"slots\": %zu, \"dark_slots\": %zu, \"received\": %" PRIu64 ", \"expected\": %" PRIu64
              ", \"lost\": %" PRIu64 ", \"loss\": %.6f, \"duplicates\": %" PRIu64 ", \"reordered\": %" PRIu64
              ", \"sequence_restarts\": %" PRIu64 ", \"slot_received_min\": %" PRIu64
              ", \"slot_received_median\": %" PRIu64 ", \"slot_received_max\": %" PRIu64 ", \"rtp_packets\": %" PRIu64
              ", \"verified\": %" PRIu64 ", \"keyframes_received\": %" PRIu64 ", \"unprotect_failures\": %" PRIu64
              ", \"bad_payload\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"malformed\": %" PRIu64
              ", \"slot_rtcp\": %" PRIu64 ", \"slot_rtcp_failures\": %" PRIu64 ", \"publisher_changes\": %" PRIu64
              ", \"reports_sent\": %" PRIu64 ", \"subscriber_rx_drops\": %" PRIu64 ", ",
              run.subscribers.size(), dark, received, expected, lost,
              expected ? static_cast<double>(lost) / static_cast<double>(expected) : 0.0, duplicates, reordered,
              restarts, per_slot.front(), per_slot[per_slot.size() / 2], per_slot.back(), packets, verified, keyframes,
              unprotect_failures, bad_payload, foreign, malformed, rtcp, rtcp_failures, changes, reports, drops);
}

void print_json(Run& run, const Options& o, const Timing& timing) {
  std::printf("{\"mode\": \"%s\", \"rate_per_publisher\": %.0f, \"packet_size\": %zu, \"verify_every\": %" PRIu64 ", ",
              o.plain ? "plain" : o.suite_name.c_str(), o.rate, o.packet_size, o.verify_every);
  print_publishers(run);
  print_subscribers(run);
  const double p50 = percentile(run.latency_ns, 0.50) / 1e3, p90 = percentile(run.latency_ns, 0.90) / 1e3;
  const double p99 = percentile(run.latency_ns, 0.99) / 1e3;
  const double max = run.latency_ns.empty() ? 0 : *std::max_element(run.latency_ns.begin(), run.latency_ns.end()) / 1e3;
  std::printf(
      "\"latency_samples\": %zu, \"latency_us_p50\": %.1f, \"latency_us_p90\": %.1f, "
      "\"latency_us_p99\": %.1f, \"latency_us_max\": %.1f, \"window_s\": %.3f, \"loader_cpu_s\": %.3f}\n",
      run.latency_ns.size(), p50, p90, p99, max, timing.window_wall_s, timing.window_cpu_s);
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
    std::fprintf(stderr, "video_load: unknown suite %s\n", options->suite_name.c_str());
    return 2;
  }
  std::mt19937 rng(std::random_device{}());
  Run run;
  if (!set_up(run, *options, *suite, rng)) return 1;
  run.latency_ns.reserve(static_cast<std::size_t>(
      std::min(options->rate * options->duration_s * static_cast<double>(options->subscriber_specs.size()) /
                   static_cast<double>(options->verify_every),
               static_cast<double>(kMaxLatencySamples))));
  const Timing timing = run_load(run, *options);
  std::printf("{\"event\": \"measure_end\"}\n");
  print_json(run, *options, timing);
  for (const Publisher& p : run.publishers) close(p.fd);
  for (const Subscriber& s : run.subscribers) close(s.fd);
  return 0;
}
