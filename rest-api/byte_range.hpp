// Byte ranges (RFC 9110 §14): the Range request header a download client sends to resume or seek
// (recordings of meetings run to hundreds of MB), and the Content-Range values of the answer.
//
// Only single ranges are served. A request for several ranges would need a multipart/byteranges
// body (RFC 9110 §14.6); the server MAY ignore Range altogether (§14.2), so several ranges are
// answered with the whole representation, as are another range unit and a malformed header.
//
// Pure functions, any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::rest {

// Bytes first..last of a representation, both inclusive (RFC 9110 §14.1.2).
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;

  [[nodiscard]] std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

// What a Range header asks of a representation of a given size.
struct RangeSelection {
  enum class Kind : std::uint8_t {
    kWhole,         // no usable Range: 200 with the whole representation
    kRange,         // `range`, within the representation: 206
    kUnsatisfiable  // 416 with `Content-Range: bytes */size` (RFC 9110 §15.5.17)
  };
  Kind kind = Kind::kWhole;
  ByteRange range;  // kRange only

  static RangeSelection whole() { return {}; }
  static RangeSelection unsatisfiable() { return {.kind = Kind::kUnsatisfiable}; }
  static RangeSelection of(std::uint64_t first, std::uint64_t last) {
    return {.kind = Kind::kRange, .range = {first, last}};
  }
  bool operator==(const RangeSelection&) const = default;
};

// `range_header`: the Range field's value, empty when the request had none. `size`: the
// representation's length in bytes.
//   kWhole: empty; a unit other than `bytes`; a syntax error (an int-range whose last-pos is below
//           its first-pos included, §14.1.2); several ranges; a suffix range of an empty
//           representation (satisfiable per §14.1.2, but a 206 cannot describe zero bytes).
//   kRange: `bytes=500-999`, `bytes=9500-` (to the end), `bytes=-500` (the last 500); the last
//           position is clipped to size - 1, a suffix longer than the representation is all of it.
//   kUnsatisfiable: the first position is at or past the end (every range of an empty
//           representation but a suffix), or a suffix of 0 bytes.
// Numbers too large for 64 bits saturate (§14.1.2: recipients must expect large numerals), which
// keeps each of these outcomes right.
[[nodiscard]] RangeSelection parse_byte_range(std::string_view range_header, std::uint64_t size);

// RFC 9110 §14.4: "bytes 42-1233/1234".
[[nodiscard]] std::string content_range(ByteRange range, std::uint64_t size);
// RFC 9110 §14.4: "bytes */1234", for a 416.
[[nodiscard]] std::string unsatisfied_content_range(std::uint64_t size);

}  // namespace chorus::rest
