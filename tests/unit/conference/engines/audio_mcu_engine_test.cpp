// audio_member_spec: what the audio MCU is told of a member's negotiated audio, here the RFC 6464
// level extension's id, which lets the room leave a quiet Opus member's frames undecoded.
#include "conference/engines/audio_mcu_engine.hpp"

#include <gtest/gtest.h>

#include "signaling/sdp/rtp_attributes.hpp"

namespace chorus::conference {
namespace audio_mcu_engine_test {

sdp::NegotiatedStream opus_stream(std::vector<sdp::HeaderExtension> extensions) {
  sdp::NegotiatedStream stream;
  stream.codec = sdp::Codec{"opus", 48000, 2};
  stream.payload_type = 111;
  stream.extensions = std::move(extensions);
  return stream;
}

TEST(AudioMemberSpec, CarriesTheNegotiatedAudioLevelExtensionId) {
  const EngineMember member{.participant_id = 7};
  const auto spec = audio_member_spec(
      member, opus_stream({{std::string(sdp::kMidExtensionUri), 3}, {std::string(sdp::kAudioLevelUri), 5}}));
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->codec, mixer::AudioCodec::kOpus);
  EXPECT_EQ(spec->payload_type, 111);
  EXPECT_EQ(spec->audio_level_extension_id, 5);
}

TEST(AudioMemberSpec, NoLevelsWithoutTheExtensionOrWithATwoByteId) {
  const EngineMember member{.participant_id = 7};
  EXPECT_EQ(audio_member_spec(member, opus_stream({}))->audio_level_extension_id, 0);
  // RFC 8285 §4.3's two-byte ids (with extmap-allow-mixed) are not read by the mixer.
  EXPECT_EQ(audio_member_spec(member, opus_stream({{std::string(sdp::kAudioLevelUri), 15}}))->audio_level_extension_id,
            0);
}

}  // namespace audio_mcu_engine_test
}  // namespace chorus::conference
