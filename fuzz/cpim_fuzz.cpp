// libFuzzer target for the chat's message/cpim reader (conference/chat/cpim.hpp, RFC 3862): a
// participant's MESSAGE body reaches parse_cpim before anything else looks at it.
//
//   make fuzz-build && build-fuzz/bin/cpim_fuzz -max_total_time=60 -max_len=8192
//
// Besides crashes it checks that what parse_cpim accepts survives our own writer: encoding the
// parsed sender, recipient and text with encode_cpim and reading that back gives the same URIs,
// the same text and a text/plain content type.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "conference/chat/cpim.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chorus::conference;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_cpim(body);
  if (!parsed) return 0;
  const std::string written =
      encode_cpim(parsed->from, parsed->to, std::chrono::system_clock::time_point{}, parsed->content);
  const auto again = parse_cpim(written);
  if (!again) std::abort();  // our own writer made something our reader refuses
  if (again->from.uri != parsed->from.uri || again->to.uri != parsed->to.uri) std::abort();
  if (again->content != parsed->content || again->content_type != "text/plain") std::abort();
  return 0;
}
