// SRTP packets per second for one 1,200-octet RTP packet (RFC 3711, RFC 7714 suites): our
// SrtpSession (since issue 13 its own SrtpTransform on OpenSSL, media/srtp/srtp_transform.hpp)
// against libsrtp's bare srtp_protect()/srtp_unprotect() with the same policy (Debian's libsrtp2, on
// NSS), same packets, same run. `build/bin/bench_srtp_pps`; figures in bench/RESULTS.md.
// Each iteration copies the plaintext into the buffer and gives it the next sequence number, as a
// sender does; both variants pay that copy.
#include <benchmark/benchmark.h>
#include <srtp2/srtp.h>

#include <array>
#include <cstring>
#include <vector>

#include "media/srtp/libsrtp_reference.hpp"
#include "media/srtp/srtp_session.hpp"

namespace {

using chorus::media::kAllSrtpSuites;
using chorus::media::SrtpDirection;
using chorus::media::SrtpSession;
using chorus::media::SrtpSuite;

constexpr std::size_t kPacketLength = 1200;

SrtpSuite suite_of(const benchmark::State& state) {
  return kAllSrtpSuites[static_cast<std::size_t>(state.range(0))];
}

std::vector<std::uint8_t> master_key(SrtpSuite suite) {
  std::vector<std::uint8_t> key(chorus::media::key_salt_length(suite));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 29 + 3);
  return key;
}

// RFC 3550 §5.1 header (V=2, PT 111, SSRC 0x11223344) and a patterned payload.
std::vector<std::uint8_t> rtp_packet() {
  std::vector<std::uint8_t> packet(kPacketLength);
  packet[0] = 0x80;
  packet[1] = 111;
  packet[8] = 0x11;
  packet[9] = 0x22;
  packet[10] = 0x33;
  packet[11] = 0x44;
  for (std::size_t i = 12; i < packet.size(); ++i) packet[i] = static_cast<std::uint8_t>(i * 13);
  return packet;
}

// The next packet in the buffer: plaintext copied in, sequence number and timestamp advanced.
void load_packet(std::vector<std::uint8_t>& buffer, const std::vector<std::uint8_t>& plain, std::uint16_t seq) {
  std::memcpy(buffer.data(), plain.data(), plain.size());
  const std::uint32_t timestamp = seq * 960u;
  buffer[2] = static_cast<std::uint8_t>(seq >> 8);
  buffer[3] = static_cast<std::uint8_t>(seq);
  buffer[4] = static_cast<std::uint8_t>(timestamp >> 24);
  buffer[5] = static_cast<std::uint8_t>(timestamp >> 16);
  buffer[6] = static_cast<std::uint8_t>(timestamp >> 8);
  buffer[7] = static_cast<std::uint8_t>(timestamp);
}

SrtpSession make_session(SrtpSuite suite, SrtpDirection direction) {
  auto session = SrtpSession::create(suite, master_key(suite), direction);
  if (!session) std::abort();
  return std::move(*session);
}

// libsrtp2 with the policy Chorus negotiates (media/srtp/libsrtp_reference.hpp).
srtp_t make_bare(SrtpSuite suite, SrtpDirection direction) {
  auto session = chorus::media::make_libsrtp_session(suite, master_key(suite), direction == SrtpDirection::kOutbound);
  if (!session) std::abort();
  return session.release();
}

void set_label(benchmark::State& state) {
  state.SetLabel(std::string(chorus::media::suite_name(suite_of(state))));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kPacketLength));
}

void BM_WrapperProtect(benchmark::State& state) {
  auto sender = make_session(suite_of(state), SrtpDirection::kOutbound);
  const auto plain = rtp_packet();
  std::vector<std::uint8_t> buffer(kPacketLength + chorus::media::kSrtpMaxTrailer);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    load_packet(buffer, plain, seq++);
    auto length = sender.protect_rtp(buffer, kPacketLength);
    if (!length) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(length);
  }
  set_label(state);
}

void BM_BareProtect(benchmark::State& state) {
  srtp_t sender = make_bare(suite_of(state), SrtpDirection::kOutbound);
  const auto plain = rtp_packet();
  std::vector<std::uint8_t> buffer(kPacketLength + SRTP_MAX_TRAILER_LEN);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    load_packet(buffer, plain, seq++);
    int length = static_cast<int>(kPacketLength);
    if (srtp_protect(sender, buffer.data(), &length) != srtp_err_status_ok) state.SkipWithError("protect failed");
    benchmark::DoNotOptimize(length);
  }
  srtp_dealloc(sender);
  set_label(state);
}

void BM_WrapperProtectUnprotect(benchmark::State& state) {
  auto sender = make_session(suite_of(state), SrtpDirection::kOutbound);
  auto receiver = make_session(suite_of(state), SrtpDirection::kInbound);
  const auto plain = rtp_packet();
  std::vector<std::uint8_t> buffer(kPacketLength + chorus::media::kSrtpMaxTrailer);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    load_packet(buffer, plain, seq++);
    const auto protected_length = sender.protect_rtp(buffer, kPacketLength);
    const auto plain_length = receiver.unprotect_rtp(buffer, protected_length.value_or(0));
    if (plain_length != kPacketLength) state.SkipWithError("round trip failed");
    benchmark::DoNotOptimize(plain_length);
  }
  set_label(state);
}

void BM_BareProtectUnprotect(benchmark::State& state) {
  srtp_t sender = make_bare(suite_of(state), SrtpDirection::kOutbound);
  srtp_t receiver = make_bare(suite_of(state), SrtpDirection::kInbound);
  const auto plain = rtp_packet();
  std::vector<std::uint8_t> buffer(kPacketLength + SRTP_MAX_TRAILER_LEN);
  std::uint16_t seq = 0;
  for (auto _ : state) {
    load_packet(buffer, plain, seq++);
    int length = static_cast<int>(kPacketLength);
    const bool ok = srtp_protect(sender, buffer.data(), &length) == srtp_err_status_ok &&
                    srtp_unprotect(receiver, buffer.data(), &length) == srtp_err_status_ok;
    if (!ok || length != static_cast<int>(kPacketLength)) state.SkipWithError("round trip failed");
    benchmark::DoNotOptimize(length);
  }
  srtp_dealloc(sender);
  srtp_dealloc(receiver);
  set_label(state);
}

// Argument: index into kAllSrtpSuites (0 SHA1_80, 1 SHA1_32, 2 GCM-128, 3 GCM-256).
BENCHMARK(BM_WrapperProtect)->DenseRange(0, 3);
BENCHMARK(BM_BareProtect)->DenseRange(0, 3);
BENCHMARK(BM_WrapperProtectUnprotect)->DenseRange(0, 3);
BENCHMARK(BM_BareProtectUnprotect)->DenseRange(0, 3);

}  // namespace
