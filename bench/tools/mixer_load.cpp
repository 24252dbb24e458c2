// mixer_load: the load generator of bench/mixer_capacity.py. It dials N participants into one
// conference room of chorusd over SIP/UDP and plays 20 ms audio frames into each, as real callers
// would, then reports what came back: how many audio-conference participants one media worker
// carries is read off the server's CPU while this runs.
//
//   mixer_load --server 127.0.0.1:5060 --room 1000 --participants 200 --codec opus --seconds 20
//
// Each participant is one call (mixer_load_sip.hpp): its own SIP socket and RTP socket, plain
// RTP/AVP with a=ptime:20 and a=rtcp-mux, Opus (PT 111, useinbandfec=1) or PCMU (PT 0). Once the
// calls are set up, every participant sends one frame every 20 ms for --seconds with its own SSRC
// and continuous sequence number and timestamp (RFC 3550 §5.1): --talkers of them a tone each
// (distinct frequencies), the others silence (Opus DTX: a refresh frame every 400 ms, or encoded
// silent frames; PCMU: µ-law silence). Frames are encoded once at start (mixer_load_audio.hpp).
// With --audio-level each packet carries the frame's RFC 6464 level, as a browser sends it: the offer
// has a=extmap:1 ssrc-audio-level, and a call whose answer accepted it (under any id 1..14) sends an
// RFC 8285 §4.2 one-byte element; a call whose answer did not sends plain RTP (one warning).
//
// Pacing: the 20 ms period is cut into --slots phases; participant i sends in phase i % slots, so
// the offered load is spread as independent callers spread it. The loop sleeps on absolute
// CLOCK_MONOTONIC deadlines (clock_nanosleep TIMER_ABSTIME) and never drifts; when it wakes late it
// still sends (counted in late_wakeups). Before sending, a participant's socket is read (recvmmsg,
// non-blocking): what the server sent it in the last period, RTP counted per participant with its
// sequence gaps, RTCP (rtcp-mux, RFC 5761 §4) apart. Once a second the SIP sockets are read (a
// retransmitted 200 gets its ACK again, a BYE its 200).
//
// Output: one JSON line on stdout. stderr gets "mixer_load: media start" and "mixer_load: media end"
// lines as the media phase begins and ends (the driver measures the server between them), and the
// errors. RTP that arrived during the call setup is counted apart (received_before_media); listen_s
// is how long the counted reception lasted, so a mixer owes each participant listen_s × 50 frames. Exit 2: bad
// arguments; 1: sockets or encoders could not be set up; 0 otherwise (failed calls are figures, not errors). Threading:
// one thread.
#include <arpa/inet.h>
#include <linux/sock_diag.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "load_tool_support.hpp"
#include "media/rtp/packet_kind.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "mixer_load_audio.hpp"
#include "mixer_load_sip.hpp"

namespace {

using namespace chorus::bench;  // NOLINT(google-build-using-namespace): load_tool_support.hpp

using chorus::bench::CallState;
using chorus::bench::FrameLoop;
using chorus::bench::LoadCodec;
using chorus::bench::SilenceMode;
using chorus::bench::SipCall;
using chorus::bench::SipSettings;
using chorus::bench::SipTotals;

constexpr std::size_t kMaxParticipants = 5000;
constexpr std::uint64_t kPeriodNs = 20'000'000;  // a=ptime:20
constexpr std::uint64_t kFramesPerSecond = 50;
constexpr std::size_t kRecvBatch = 8;
constexpr std::size_t kRecvRounds = 4;  // per participant per wake: up to 32 datagrams
constexpr std::size_t kDatagramSize = 2048;
constexpr std::uint64_t kDrainStepNs = 5'000'000;

struct Options {
  SipSettings sip;
  std::string server;
  std::size_t participants = 50;
  std::size_t talkers = 3;
  SilenceMode silence = SilenceMode::kFrames;
  double seconds = 20;
  std::size_t slots = 10;
  double drain_ms = 300;
};

// What one participant received (RFC 3550 §A.1 in spirit: sequence gaps per source).
struct Reception {
  std::uint64_t rtp = 0;
  std::uint64_t rtcp = 0;
  std::uint64_t foreign = 0;  // from an address that is not the answer's
  std::uint64_t malformed = 0;
  std::uint64_t gaps = 0;       // sequence numbers skipped
  std::uint64_t reordered = 0;  // late or duplicate sequence numbers
  std::uint64_t ssrc_changes = 0;
  bool have_sequence = false;
  std::uint32_t ssrc = 0;
  std::uint16_t last_sequence = 0;

  void on_rtp(std::uint32_t packet_ssrc, std::uint16_t sequence) {
    ++rtp;
    if (have_sequence && packet_ssrc != ssrc) ++ssrc_changes;
    if (!have_sequence || packet_ssrc != ssrc) {
      have_sequence = true;
      ssrc = packet_ssrc;
      last_sequence = sequence;
      return;
    }
    const auto delta = static_cast<std::uint16_t>(sequence - last_sequence);
    if (delta == 0 || delta >= 0x8000) {
      ++reordered;
      return;
    }
    gaps += delta - 1u;
    last_sequence = sequence;
  }
};

struct Participant {
  SipCall* call = nullptr;
  const FrameLoop* loop = nullptr;
  std::size_t frame = 0;
  std::uint32_t ssrc = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  bool marker = true;               // RFC 3551 §4.1: the first packet of a talkspurt
  std::uint8_t audio_level_id = 0;  // the answer's ssrc-audio-level id; 0: no extension sent
  std::uint64_t sent = 0;
  std::uint64_t send_failures = 0;
  Reception reception;
};

struct RunTotals {
  double media_s = 0;
  double listen_s = 0;                      // from the flush before the first frame to the drain's last read
  std::uint64_t received_before_media = 0;  // RTP that arrived while the calls were being set up
  double generator_cpu_s = 0;
  std::uint64_t late_wakeups = 0;  // woke more than one slot after the deadline
  std::uint64_t max_lateness_us = 0;
  std::uint64_t rx_socket_drops = 0;
};

void usage() {
  std::fputs(
      "usage: mixer_load --server HOST:PORT [options]\n"
      "  --server HOST:PORT   chorusd's SIP address (UDP)\n"
      "  --room ROOM          Request-URI user part (default 1000; `echo` echoes each caller)\n"
      "  --participants N     calls, 1..5000 (default 50)\n"
      "  --talkers K          participants sending a tone, the rest silence (default 3)\n"
      "  --codec C            opus (PT 111, 48 kHz, useinbandfec=1), pcmu (PT 0) or g722 (PT 9) (default opus)\n"
      "  --silence S          Opus silence: dtx (a frame every 400 ms) or frames (every 20 ms) (default frames)\n"
      "  --audio-level        offer ssrc-audio-level (RFC 6464) and, where answered, send each frame's level\n"
      "                       in an RFC 8285 one-byte header extension, as browsers do (default off)\n"
      "  --seconds S          media phase length (default 20)\n"
      "  --bind IP            local address of all sockets (default 127.0.0.1)\n"
      "  --slots N            send phases per 20 ms, 1..20 (default 10)\n"
      "  --setup-window N     INVITEs (and BYEs) outstanding at once (default 50)\n"
      "  --answer-timeout-ms  a call not answered in time fails (default 5000)\n"
      "  --bye-timeout-ms     how long to wait for the BYEs' 200s (default 5000)\n"
      "  --drain-ms MS        how long to read after the last frame (default 300)\n",
      stderr);
}

bool apply_option(Options& o, std::string_view name, std::string_view value) {
  if (name == "--server") return o.server = value, true;
  if (name == "--room") return o.sip.room = value, !value.empty() && value.find_first_of(" @;<>\r\n") == value.npos;
  if (name == "--bind") return o.sip.local_ip = value, true;
  if (name == "--participants")
    return parse_number(value, o.participants) && o.participants >= 1 && o.participants <= kMaxParticipants;
  if (name == "--talkers") return parse_number(value, o.talkers);
  if (name == "--seconds") return parse_number(value, o.seconds) && o.seconds > 0 && o.seconds <= 3600;
  if (name == "--slots") return parse_number(value, o.slots) && o.slots >= 1 && o.slots <= 20;
  if (name == "--setup-window") return parse_number(value, o.sip.window) && o.sip.window >= 1;
  if (name == "--drain-ms") return parse_number(value, o.drain_ms) && o.drain_ms >= 0 && o.drain_ms <= 10000;
  if (name == "--answer-timeout-ms" || name == "--bye-timeout-ms") {
    unsigned ms = 0;
    if (!parse_number(value, ms) || ms == 0 || ms > 60000) return false;
    (name == "--answer-timeout-ms" ? o.sip.answer_timeout : o.sip.bye_timeout) = std::chrono::milliseconds(ms);
    return true;
  }
  if (name == "--codec") {
    if (value != "opus" && value != "pcmu" && value != "g722") return false;
    o.sip.codec = value == "opus" ? LoadCodec::kOpus : (value == "pcmu" ? LoadCodec::kPcmu : LoadCodec::kG722);
    return true;
  }
  if (name == "--silence") {
    if (value != "dtx" && value != "frames") return false;
    o.silence = value == "dtx" ? SilenceMode::kDtx : SilenceMode::kFrames;
    return true;
  }
  return false;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  o.sip.room = "1000";
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "--audio-level") {  // the one flag without a value
      o.sip.audio_level = true;
      continue;
    }
    if (name == "--help" || name == "-h" || i + 1 >= argc) return std::nullopt;
    if (!apply_option(o, name, argv[i + 1])) {
      std::fprintf(stderr, "mixer_load: bad option or value: %s %s\n", argv[i], argv[i + 1]);
      return std::nullopt;
    }
    ++i;  // the value
  }
  const auto server = parse_address(o.server);
  if (!server) {
    std::fputs("mixer_load: --server HOST:PORT (IPv4) is required\n", stderr);
    return std::nullopt;
  }
  o.sip.server = *server;
  if (o.sip.codec != LoadCodec::kOpus && o.silence == SilenceMode::kDtx) {
    std::fputs("mixer_load: --silence dtx is Opus only (PCMU and G.722 send encoded silence)\n", stderr);
    return std::nullopt;
  }
  o.talkers = std::min(o.talkers, o.participants);
  return o;
}

// Two sockets per call, plus a few: raise the soft descriptor limit to the hard one if needed.
bool ensure_descriptors(std::size_t participants) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  const rlim_t needed = 2 * participants + 32;
  if (limit.rlim_cur >= needed) return true;
  limit.rlim_cur = std::min(limit.rlim_max, std::max(needed, limit.rlim_cur));
  return setrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur >= needed;
}

// Sends the participant's next 20 ms: its frame, or nothing when the frame is DTX; the timestamp
// advances either way (RFC 3550 §5.1), the sequence number only with a packet. With an answered
// ssrc-audio-level id the header carries the frame's level (RFC 6464 §3) in one RFC 8285 §4.2
// element: X set, 0xBEDE, length 1, (id << 4 | 0), V|level, two zero pads, then the payload.
void send_frame(Participant& p, std::uint8_t payload_type) {
  const std::size_t index = p.frame;
  const auto& frame = p.loop->frames[index];
  p.frame = (p.frame + 1) % p.loop->frames.size();
  const std::uint32_t timestamp = p.timestamp;
  p.timestamp += p.loop->samples_per_frame;
  if (frame.empty()) {
    p.marker = true;
    return;
  }
  std::array<std::uint8_t, kDatagramSize> packet{};
  chorus::media::RtpHeaderFields fields;
  fields.marker = p.marker;
  fields.payload_type = payload_type;
  fields.sequence_number = p.sequence++;
  fields.timestamp = timestamp;
  fields.ssrc = p.ssrc;
  const std::uint8_t level = chorus::bench::audio_level_octet(p.loop->levels[index]);
  const chorus::media::OneByteExtensionElement element{p.audio_level_id, {&level, 1}};
  if (p.audio_level_id != 0) fields.extensions = {&element, 1};
  const auto header = chorus::media::write_rtp_header(packet, fields);
  if (!header || *header + frame.size() > packet.size()) {
    ++p.send_failures;
    return;
  }
  std::memcpy(packet.data() + *header, frame.data(), frame.size());
  const sockaddr_in& to = p.call->media;
  const ssize_t n = sendto(p.call->rtp_fd, packet.data(), *header + frame.size(), MSG_DONTWAIT,
                           reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  if (n < 0) {
    ++p.send_failures;  // a full socket buffer: the frame is lost, as a real caller's would be
    return;
  }
  p.marker = false;
  ++p.sent;
}

// Reads what waits on the participant's RTP socket.
void receive(Participant& p) {
  std::array<std::array<std::uint8_t, kDatagramSize>, kRecvBatch> slots;
  std::array<iovec, kRecvBatch> iov{};
  std::array<mmsghdr, kRecvBatch> msgs{};
  std::array<sockaddr_in, kRecvBatch> names{};
  for (std::size_t round = 0; round < kRecvRounds; ++round) {
    for (std::size_t m = 0; m < kRecvBatch; ++m) {
      iov[m] = {slots[m].data(), slots[m].size()};
      msgs[m] = {};
      msgs[m].msg_hdr.msg_iov = &iov[m];
      msgs[m].msg_hdr.msg_iovlen = 1;
      msgs[m].msg_hdr.msg_name = &names[m];
      msgs[m].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    const int n = recvmmsg(p.call->rtp_fd, msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int m = 0; m < n; ++m) {
      const sockaddr_in& from = names[m];
      if (from.sin_addr.s_addr != p.call->media.sin_addr.s_addr || from.sin_port != p.call->media.sin_port) {
        ++p.reception.foreign;
        continue;
      }
      const std::span<std::uint8_t> datagram(slots[m].data(), msgs[m].msg_len);
      switch (chorus::media::classify_packet(datagram)) {
        case chorus::media::PacketKind::kRtp:
          if (const auto packet = chorus::media::RtpPacket::parse(datagram)) {
            p.reception.on_rtp(packet->ssrc(), packet->sequence_number());
          } else {
            ++p.reception.malformed;
          }
          break;
        case chorus::media::PacketKind::kRtcp:
          ++p.reception.rtcp;
          break;
        default:
          ++p.reception.malformed;
      }
    }
    if (static_cast<std::size_t>(n) < kRecvBatch) return;
  }
}

// The media phase: --seconds of frames from every participant, then --drain-ms of reading.
RunTotals run_media(std::vector<Participant>& participants, std::vector<SipCall>& calls, const Options& o,
                    std::mt19937& rng, SipTotals& sip_totals) {
  const std::uint8_t payload_type = chorus::bench::payload_type_of(o.sip.codec);
  std::vector<std::vector<Participant*>> by_slot(o.slots);
  for (std::size_t i = 0; i < participants.size(); ++i) by_slot[i % o.slots].push_back(&participants[i]);
  const std::uint64_t slot_ns = kPeriodNs / o.slots;
  const auto ticks = static_cast<std::uint64_t>(o.seconds * kFramesPerSecond) * o.slots;
  const std::uint64_t ticks_per_second = kFramesPerSecond * o.slots;
  RunTotals totals;
  std::fputs("mixer_load: media start\n", stderr);
  std::fflush(stderr);
  const double cpu_before = cpu_seconds();
  // A mixer sends from the moment a call is up: what came during the setup is not this phase's.
  const std::uint64_t listen_start = now_ns();
  for (Participant& p : participants) {
    receive(p);
    totals.received_before_media += p.reception.rtp;
    p.reception.rtp = 0;
  }
  const std::uint64_t start = now_ns() + slot_ns;
  for (std::uint64_t tick = 0; tick < ticks; ++tick) {
    const std::uint64_t deadline = start + tick * slot_ns;
    sleep_until(deadline);
    const std::uint64_t lateness = now_ns() - deadline;
    totals.max_lateness_us = std::max(totals.max_lateness_us, lateness / 1000);
    if (lateness > slot_ns) ++totals.late_wakeups;
    for (Participant* p : by_slot[tick % o.slots]) {
      receive(*p);
      send_frame(*p, payload_type);
    }
    if (tick % ticks_per_second == ticks_per_second - 1) service_calls(calls, o.sip, rng, sip_totals);
  }
  const std::uint64_t send_end = now_ns();
  std::fputs("mixer_load: media end\n", stderr);
  std::fflush(stderr);
  const auto drain_steps = static_cast<std::uint64_t>(o.drain_ms * 1e6) / kDrainStepNs + 1;
  for (std::uint64_t step = 0; step < drain_steps; ++step) {
    sleep_until(send_end + step * kDrainStepNs);
    for (Participant& p : participants) receive(p);
  }
  totals.listen_s = static_cast<double>(now_ns() - listen_start) / 1e9;
  totals.media_s = static_cast<double>(send_end - start) / 1e9;
  totals.generator_cpu_s = cpu_seconds() - cpu_before;
  for (Participant& p : participants) totals.rx_socket_drops += socket_drops(p.call->rtp_fd);
  return totals;
}

void print_json(const Options& o, const std::vector<Participant>& participants, const SipTotals& sip,
                const RunTotals& run, double setup_s) {
  std::uint64_t sent = 0, send_failures = 0, rtp = 0, rtcp = 0, foreign = 0, malformed = 0, gaps = 0, reordered = 0,
                ssrc_changes = 0;
  std::size_t level_calls = 0;  // participants whose packets carry ssrc-audio-level
  std::vector<std::uint64_t> per_participant;
  for (const Participant& p : participants) {
    level_calls += p.audio_level_id != 0 ? 1 : 0;
    sent += p.sent;
    send_failures += p.send_failures;
    rtp += p.reception.rtp;
    rtcp += p.reception.rtcp;
    foreign += p.reception.foreign;
    malformed += p.reception.malformed;
    gaps += p.reception.gaps;
    reordered += p.reception.reordered;
    ssrc_changes += p.reception.ssrc_changes;
    per_participant.push_back(p.reception.rtp);
  }
  std::sort(per_participant.begin(), per_participant.end());
  const auto at = [&](double q) {
    return per_participant.empty() ? 0 : per_participant[static_cast<std::size_t>(q * (per_participant.size() - 1))];
  };
  std::string statuses;
  for (const auto& [status, count] : sip.failure_statuses) {
    if (!statuses.empty()) statuses.append(", ");
    statuses.append("\"").append(std::to_string(status)).append("\": ").append(std::to_string(count));
  }
  const double media_s = run.media_s > 0 ? run.media_s : 1;
  std::printf(
      "{\"room\": \"%s\", \"codec\": \"%s\", \"silence\": \"%s\", \"audio_level\": %s, \"audio_level_calls\": %zu, "
      "\"participants\": %zu, \"talkers\": %zu, "
      "\"calls_answered\": %zu, \"calls_failed\": %zu, \"failure_statuses\": {%s}, \"setup_s\": %.3f, "
      "\"media_s\": %.3f, \"listen_s\": %.3f, \"frames_per_participant\": %" PRIu64 ", \"packets_sent\": %" PRIu64
      ", \"send_failures\": %" PRIu64 ", \"packets_received\": %" PRIu64 ", \"received_before_media\": %" PRIu64
      ", \"received_per_participant\": {\"min\": %" PRIu64 ", \"median\": %" PRIu64 ", \"max\": %" PRIu64
      "}, \"sequence_gaps\": %" PRIu64 ", \"reordered\": %" PRIu64 ", \"ssrc_changes\": %" PRIu64
      ", \"rtcp_received\": %" PRIu64 ", \"foreign\": %" PRIu64 ", \"malformed\": %" PRIu64
      ", \"rx_socket_drops\": %" PRIu64
      ", \"send_pps\": %.1f, \"receive_pps\": %.1f, \"generator_cpu_s\": %.3f, "
      "\"late_wakeups\": %" PRIu64 ", \"max_lateness_us\": %" PRIu64
      ", \"acks_resent\": %zu, "
      "\"ended_by_server\": %zu, \"byes_sent\": %zu, \"byes_answered\": %zu}\n",
      o.sip.room.c_str(), chorus::bench::codec_name(o.sip.codec),
      o.sip.codec != LoadCodec::kOpus ? chorus::bench::codec_name(o.sip.codec)
                                      : (o.silence == SilenceMode::kDtx ? "dtx" : "frames"),
      level_calls > 0 ? "true" : "false", level_calls, o.participants, std::min(o.talkers, participants.size()),
      sip.answered, sip.failed, statuses.c_str(), setup_s, run.media_s, run.listen_s,
      static_cast<std::uint64_t>(o.seconds * kFramesPerSecond), sent, send_failures, rtp, run.received_before_media,
      at(0.0), at(0.5), at(1.0), gaps, reordered, ssrc_changes, rtcp, foreign, malformed, run.rx_socket_drops,
      static_cast<double>(sent) / media_s, static_cast<double>(rtp) / (run.listen_s > 0 ? run.listen_s : 1),
      run.generator_cpu_s, run.late_wakeups, run.max_lateness_us, sip.acks_resent, sip.ended_by_server, sip.byes_sent,
      sip.byes_answered);
  std::fflush(stdout);
}

// One loop per talker (its own frequency) and one silence loop all silent participants share.
bool build_loops(const Options& o, std::vector<FrameLoop>& tones, FrameLoop& silence) {
  for (std::size_t k = 0; k < o.talkers; ++k) {
    auto loop = chorus::bench::make_tone_loop(o.sip.codec, chorus::bench::talker_frequency_hz(k));
    if (!loop) {
      std::fprintf(stderr, "mixer_load: %s\n", loop.error().c_str());
      return false;
    }
    tones.push_back(std::move(*loop));
  }
  auto loop = chorus::bench::make_silence_loop(o.sip.codec, o.silence);
  if (!loop) {
    std::fprintf(stderr, "mixer_load: %s\n", loop.error().c_str());
    return false;
  }
  silence = std::move(*loop);
  return true;
}

// Once per run: --audio-level asked for levels, and some answers left ssrc-audio-level out.
void warn_unanswered_levels(const Options& o, const std::vector<Participant>& participants) {
  if (!o.sip.audio_level) return;
  const auto plain = std::ranges::count(participants, std::uint8_t{0}, &Participant::audio_level_id);
  if (plain == 0) return;
  std::fprintf(stderr,
               "mixer_load: warning: %td of %zu answers have no a=extmap for ssrc-audio-level (id 1..14); "
               "those calls send RTP without levels\n",
               plain, participants.size());
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse_options(argc, argv);
  if (!options) {
    usage();
    return 2;
  }
  const Options& o = *options;
  if (!ensure_descriptors(o.participants)) {
    std::fprintf(stderr, "mixer_load: %zu participants need %zu file descriptors (ulimit -n)\n", o.participants,
                 2 * o.participants + 32);
    return 1;
  }
  std::vector<FrameLoop> tones;
  FrameLoop silence;
  if (!build_loops(o, tones, silence)) return 1;
  std::mt19937 rng(std::random_device{}());
  std::vector<SipCall> calls(o.participants);
  for (SipCall& call : calls) {
    if (auto opened = chorus::bench::open_call(call, o.sip, rng); !opened) {
      std::fprintf(stderr, "mixer_load: %s\n", opened.error().c_str());
      for (SipCall& c : calls) chorus::bench::close_call(c);
      return 1;
    }
  }
  SipTotals sip;
  const std::uint64_t setup_start = now_ns();
  chorus::bench::establish_calls(calls, o.sip, rng, sip);
  const double setup_s = static_cast<double>(now_ns() - setup_start) / 1e9;
  std::vector<Participant> participants;
  for (SipCall& call : calls) {
    if (call.state != CallState::kConfirmed) continue;
    Participant p;
    p.call = &call;
    const std::size_t index = participants.size();
    p.loop = index < tones.size() ? &tones[index] : &silence;
    p.frame = index < tones.size() ? 0 : rng() % silence.frames.size();  // DTX refreshes not all at once
    // RFC 3550 §5.1: random SSRC, initial sequence number and timestamp.
    p.ssrc = static_cast<std::uint32_t>(rng());
    p.sequence = static_cast<std::uint16_t>(rng());
    p.timestamp = static_cast<std::uint32_t>(rng());
    p.audio_level_id = call.audio_level_id;
    participants.push_back(p);
  }
  warn_unanswered_levels(o, participants);
  RunTotals run;
  if (!participants.empty()) run = run_media(participants, calls, o, rng, sip);
  chorus::bench::terminate_calls(calls, o.sip, rng, sip);
  print_json(o, participants, sip, run, setup_s);
  for (SipCall& call : calls) chorus::bench::close_call(call);
  return 0;
}
