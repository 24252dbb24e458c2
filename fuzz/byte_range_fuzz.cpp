// libFuzzer target for parse_byte_range (rest-api/byte_range), which reads the Range header of every
// recording download (RFC 9110 §14.1.2, §14.2).
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/byte_range_fuzz.cpp \
//       rest-api/byte_range.cpp -o /tmp/byte_range_fuzz
//   /tmp/byte_range_fuzz -max_total_time=60 fuzz/seeds/byte_range_fuzz   (or make fuzz-build: build-fuzz/bin/)
//
// The input's first 8 bytes are the representation's size (little endian), the rest the header.
// Besides crashes it checks, for every input:
//   - a range lies within the representation (first <= last < size), so a FileSlice never reads
//     outside the file;
//   - an empty representation is never given a range (a 206 cannot describe zero bytes);
//   - Content-Range says exactly the range and the size ("bytes first-last/size"), and a 416's
//     "bytes */size";
//   - the same header parses to the same answer again (no state).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "rest-api/byte_range.hpp"

using chorus::fuzz::check;
using chorus::rest::RangeSelection;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < sizeof(std::uint64_t)) return 0;
  std::uint64_t length = 0;
  std::memcpy(&length, data, sizeof length);
  // Sizes a file could have, and the edges: 0, 1 and the largest.
  if (length > (std::uint64_t{1} << 50) && length != UINT64_MAX) length %= std::uint64_t{1} << 50;
  const std::string_view header(reinterpret_cast<const char*>(data) + sizeof length, size - sizeof length);

  const RangeSelection selection = chorus::rest::parse_byte_range(header, length);
  check(selection == chorus::rest::parse_byte_range(header, length));
  switch (selection.kind) {
    case RangeSelection::Kind::kRange: {
      check(length > 0);
      check(selection.range.first <= selection.range.last);
      check(selection.range.last < length);
      check(selection.range.length() >= 1 && selection.range.length() <= length);
      const std::string expected = "bytes " + std::to_string(selection.range.first) + "-" +
                                   std::to_string(selection.range.last) + "/" + std::to_string(length);
      check(chorus::rest::content_range(selection.range, length) == expected);
      break;
    }
    case RangeSelection::Kind::kUnsatisfiable:
      check(chorus::rest::unsatisfied_content_range(length) == "bytes */" + std::to_string(length));
      break;
    case RangeSelection::Kind::kWhole:
      break;
  }
  return 0;
}
