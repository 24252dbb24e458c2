#include "mixer/audio/audio_codec.hpp"

#include <array>
#include <cctype>

namespace chorus::mixer {
namespace {

// G.711 (RFC 3551 §4.5.14): one octet per 8 kHz sample. G.722 (ITU-T G.722, 64 kbit/s mode):
// one octet per two 16 kHz samples, so also 160 octets per 20 ms. Its level is the ITU-T
// reference's with 16-bit linear PCM at full scale, as spandsp and baresip use it: avenc_g722
// (libavcodec) matches spandsp within 0.01 dB, no gain stage needed, and the decoder gives spandsp's
// samples (tests/unit/mixer/audio/g722_level_test.cpp; issue 15). A phone 6 dB off from it treats the
// samples as 14-bit, the classic G.722 trap.
constexpr std::array<AudioCodecInfo, 4> kCodecs{{
    {AudioCodec::kPcmu, "PCMU", 8000, 8000, true, 160, "mulawenc"},
    {AudioCodec::kPcma, "PCMA", 8000, 8000, true, 160, "alawenc"},
    {AudioCodec::kG722, "G722", 8000, 16000, true, 160, "avenc_g722"},
    {AudioCodec::kOpus, "OPUS", 48000, 48000, false, 0, "opusenc"},
}};

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

const AudioCodecInfo& codec_info(AudioCodec codec) {
  return kCodecs[static_cast<std::size_t>(codec)];
}

std::optional<AudioCodec> audio_codec_from_name(std::string_view encoding_name) {
  for (const auto& info : kCodecs)
    if (equal_ignoring_case(info.encoding_name, encoding_name)) return info.codec;
  return std::nullopt;
}

}  // namespace chorus::mixer
