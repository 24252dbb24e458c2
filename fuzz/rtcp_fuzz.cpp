// libFuzzer target for the RTCP compound walk and every typed packet parser in media/rtcp.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/rtcp_fuzz.cpp media/rtcp/*.cpp
//   ./a.out -max_total_time=60 -max_len=1500
//
// Besides crashes and out-of-bounds reads it checks one property: every packet a parser accepts
// is written back by its builder (when the builder can encode it) and parses to the same value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "media/rtcp/app.hpp"
#include "media/rtcp/bye.hpp"
#include "media/rtcp/byte_io.hpp"
#include "media/rtcp/generic_nack.hpp"
#include "media/rtcp/payload_feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtcp/rtcp_statistics.hpp"
#include "media/rtcp/sdes.hpp"
#include "media/rtcp/sender_report.hpp"
#include "media/rtcp/tmmbr.hpp"
#include "media/rtcp/transport_cc.hpp"

namespace {

using namespace chorus::media::rtcp;

// Large enough for any rebuilt packet: transport-cc expands to at most 4 octets per status.
std::vector<std::uint8_t>& scratch() {
  static std::vector<std::uint8_t> buffer(1 << 19);
  return buffer;
}

template <class Packet>
void check_round_trip(const RtcpHeader& header) {
  const auto parsed = Packet::parse(header);
  if (!parsed) return;
  auto& out = scratch();
  const auto written = parsed->write(out);
  if (!written) return;  // e.g. APP data that padding left unaligned: nothing to compare
  const auto again_header = RtcpHeader::parse(std::span(out).first(*written));
  if (!again_header) std::abort();
  const auto again = Packet::parse(*again_header);
  if (!again || !(*again == *parsed)) std::abort();
}

void exercise(const RtcpHeader& header) {
  check_round_trip<SenderReport>(header);
  check_round_trip<ReceiverReport>(header);
  check_round_trip<Sdes>(header);
  check_round_trip<Bye>(header);
  check_round_trip<App>(header);
  check_round_trip<GenericNack>(header);
  check_round_trip<Tmmbr>(header);
  check_round_trip<Tmmbn>(header);
  check_round_trip<TransportCc>(header);
  check_round_trip<Pli>(header);
  check_round_trip<Fir>(header);
  check_round_trip<Remb>(header);
  if (const auto nack = GenericNack::parse(header)) {
    const auto lost = nack->lost_sequence_numbers();
    const auto repacked = GenericNack::from_lost(nack->sender_ssrc, nack->media_ssrc, lost);
    for (const auto seq : repacked.lost_sequence_numbers()) {
      if (std::find(lost.begin(), lost.end(), seq) == lost.end()) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  if (const auto view = CompoundView::parse(bytes)) {
    std::size_t count = 0;
    for (const RtcpHeader& header : *view) {
      exercise(header);
      ++count;
    }
    if (count != view->packet_count()) std::abort();
  } else if (const auto header = RtcpHeader::parse(bytes)) {
    exercise(*header);  // a valid first packet followed by garbage still reaches the typed parsers
  }
  if (size >= 12) (void)round_trip_time(read_u32(bytes, 0), read_u32(bytes, 4), read_u32(bytes, 8));
  return 0;
}
