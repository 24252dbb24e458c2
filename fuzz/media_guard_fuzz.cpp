// libFuzzer target for the media guard (conference/media_guard.hpp): every SDP offer an
// unauthenticated caller sends is checked by it before a port is leased.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/media_guard_fuzz.cpp \
//     conference/media_guard.cpp signaling/sdp/*.cpp
//   ./a.out -max_total_time=60 -max_len=8192 -dict=fuzz/sdp_fuzz.dict
//
// The input is an SDP; what parses is checked from a remote and from a loopback signaling source,
// with and without deny ranges. Besides crashes it checks: a refusal is always 488 with Warning 305;
// whatever a remote caller may name, a loopback caller may name too (loopback only widens); a deny
// list only adds refusals; proven_by_signaling never proves an address the guard would refuse from
// that source. The same bytes are also parsed as a CIDR, which must round-trip through to_string().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conference/media_guard.hpp"
#include "signaling/sdp/sdp_parser.hpp"

namespace {

using namespace chorus;

void check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto range = conference::parse_ip_range(text.substr(0, 64))) {
    auto again = conference::parse_ip_range(range->to_string());
    check(again.has_value() && again->network == range->network && again->prefix == range->prefix);
    check(range->contains(range->network));
  }
  auto description = sdp::parse_sdp(text);
  if (!description) return 0;
  const auto remote = boost::asio::ip::make_address("203.0.113.7");
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  conference::MediaGuardSettings open;
  conference::MediaGuardSettings denying;
  denying.deny_ranges = {*conference::parse_ip_range("10.0.0.0/8"), *conference::parse_ip_range("2001:db8::/32")};

  const auto from_remote = conference::check_media_addresses(*description, remote, open);
  const auto from_loopback = conference::check_media_addresses(*description, loopback, open);
  const auto denied = conference::check_media_addresses(*description, remote, denying);
  for (const auto* error : {&from_remote, &from_loopback, &denied})
    if (*error) check((*error)->sip_status == 488 && (*error)->warning_code == 305 && !(*error)->reason.empty());
  if (!from_remote) check(!from_loopback.has_value());
  if (from_remote) check(denied.has_value());
  if (!from_remote && description->media.size() == 1 && !description->media[0].is_rejected())
    if (const auto* connection = description->effective_connection(description->media[0]))
      (void)conference::proven_by_signaling(connection->address, remote);
  return 0;
}
