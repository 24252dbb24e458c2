#include "mixer/audio/g722_adpcm_decoder.hpp"

#include <algorithm>
#include <cstring>

// x86-64 always has SSE2, whose 16-bit lanes with saturating adds are the reference's arithmetic:
// both bands' scalar state runs side by side in lanes 0 and 1, each band's six zeros in the lanes
// of one vector, the QMF eight octets per vector. Elsewhere, or with CHORUS_G722_PORTABLE defined
// (how that path was checked against spandsp on x86: g722_adpcm_decoder_test compiled with it), the
// same steps run one band and one lane at a time, as the reference words them.
#if defined(__SSE2__) && !defined(CHORUS_G722_PORTABLE)
#define CHORUS_G722_SSE2 1
#include <emmintrin.h>
#endif

namespace chorus::mixer {
// The helpers live in a namespace of their own: the mixer is built in unity batches, where another
// file's anonymous namespace (the resampler's Lanes and kBlock) would meet these names.
namespace g722_adpcm {
namespace {

using State = G722AdpcmDecoder::State;

// INVQBL (block 5L), mode 1: the lower band's quantised difference per 6-bit codeword ILR, in units
// of DETL / 2^15 (the standard's 6-bit levels ×8, ILR's sign applied). The four codewords an
// encoder never sends (0-3) decode as the smallest negative level.
constexpr std::array<std::int16_t, 64> kLowerInverse6 = {
    -136,  -136,  -136,  -136,  -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232,
    -9360, -8576, -7856, -7192, -6576,  -6000,  -5456,  -4944,  -4464,  -4008,  -3576,  -3168,  -2776,
    -2400, -2032, -1688, -1360, -1040,  -728,   24808,  21904,  19008,  16704,  14984,  13512,  12280,
    11192, 10232, 9360,  8576,  7856,   7192,   6576,   6000,   5456,   4944,   4464,   4008,   3576,
    3168,  2776,  2400,  2032,  1688,   1360,   1040,   728,    432,    136,    -432,   -136};

// INVQAL (block 2L): the predictor and the scale factor adapt on the 4-bit code ILR >> 2 in every
// mode, so that a decoder whose low bits carried data stays in step with the encoder.
constexpr std::array<std::int16_t, 16> kLowerInverse4 = {0,     -20456, -12896, -8968, -6288, -4240, -2584, -1200,
                                                         20456, 12896,  8968,   6288,  4240,  2584,  1200,  0};

// LOGSCL (block 3L): the 4-bit code's magnitude RIL4 and the log scale factor's step WL for it.
constexpr std::array<std::uint8_t, 16> kLowerMagnitude4 = {0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0};
constexpr std::array<std::int16_t, 8> kLowerLogStep = {-60, -30, 58, 172, 334, 538, 1198, 3042};

// INVQAH (blocks 2H, 5H): the higher band's quantised difference per 2-bit codeword IH; LOGSCH
// (block 3H): its magnitude RIH2 and the step WH for it.
constexpr std::array<std::int16_t, 4> kUpperInverse2 = {-7408, -1616, 7408, 1616};
constexpr std::array<std::uint8_t, 4> kUpperMagnitude2 = {2, 1, 2, 1};
constexpr std::array<std::int16_t, 3> kUpperLogStep = {0, -214, 798};

// SCALEL / SCALEH (blocks 3L, 3H): the antilog's mantissa, 2^(11 + i/32) rounded, i = NB's bits 10-6.
constexpr std::array<std::int32_t, 32> kAntilog = {2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543,
                                                   2599, 2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228,
                                                   3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008};

// NB's bounds (blocks 3L, 3H) and the exponent SCALEL / SCALEH subtract: DETL = mantissa ·
// 2^(NBL/2048 − 8) · 4, DETH the same with 10.
constexpr std::int16_t kLowerMaxNb = 18432;
constexpr std::int16_t kUpperMaxNb = 22528;
constexpr int kLowerScaleBase = 8;
constexpr int kUpperScaleBase = 10;

// SCALEL / SCALEH precomputed, indexed by NB >> 6 (all of NB they read: bits 10-6 pick the
// mantissa, the bits above the exponent): one lookup instead of a mantissa, an exponent and a shift.
template <std::size_t kEntries>
constexpr std::array<std::int16_t, kEntries> scale_factors(int base) {
  std::array<std::int16_t, kEntries> det{};
  for (std::size_t i = 0; i < kEntries; ++i) {
    const std::int32_t mantissa = kAntilog[i & 31];
    const int exponent = static_cast<int>(i >> 5) - base;  // NB >> 11, less the base
    det[i] = static_cast<std::int16_t>((exponent >= 0 ? mantissa << exponent : mantissa >> -exponent) << 2);
  }
  return det;
}
constexpr auto kLowerScale = scale_factors<(kLowerMaxNb >> 6) + 1>(kLowerScaleBase);
constexpr auto kUpperScale = scale_factors<(kUpperMaxNb >> 6) + 1>(kUpperScaleBase);

// The receive QMF's coefficients (Table 11/G.722: h0..h23, symmetric) per polyphase branch, in the
// order of its inputs, oldest first: a pair's first sample is Σ h(2i)·XD(j−i), its second
// Σ h(2i+1)·XS(j−i), i = 0..11.
constexpr std::array<std::int16_t, G722AdpcmDecoder::kQmfTaps> kQmfEven = {-11, 53,   -156, 362, -805, 3876,
                                                                           951, -210, 32,   12,  -11,  3};
constexpr std::array<std::int16_t, G722AdpcmDecoder::kQmfTaps> kQmfOdd = {3,    -11,  12,  32,   -210, 951,
                                                                          3876, -805, 362, -156, 53,   -11};

// The QMF's sum scaled back to 16 bits (its DC gain is 4096, less one bit for the 15-bit sub-band
// signals) and clipped there, as the reference's output limiter and FFmpeg's avdec_g722 do. spandsp
// 0.0.6 truncates to 16 bits instead, so an overload wraps around: a full-scale sample of the wrong
// sign, a click. Speech at sane levels never gets there; a full-scale sweep, square wave or clipped
// speech overloads one or two samples in a hundred (g722_adpcm_decoder_test's signals), and those
// are the only samples where this decoder and spandsp's differ.
inline float qmf_sample(std::int32_t sum) {
  return static_cast<float>(std::clamp<std::int32_t>(sum >> 11, -32768, 32767));
}

#if defined(CHORUS_G722_SSE2)

// Per codeword, the quantisers' levels in the lanes they are scaled in: [INVQBL's for ILR, INVQAH's
// for IH, INVQAL's for ILR >> 2, INVQAH's again]: one load and one multiply give RL's and RH's
// differences and the two that adapt the predictors.
alignas(8) constexpr std::array<std::array<std::int16_t, 4>, 256> kInverseByCode = [] {
  std::array<std::array<std::int16_t, 4>, 256> levels{};
  for (std::size_t code = 0; code < levels.size(); ++code) {
    const std::int16_t upper = kUpperInverse2[code >> 6];
    levels[code] = {kLowerInverse6[code & 0x3F], upper, kLowerInverse4[(code & 0x3F) >> 2], upper};
  }
  return levels;
}();

// Per codeword, LOGSCL's and LOGSCH's steps [WL, WH].
alignas(4) constexpr std::array<std::array<std::int16_t, 2>, 256> kLogStepByCode = [] {
  std::array<std::array<std::int16_t, 2>, 256> steps{};
  for (std::size_t code = 0; code < steps.size(); ++code)
    steps[code] = {kLowerLogStep[kLowerMagnitude4[(code & 0x3F) >> 2]], kUpperLogStep[kUpperMagnitude2[code >> 6]]};
  return steps;
}();

[[gnu::always_inline]] inline __m128i load_pair(const std::array<std::int16_t, 2>& pair) {
  std::int32_t bits = 0;
  std::memcpy(&bits, pair.data(), sizeof bits);
  return _mm_cvtsi32_si128(bits);
}

[[gnu::always_inline]] inline void store_pair(std::array<std::int16_t, 2>& pair, __m128i lanes) {
  const std::int32_t bits = _mm_cvtsi128_si32(lanes);
  std::memcpy(pair.data(), &bits, sizeof bits);
}

[[gnu::always_inline]] inline __m128i load_lanes(const std::int16_t* lanes) {
  return _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
}

[[gnu::always_inline]] inline void store_lanes(std::int16_t* lanes, __m128i values) {
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), values);
}

[[gnu::always_inline]] inline __m128i clamp_lanes(__m128i x, std::int16_t low, std::int16_t high) {
  return _mm_min_epi16(_mm_max_epi16(x, _mm_set1_epi16(low)), _mm_set1_epi16(high));
}

// (x·y) >> 15 per lane, rounded down as the reference's shifts are: the high half doubled, plus one
// when the low half's top bit is set. Exact whenever the result fits 16 bits, which every use
// below does.
[[gnu::always_inline]] inline __m128i multiply_q15(__m128i x, __m128i y) {
  const __m128i high = _mm_mulhi_epi16(x, y);
  return _mm_sub_epi16(_mm_add_epi16(high, high), _mm_cmplt_epi16(_mm_mullo_epi16(x, y), _mm_setzero_si128()));
}

// −1 in the lanes where x and y differ in sign (a sign of zero is positive), 0 elsewhere.
[[gnu::always_inline]] inline __m128i signs_differ(__m128i x, __m128i y) {
  return _mm_cmplt_epi16(_mm_xor_si128(x, y), _mm_setzero_si128());
}

// Two horizontal sums at once: [Σx, Σx, Σy, Σy] of two vectors of four 32-bit lanes.
[[gnu::always_inline]] inline __m128i sum_both(__m128i x, __m128i y) {
  const __m128i halves = _mm_add_epi32(_mm_unpacklo_epi64(x, y), _mm_unpackhi_epi64(x, y));
  return _mm_add_epi32(halves, _mm_shuffle_epi32(halves, 0xB1));
}

// The decoder's state in registers for the length of a packet. Pairs hold the lower band in lane
// 0 and the higher in lane 1; the other lanes carry don't-cares that never move into those two.
struct Lanes {
  explicit Lanes(const State& state)
      : nb(load_pair(state.nb)),
        det(_mm_shuffle_epi32(load_pair(state.det), 0x00)),
        s(load_pair(state.s)),
        sz(load_pair(state.sz)),
        twice_r1(load_pair(state.twice_r1)),
        p1(load_pair(state.p1)),
        p2(load_pair(state.p2)),
        a1(load_pair(state.a1)),
        a2(load_pair(state.a2)),
        lower_b(load_lanes(state.lower_b.data())),
        lower_d(load_lanes(state.lower_d.data())),
        upper_b(load_lanes(state.upper_b.data())),
        upper_d(load_lanes(state.upper_d.data())) {}

  void store(State& state) const {
    store_pair(state.nb, nb);
    store_pair(state.det, det);
    store_pair(state.s, s);
    store_pair(state.sz, sz);
    store_pair(state.twice_r1, twice_r1);
    store_pair(state.p1, p1);
    store_pair(state.p2, p2);
    store_pair(state.a1, a1);
    store_pair(state.a2, a2);
    store_lanes(state.lower_b.data(), lower_b);
    store_lanes(state.lower_d.data(), lower_d);
    store_lanes(state.upper_b.data(), upper_b);
    store_lanes(state.upper_d.data(), upper_d);
  }

  __m128i nb;
  __m128i det;  // [DETL, DETH] in each 32-bit lane, to scale kInverseByCode's four levels at once
  __m128i s;
  __m128i sz;
  __m128i twice_r1;
  __m128i p1;
  __m128i p2;
  __m128i a1;
  __m128i a2;
  __m128i lower_b;
  __m128i lower_d;
  __m128i upper_b;
  __m128i upper_d;
};

// LOGSCL + SCALEL (block 3L) and LOGSCH + SCALEH (3H): NB leaks by 127/128 (rounded down: NB −
// ⌈NB/128⌉) and steps by the code's WL / WH within [0, max]; DET is its antilog, looked up.
[[gnu::always_inline]] inline void adapt_scales(Lanes& v, __m128i steps) {
  const __m128i leaked = _mm_sub_epi16(v.nb, _mm_srai_epi16(_mm_add_epi16(v.nb, _mm_set1_epi16(127)), 7));
  v.nb = _mm_min_epi16(_mm_max_epi16(_mm_add_epi16(leaked, steps), _mm_setzero_si128()),
                       _mm_setr_epi16(kLowerMaxNb, kUpperMaxNb, 0, 0, 0, 0, 0, 0));
  const auto nb = static_cast<std::uint32_t>(_mm_cvtsi128_si32(v.nb));
  const std::uint32_t det = static_cast<std::uint16_t>(kLowerScale[(nb & 0xFFFFU) >> 6]) |
                            static_cast<std::uint32_t>(static_cast<std::uint16_t>(kUpperScale[nb >> 22])) << 16;
  v.det = _mm_shuffle_epi32(_mm_cvtsi32_si128(static_cast<std::int32_t>(det)), 0x00);
}

// Block 4's pole section for both bands (RECONS, PARREC, UPPOL2, UPPOL1, DELAYA, FILTEP), given
// [DLT, DH]: returns SP. The reference's 16-bit saturating adds are paddsw's; where its operands'
// bounds make one a no-op (noted) a plain add stands in.
[[gnu::always_inline]] inline __m128i adapt_poles(Lanes& v, __m128i dq) {
  const __m128i r = _mm_adds_epi16(v.s, dq);   // RECONS
  const __m128i p = _mm_adds_epi16(v.sz, dq);  // PARREC
  // The sign-sign updates compare P with P1 and P2 (a sign of zero is positive): −1 where they differ.
  const __m128i differ_p1 = signs_differ(p, v.p1);
  const __m128i differ_p2 = signs_differ(p, v.p2);
  // UPPOL2's gradient term is (∓sat(4·A1)) >> 7, − when the signs agree, with the reference's
  // 16-bit saturations (4·A1 saturates once |A1| ≥ 8192, and −(−32768) gives 32767; random
  // codewords reach both): that is exactly (∓A1) >> 5 bounded to [−256, 255]. A2 leaks by 127/128.
  const __m128i agree_p1 = _mm_xor_si128(differ_p1, _mm_set1_epi16(-1));
  const __m128i gradient =
      clamp_lanes(_mm_srai_epi16(_mm_sub_epi16(_mm_xor_si128(v.a1, agree_p1), agree_p1), 5), -256, 255);
  const __m128i a2_leaked = _mm_sub_epi16(v.a2, _mm_srai_epi16(_mm_add_epi16(v.a2, _mm_set1_epi16(127)), 7));
  const __m128i p2_step = _mm_sub_epi16(_mm_set1_epi16(128), _mm_and_si128(differ_p2, _mm_set1_epi16(256)));
  const __m128i a2 = clamp_lanes(_mm_add_epi16(_mm_add_epi16(gradient, p2_step), a2_leaked), -12288, 12288);
  // UPPOL1: A1 leaks by 255/256 and steps ±192, within ±(15360 − A2), so within ±27648: the
  // reference's saturation of that sum (at most 27840) is a no-op.
  const __m128i a1_leaked = _mm_sub_epi16(v.a1, _mm_srai_epi16(_mm_add_epi16(v.a1, _mm_set1_epi16(255)), 8));
  const __m128i p1_step = _mm_sub_epi16(_mm_set1_epi16(192), _mm_and_si128(differ_p1, _mm_set1_epi16(384)));
  const __m128i limit = _mm_sub_epi16(_mm_set1_epi16(15360), a2);
  const __m128i a1 =
      _mm_min_epi16(_mm_max_epi16(_mm_add_epi16(p1_step, a1_leaked), _mm_sub_epi16(_mm_setzero_si128(), limit)), limit);
  // DELAYA, then FILTEP on the new coefficients and the last two R (each 2·R saturated).
  const __m128i twice_r = _mm_adds_epi16(r, r);
  const __m128i sp = _mm_adds_epi16(multiply_q15(a1, twice_r), multiply_q15(a2, v.twice_r1));
  v.twice_r1 = twice_r;
  v.p2 = v.p1;
  v.p1 = p;
  v.a1 = a1;
  v.a2 = a2;
  return sp;
}

// Block 4's zero section of one band, given DQ in every lane: UPZERO (each B leaks by 255/256 and
// steps 128 towards DQ's sign against its D's, not at all when DQ is 0; lanes 6-7 stay zero), DELAYA
// (D6 leaves by lane 0, DQ enters as D1 in lane 5) and FILTEZ's products (B·2D) >> 15, each
// rounded down on its own as the reference does: twice the high halves plus the low halves' top
// bits. Returns them summed into four 32-bit lanes.
[[gnu::always_inline]] inline __m128i adapt_zeros(__m128i& b, __m128i& d, __m128i dq) {
  const __m128i differ = signs_differ(d, dq);
  const __m128i step =
      _mm_andnot_si128(_mm_cmpeq_epi16(dq, _mm_setzero_si128()), _mm_setr_epi16(128, 128, 128, 128, 128, 128, 0, 0));
  b = _mm_adds_epi16(_mm_sub_epi16(_mm_xor_si128(step, differ), differ), multiply_q15(b, _mm_set1_epi16(32640)));
  d = _mm_or_si128(_mm_srli_si128(d, 2), _mm_and_si128(dq, _mm_setr_epi16(0, 0, 0, 0, 0, -1, 0, 0)));
  const __m128i twice_d = _mm_adds_epi16(d, d);
  const __m128i high = _mm_mulhi_epi16(b, twice_d);
  const __m128i carry = _mm_srli_epi16(_mm_mullo_epi16(b, twice_d), 15);
  return _mm_add_epi32(_mm_madd_epi16(high, _mm_set1_epi16(2)), _mm_madd_epi16(carry, _mm_set1_epi16(1)));
}

// The sub-band decoders over a block of octets: each octet's RL and RH leave as the receive QMF's
// inputs XD = RL − RH and XS = RL + RH (both within 16 bits: RL and RH are within ±16384).
void decode_subbands(Lanes& v, std::span<const std::uint8_t> codes, std::int16_t* xd, std::int16_t* xs) {
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const std::uint8_t code = codes[i];
    // INVQBL, INVQAH, INVQAL (blocks 5L, 2H, 2L) on the last DET: [DL, DH, DLT, DH]; RECONS and
    // LIMIT (5L/6L, 5H/6H) give RL and RH; the predictors adapt on DLT and DH.
    const __m128i levels = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(kInverseByCode[code].data()));
    const __m128i differences = multiply_q15(v.det, levels);
    const __m128i rl_rh = clamp_lanes(_mm_adds_epi16(v.s, differences), -16384, 16383);
    const __m128i dq = _mm_shuffle_epi32(differences, 0x01);
    adapt_scales(v, load_pair(kLogStepByCode[code]));
    const __m128i sp = adapt_poles(v, dq);
    const __m128i dq_pairs = _mm_unpacklo_epi16(dq, dq);  // [DLT, DLT, DH, DH, ...]
    const __m128i lower_sums = adapt_zeros(v.lower_b, v.lower_d, _mm_shuffle_epi32(dq_pairs, 0x00));
    const __m128i upper_sums = adapt_zeros(v.upper_b, v.upper_d, _mm_shuffle_epi32(dq_pairs, 0x55));
    // FILTEZ's sums, saturated to 16 bits by the pack: [SZL, SZH]; PREDIC: S = SP + SZ.
    const __m128i sz = _mm_shuffle_epi32(sum_both(lower_sums, upper_sums), 0x08);
    v.sz = _mm_packs_epi32(sz, sz);
    v.s = _mm_adds_epi16(sp, v.sz);

    const auto bits = static_cast<std::uint32_t>(_mm_cvtsi128_si32(rl_rh));
    const std::int32_t rl = static_cast<std::int16_t>(bits & 0xFFFFU);
    const std::int32_t rh = static_cast<std::int16_t>(bits >> 16);
    xd[i] = static_cast<std::int16_t>(rl - rh);
    xs[i] = static_cast<std::int16_t>(rl + rh);
  }
}

// Octets per pass: the sub-band loop fills a block's QMF inputs behind the last 11, then the QMF
// runs over the block with the octets in the vector lanes (no loop-carried state: it is a FIR).
constexpr std::size_t kBlock = 64;
constexpr std::size_t kHistory = G722AdpcmDecoder::kQmfTaps - 1;

// Two taps' coefficients as one 32-bit lane, for pmaddwd over pairs of consecutive inputs.
constexpr std::int32_t tap_pair(const std::array<std::int16_t, G722AdpcmDecoder::kQmfTaps>& taps, std::size_t tap) {
  return static_cast<std::int32_t>(static_cast<std::uint16_t>(taps[tap]) |
                                   static_cast<std::uint32_t>(static_cast<std::uint16_t>(taps[tap + 1])) << 16);
}

// One branch of the receive QMF for eight consecutive octets j..j+7 of `inputs` (the 11 before
// them first): Σ taps[k]·inputs[j + k], k = 0..11, as six multiply-adds of tap pairs per four
// octets. Returns octets j..j+3 in `low`, j+4..j+7 in `high`.
[[gnu::always_inline]] inline void filter_branch(const std::int16_t* inputs,
                                                 const std::array<std::int16_t, G722AdpcmDecoder::kQmfTaps>& taps,
                                                 __m128i& low, __m128i& high) {
  low = _mm_setzero_si128();
  high = _mm_setzero_si128();
  for (std::size_t tap = 0; tap < G722AdpcmDecoder::kQmfTaps; tap += 2) {
    const __m128i coefficients = _mm_set1_epi32(tap_pair(taps, tap));
    const __m128i first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(inputs + tap));
    const __m128i second = _mm_loadu_si128(reinterpret_cast<const __m128i*>(inputs + tap + 1));
    low = _mm_add_epi32(low, _mm_madd_epi16(_mm_unpacklo_epi16(first, second), coefficients));
    high = _mm_add_epi32(high, _mm_madd_epi16(_mm_unpackhi_epi16(first, second), coefficients));
  }
}

// A branch's sums as samples: >> 11, clipped to 16 bits (qmf_sample's limit; the pack saturates,
// the unpack and shift sign-extend back), as floats.
[[gnu::always_inline]] inline __m128 branch_samples(__m128i sums) {
  const __m128i clipped = _mm_packs_epi32(_mm_srai_epi32(sums, 11), _mm_setzero_si128());
  return _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(clipped, clipped), 16));
}

// The receive QMF over `count` octets' XD and XS (each preceded by the 11 before), two samples per
// octet into `out`, which has room for `count` rounded up to eight octets.
void synthesise(const std::int16_t* xd, const std::int16_t* xs, std::size_t count, float* out) {
  for (std::size_t j = 0; j < count; j += 8) {
    __m128i even_low;
    __m128i even_high;
    __m128i odd_low;
    __m128i odd_high;
    filter_branch(xd + j, kQmfEven, even_low, even_high);
    filter_branch(xs + j, kQmfOdd, odd_low, odd_high);
    const __m128 first_low = branch_samples(even_low);
    const __m128 first_high = branch_samples(even_high);
    const __m128 second_low = branch_samples(odd_low);
    const __m128 second_high = branch_samples(odd_high);
    float* const pairs = out + 2 * j;
    _mm_store_ps(pairs, _mm_unpacklo_ps(first_low, second_low));
    _mm_store_ps(pairs + 4, _mm_unpackhi_ps(first_low, second_low));
    _mm_store_ps(pairs + 8, _mm_unpacklo_ps(first_high, second_high));
    _mm_store_ps(pairs + 12, _mm_unpackhi_ps(first_high, second_high));
  }
}

std::size_t decode_lanes(State& state, std::span<const std::uint8_t> payload, std::span<float> out) {
  Lanes v(state);
  // The QMF's inputs: the history, a block, and room for the last group's loads to read past it.
  alignas(16) std::array<std::int16_t, kHistory + kBlock + 16> xd{};
  alignas(16) std::array<std::int16_t, kHistory + kBlock + 16> xs{};
  alignas(16) std::array<float, 2 * kBlock> samples;
  std::copy(state.xd.begin(), state.xd.end(), xd.begin());
  std::copy(state.xs.begin(), state.xs.end(), xs.begin());
  std::size_t written = 0;
  for (std::size_t start = 0; start < payload.size(); start += kBlock) {
    const std::size_t count = std::min(kBlock, payload.size() - start);
    decode_subbands(v, payload.subspan(start, count), xd.data() + kHistory, xs.data() + kHistory);
    const std::size_t wanted = std::min(2 * count, out.size() - written);
    if (wanted > 0) {
      synthesise(xd.data(), xs.data(), count, samples.data());
      std::copy_n(samples.begin(), wanted, out.begin() + static_cast<std::ptrdiff_t>(written));
      written += wanted;
    }
    // The block's last 11 inputs are the next one's history.
    std::copy_n(xd.begin() + static_cast<std::ptrdiff_t>(count), kHistory, xd.begin());
    std::copy_n(xs.begin() + static_cast<std::ptrdiff_t>(count), kHistory, xs.begin());
  }
  v.store(state);
  std::copy_n(xd.begin(), kHistory, state.xd.begin());
  std::copy_n(xs.begin(), kHistory, state.xs.begin());
  return written;
}

#else

// The reference's 16-bit saturation (its "limit").
std::int32_t saturate16(std::int32_t value) {
  return std::clamp<std::int32_t>(value, -32768, 32767);
}

// LOGSCL + SCALEL (block 3L) or LOGSCH + SCALEH (3H) for one band.
template <std::size_t kEntries>
void adapt_scale(State& state, std::size_t band, std::int32_t step, std::int32_t max_nb,
                 const std::array<std::int16_t, kEntries>& scale) {
  const std::int32_t nb = std::clamp<std::int32_t>(((state.nb[band] * 32512) >> 15) + step, 0, max_nb);
  state.nb[band] = static_cast<std::int16_t>(nb);
  state.det[band] = scale[static_cast<std::size_t>(nb >> 6)];
}

// Block 4 for one band, as the reference words it (every saturation kept).
void adapt_predictor(State& state, std::size_t band, std::array<std::int16_t, 8>& b, std::array<std::int16_t, 8>& d,
                     std::int32_t dq) {
  const std::int32_t r = saturate16(state.s[band] + dq);   // RECONS
  const std::int32_t p = saturate16(state.sz[band] + dq);  // PARREC
  const bool same_p1 = (p ^ state.p1[band]) >= 0;
  const bool same_p2 = (p ^ state.p2[band]) >= 0;
  const std::int32_t a1 = state.a1[band];
  const std::int32_t a2 = state.a2[band];
  const std::int32_t a1_times_4 = saturate16(a1 * 4);  // UPPOL2
  const std::int32_t gradient = (same_p1 ? saturate16(-a1_times_4) : a1_times_4) >> 7;
  const std::int32_t next_a2 =
      std::clamp<std::int32_t>(gradient + (same_p2 ? 128 : -128) + ((a2 * 32512) >> 15), -12288, 12288);
  const std::int32_t limit = 15360 - next_a2;  // UPPOL1
  const std::int32_t next_a1 =
      std::clamp<std::int32_t>(saturate16((same_p1 ? 192 : -192) + ((a1 * 32640) >> 15)), -limit, limit);
  const std::int32_t twice_r = saturate16(r + r);  // FILTEP
  const std::int32_t sp = saturate16(((next_a1 * twice_r) >> 15) + ((next_a2 * state.twice_r1[band]) >> 15));
  const std::int32_t step = dq == 0 ? 0 : 128;  // UPZERO
  for (std::size_t lane = 0; lane < 6; ++lane)
    b[lane] = static_cast<std::int16_t>(saturate16(((d[lane] ^ dq) >= 0 ? step : -step) + ((b[lane] * 32640) >> 15)));
  std::copy(d.begin() + 1, d.begin() + 6, d.begin());  // DELAYA
  d[5] = static_cast<std::int16_t>(dq);
  std::int32_t sz = 0;  // FILTEZ
  for (std::size_t lane = 0; lane < 6; ++lane) sz += (b[lane] * saturate16(d[lane] + d[lane])) >> 15;
  sz = saturate16(sz);
  state.s[band] = static_cast<std::int16_t>(saturate16(sp + sz));  // PREDIC
  state.sz[band] = static_cast<std::int16_t>(sz);
  state.twice_r1[band] = static_cast<std::int16_t>(twice_r);
  state.p2[band] = state.p1[band];
  state.p1[band] = static_cast<std::int16_t>(p);
  state.a1[band] = static_cast<std::int16_t>(next_a1);
  state.a2[band] = static_cast<std::int16_t>(next_a2);
}

// The receive QMF: shifts XD = RL − RH and XS = RL + RH in and returns the pair's two sums.
std::array<std::int32_t, 2> synthesise(State& state, std::int32_t rl, std::int32_t rh) {
  std::array<std::int32_t, 2> sums{};
  for (std::size_t tap = 0; tap + 1 < G722AdpcmDecoder::kQmfTaps; ++tap) {
    sums[0] += kQmfEven[tap] * state.xd[tap];
    sums[1] += kQmfOdd[tap] * state.xs[tap];
  }
  const std::int32_t xd = rl - rh;
  const std::int32_t xs = rl + rh;
  sums[0] += kQmfEven[G722AdpcmDecoder::kQmfTaps - 1] * xd;
  sums[1] += kQmfOdd[G722AdpcmDecoder::kQmfTaps - 1] * xs;
  std::copy(state.xd.begin() + 1, state.xd.end(), state.xd.begin());
  std::copy(state.xs.begin() + 1, state.xs.end(), state.xs.begin());
  state.xd.back() = static_cast<std::int16_t>(xd);
  state.xs.back() = static_cast<std::int16_t>(xs);
  return sums;
}

std::size_t decode_lanes(State& state, std::span<const std::uint8_t> payload, std::span<float> out) {
  std::size_t written = 0;
  for (const std::uint8_t code : payload) {
    const std::size_t ilr = code & 0x3FU;
    const std::size_t ih = code >> 6;
    const std::int32_t rl =
        std::clamp<std::int32_t>(state.s[0] + ((state.det[0] * kLowerInverse6[ilr]) >> 15), -16384, 16383);
    const std::int32_t dlt = (state.det[0] * kLowerInverse4[ilr >> 2]) >> 15;
    const std::int32_t dh = (state.det[1] * kUpperInverse2[ih]) >> 15;
    const std::int32_t rh = std::clamp<std::int32_t>(state.s[1] + dh, -16384, 16383);
    adapt_scale(state, 0, kLowerLogStep[kLowerMagnitude4[ilr >> 2]], kLowerMaxNb, kLowerScale);
    adapt_scale(state, 1, kUpperLogStep[kUpperMagnitude2[ih]], kUpperMaxNb, kUpperScale);
    adapt_predictor(state, 0, state.lower_b, state.lower_d, dlt);
    adapt_predictor(state, 1, state.upper_b, state.upper_d, dh);
    for (const std::int32_t sum : synthesise(state, rl, rh))
      if (written < out.size()) out[written++] = qmf_sample(sum);
  }
  return written;
}

#endif

}  // namespace
}  // namespace g722_adpcm

void G722AdpcmDecoder::reset() noexcept {
  state_ = State{};
  state_.det = {32, 8};
}

std::size_t G722AdpcmDecoder::decode(std::span<const std::uint8_t> payload, std::span<float> out) noexcept {
  return g722_adpcm::decode_lanes(state_, payload, out);
}

}  // namespace chorus::mixer
