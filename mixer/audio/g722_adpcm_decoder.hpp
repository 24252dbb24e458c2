// Our own ITU-T G.722 decoder, 64 kbit/s (mode 1) only: the sub-band ADPCM decoders (G.722's
// computational details, blocks 2L-6L for the lower band and 2H-6H for the higher) and the receive
// QMF (the 24-tap synthesis filter, Table 11/G.722's coefficients). Bit-exact with spandsp 0.0.6's
// g722_decode (64,000 bit/s, no options) but for one thing: an output overload is clipped, where
// spandsp wraps it around into a click of the opposite sign (the .cpp's qmf_sample).
// tests/unit/mixer/audio/g722_adpcm_decoder_test.cpp compares them sample for sample over a million
// random codewords and spandsp's own encodings of full-scale, quiet and clipped signals.
//
// Why not spandsp's: every G.722 member's packets are decoded every 20 ms, and at 400 members
// g722_decode was 43% of a media worker's busy time (issue 13 wants 1,000 members per core). Here
// both bands' state stays in vector registers for a whole packet (the lower band in lane 0, the
// higher in lane 1; each band's six zero-section taps across one vector, the reference's 16-bit
// saturating adds as paddsw), and the QMF, which carries no state but its last 11 inputs, runs
// after the sub-band loop over each block of octets, its inputs contiguous behind those 11, eight
// octets per vector: about a quarter of spandsp's time (bench/micro/g722_decode.cpp).
//
// Threading: one decoder is one member's state, used by one thread at a time. No allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace chorus::mixer {

class G722AdpcmDecoder {
 public:
  G722AdpcmDecoder() noexcept { reset(); }

  // Back to the state of a fresh decoder (G.722's reset values: DETL = 32, DETH = 8, the rest zero).
  void reset() noexcept;

  // Decodes `payload` (RFC 3551 §4.5.2: one octet per two 16 kHz samples; bits 7-6 the higher
  // band's IH, bits 5-0 the lower band's ILR) into `out`: two samples per octet, spandsp's
  // 16-bit values (the reference's) as floats, not normalised. When `out` is shorter than 2 × payload.size() only
  // its first out.size() samples are written, but the state still advances over the whole
  // payload, so the next packet decodes as if nothing had been dropped. Returns how many were written.
  std::size_t decode(std::span<const std::uint8_t> payload, std::span<float> out) noexcept;

  // The receive QMF's taps per polyphase branch (24 in all, Table 11/G.722).
  static constexpr std::size_t kQmfTaps = 12;

  // Both sub-bands' state between packets, laid out as decode() holds it in vector lanes: in each
  // pair, [0] is the lower band's and [1] the higher band's. (Public only so that the .cpp's helpers
  // can take it: not an interface.)
  struct State {
    // Blocks 3L/3H: the logarithmic scale factor NB and the quantiser's scale factor DET.
    std::array<std::int16_t, 2> nb;
    std::array<std::int16_t, 2> det;
    // Block 4's pole section: the estimate S and its zero section's part SZ, 2·R of the last
    // reconstructed signal (saturated, as FILTEP reads it), the last two partially reconstructed
    // signals P (only their signs are read), the two pole coefficients A1, A2.
    std::array<std::int16_t, 2> s;
    std::array<std::int16_t, 2> sz;
    std::array<std::int16_t, 2> twice_r1;
    std::array<std::int16_t, 2> p1;
    std::array<std::int16_t, 2> p2;
    std::array<std::int16_t, 2> a1;
    std::array<std::int16_t, 2> a2;
    // Block 4's zero section per band, a lane per tap so that the six update as one vector: lane
    // 5 − k holds B(k+1) and D(k+1) (D1, the last quantised difference, in lane 5); lanes 6-7 stay zero.
    alignas(16) std::array<std::int16_t, 8> lower_b;
    alignas(16) std::array<std::int16_t, 8> lower_d;
    alignas(16) std::array<std::int16_t, 8> upper_b;
    alignas(16) std::array<std::int16_t, 8> upper_d;
    // The receive QMF's last inputs XD = RL − RH and XS = RL + RH, oldest first: with the next
    // octet's, the 12 that each branch's taps read.
    std::array<std::int16_t, kQmfTaps - 1> xd;
    std::array<std::int16_t, kQmfTaps - 1> xs;
  };

 private:
  State state_{};
};

}  // namespace chorus::mixer
