// AudioRoom on a real media worker over loopback: phones (UDP sockets speaking plain RTP with
// G.711 µ-law) send tones into one room, and what each hears is decoded and measured. The room's
// whole path runs: session → jitter buffer → decoder → N−1 mix → shared/own encoders → RTP out.
// Waits are bounded; the assertions are on audio content, not on timing.
#include "mixer/audio/audio_room.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <future>
#include <mutex>
#include <numbers>
#include <string_view>
#include <thread>
#include <vector>

#include "media/transport/socket_address.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "tests/unit/mixer/audio/opus_test_encoder.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"
#include "tests/unit/mixer/held_chain_thread.hpp"
#include "tests/unit/test_support/free_udp_ports.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::mixer {
namespace audio_room_test {

using namespace std::chrono_literals;
using testing::goertzel_power;

constexpr std::uint8_t kPcmu = 0;
constexpr std::uint8_t kTelephoneEvent = 101;
constexpr std::uint8_t kOpus = 111;
// Goertzel energy (dB) of a tone over 0.6 s at 8 kHz: the phones' tones (amplitude 8000, mixed
// and limited) measure about 145 dB; a tone that is not there, only G.711 quantisation noise.
constexpr double kAudibleDb = 120.0;
constexpr double kInaudibleDb = 90.0;

// ITU-T G.711 µ-law, the textbook segment coding.
std::uint8_t mulaw_encode(std::int16_t sample) {
  constexpr int kBias = 0x84;
  int value = sample;
  const int sign = value < 0 ? 0x80 : 0;
  if (value < 0) value = -value;
  value = std::min(value, 32635) + kBias;
  int exponent = 7;
  for (int mask = 0x4000; (value & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (value >> (exponent + 3)) & 0x0F;
  return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

std::int16_t mulaw_decode(std::uint8_t code) {
  code = static_cast<std::uint8_t>(~code);
  const int exponent = (code >> 4) & 0x07;
  const int mantissa = code & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<std::int16_t>((code & 0x80) != 0 ? -magnitude : magnitude);
}

// A phone: one loopback UDP socket sending 20 ms of a tone per call and decoding what it hears.
class Phone {
 public:
  explicit Phone(double tone_hz) : tone_hz_(tone_hz) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    auto any = media::to_sockaddr(*media::parse_transport_address("127.0.0.1", 0));
    EXPECT_EQ(::bind(fd_, any.get(), any.length), 0);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    address_ = *media::from_sockaddr(local, length);
  }
  ~Phone() { ::close(fd_); }
  Phone(const Phone&) = delete;
  Phone& operator=(const Phone&) = delete;

  void send_frame(const media::TransportAddress& to, bool silent = false) {
    std::array<std::uint8_t, 12 + 160> packet{0x80, kPcmu};
    write_header(packet, kPcmu, sequence_++, timestamp_);
    for (std::size_t i = 0; i < 160; ++i) {
      const double t = static_cast<double>(timestamp_ + i) / 8000.0;
      const double value = silent ? 0.0 : 8000.0 * std::sin(2.0 * std::numbers::pi * tone_hz_ * t);
      packet[12 + i] = mulaw_encode(static_cast<std::int16_t>(std::lround(value)));
    }
    timestamp_ += 160;
    send(to, packet);
  }

  // One Opus packet (RFC 7587: 48 kHz clock) carrying the sender's RFC 6464 level in an RFC 8285
  // one-byte header extension with id 1, as a browser sends it.
  void send_opus(const media::TransportAddress& to, std::span<const std::uint8_t> payload, std::uint8_t level) {
    std::vector<std::uint8_t> packet(12 + 8 + payload.size());
    write_header(packet, kOpus, sequence_++, timestamp_);
    packet[0] |= 0x10;  // X
    constexpr std::array<std::uint8_t, 4> kOneByteProfile{0xBE, 0xDE, 0x00, 0x01};
    std::copy(kOneByteProfile.begin(), kOneByteProfile.end(), packet.begin() + 12);
    packet[16] = 0x10;  // id 1, one byte of data
    packet[17] = level;
    std::copy(payload.begin(), payload.end(), packet.begin() + 20);
    timestamp_ += 960;
    send(to, packet);
  }

  // RFC 4733 §2.3: one key press as a start packet and three end packets, all with one timestamp.
  void press_key(const media::TransportAddress& to, std::uint8_t event) {
    for (int i = 0; i < 4; ++i) {
      std::array<std::uint8_t, 16> packet{};
      write_header(packet, kTelephoneEvent, sequence_++, timestamp_);
      packet[12] = event;
      packet[13] = static_cast<std::uint8_t>((i > 0 ? 0x80 : 0x00) | 10);  // E bit, volume 10
      packet[15] = static_cast<std::uint8_t>(160 * (i + 1));
      send(to, packet);
    }
  }

  // Everything received so far, decoded to 8 kHz samples (PCMU packets only).
  void drain() {
    std::array<std::uint8_t, 2048> buffer{};
    for (int i = 0; i < 1000; ++i) {
      const ssize_t got = ::recv(fd_, buffer.data(), buffer.size(), 0);
      if (got <= 12) return;
      if ((buffer[1] & 0x7F) != kPcmu || (buffer[0] & 0xC0) != 0x80) continue;  // RTCP and the like
      ++packets_;
      for (ssize_t j = 12; j < got; ++j) heard_.push_back(mulaw_decode(buffer[static_cast<std::size_t>(j)]));
    }
  }

  // dB of `hz` over `reference_hz` in the last `seconds` heard.
  [[nodiscard]] double db_over(double hz, double reference_hz, double seconds) const {
    const std::size_t n = std::min(heard_.size(), static_cast<std::size_t>(seconds * 8000));
    const std::span<const std::int16_t> tail(heard_.data() + heard_.size() - n, n);
    return 10.0 * std::log10((goertzel_power(tail, hz, 8000) + 1.0) / (goertzel_power(tail, reference_hz, 8000) + 1.0));
  }
  [[nodiscard]] double energy_db(double hz, double seconds) const {
    const std::size_t n = std::min(heard_.size(), static_cast<std::size_t>(seconds * 8000));
    const std::span<const std::int16_t> tail(heard_.data() + heard_.size() - n, n);
    return 10.0 * std::log10(goertzel_power(tail, hz, 8000) + 1.0);
  }

  [[nodiscard]] const media::TransportAddress& address() const { return address_; }
  [[nodiscard]] std::size_t packets() const { return packets_; }
  void forget() { heard_.clear(); }

 private:
  static void write_header(std::span<std::uint8_t> packet, std::uint8_t payload_type, std::uint16_t sequence,
                           std::uint32_t timestamp) {
    packet[0] = 0x80;
    packet[1] = payload_type;
    packet[2] = static_cast<std::uint8_t>(sequence >> 8);
    packet[3] = static_cast<std::uint8_t>(sequence);
    for (int i = 0; i < 4; ++i) packet[4 + i] = static_cast<std::uint8_t>(timestamp >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) packet[8 + i] = static_cast<std::uint8_t>(0x10 + i);
  }
  void send(const media::TransportAddress& to, std::span<const std::uint8_t> datagram) const {
    auto address = media::to_sockaddr(to);
    ::sendto(fd_, datagram.data(), datagram.size(), 0, address.get(), address.length);
  }

  double tone_hz_;
  int fd_ = -1;
  media::TransportAddress address_;
  std::uint16_t sequence_ = 100;
  std::uint32_t timestamp_ = 8000;
  std::vector<std::int16_t> heard_;
  std::size_t packets_ = 0;
};

class RecordingListener final : public AudioRoomListener {
 public:
  void on_dtmf(ParticipantId member, char digit) override {
    std::lock_guard lock(mutex_);
    digits_.push_back({member, digit});
  }
  void on_talking(ParticipantId member, bool talking) override {
    std::lock_guard lock(mutex_);
    talking_.push_back({member, talking});
  }
  void on_prompt_done(ParticipantId member, std::uint64_t token) override {
    std::lock_guard lock(mutex_);
    prompts_done_.push_back({member, token});
  }
  template <typename T>
  std::vector<T> copy(const std::vector<T>& of) {
    std::lock_guard lock(mutex_);
    return of;
  }
  std::mutex mutex_;
  std::vector<std::pair<ParticipantId, char>> digits_;
  std::vector<std::pair<ParticipantId, bool>> talking_;
  std::vector<std::pair<ParticipantId, std::uint64_t>> prompts_done_;
};

class AudioRoomTest : public ::testing::Test {
 protected:
  static constexpr int kPhones = 3;
  AudioRoomTest()
      : pool_("127.0.0.1", first_port_, static_cast<std::uint16_t>(first_port_ + 2 * kPhones - 1)),
        room_(std::make_shared<AudioRoom>("test", listener_, MixerConfig{}, counters_, &chains_)) {}
  ~AudioRoomTest() override {
    for (std::uint64_t id = 1; id <= kPhones; ++id) worker_.remove_session(id);
    worker_.post([room = std::move(room_)]() mutable { room.reset(); });
    // The worker's destructor runs what is posted, then joins.
  }

  // `audio_level_id`: the member speaks Opus with ssrc-audio-level under that id (else PCMU).
  void join(int index, bool admitted = true, std::uint8_t audio_level_id = 0) {
    auto& lease = leases_.emplace_back(pool_.allocate());
    media::MediaSessionSpec spec;
    spec.id = static_cast<std::uint64_t>(index + 1);
    spec.label = "phone" + std::to_string(index);
    spec.rtp_fd = ::dup(lease->rtp_fd());
    spec.rtcp_fd = ::dup(lease->rtcp_fd());
    spec.remote_rtp = phones_[index]->address();
    spec.local_ssrc = 0x1000 + static_cast<std::uint32_t>(index);
    spec.cname = "room";
    spec.clock_rate = audio_level_id != 0 ? 48000 : 8000;
    AudioMemberSpec member;
    member.id = static_cast<ParticipantId>(index + 1);
    member.codec = audio_level_id != 0 ? AudioCodec::kOpus : AudioCodec::kPcmu;
    member.payload_type = audio_level_id != 0 ? kOpus : kPcmu;
    member.audio_level_extension_id = audio_level_id;
    member.telephone_event_payload_type = kTelephoneEvent;
    member.admitted = admitted;
    servers_[index] = *media::parse_transport_address("127.0.0.1", lease->rtp_port());
    worker_.add_session(std::move(spec),
                        [room = room_, member] { return std::make_unique<AudioRoomSink>(room, member); });
    joined_.push_back(member.id);
  }

  // `what()` run on the worker, its answer back here.
  template <typename What>
  auto on_worker(What what) {
    std::promise<decltype(what())> answer;
    worker_.post([&] { answer.set_value(what()); });
    return answer.get_future().get();
  }

  // Every member joined so far has its chains built (on the chain thread) and installed (by a tick).
  // Audio checks start from here, not from a guess at how long building takes: under ASan on a busy
  // machine it takes hundreds of milliseconds.
  void wait_for_chains() {
    const bool ready = test::wait_until([&] {
      return on_worker(
          [&] { return std::ranges::all_of(joined_, [&](ParticipantId id) { return room_->chains_ready(id); }); });
    });
    ASSERT_TRUE(ready) << "the members' chains were never installed";
  }

  // `frames` × 20 ms in real time: every phone in `talking` sends its tone, the others silence.
  void run(int frames, std::initializer_list<int> talking = {0, 1, 2}) {
    auto next = std::chrono::steady_clock::now();
    for (int frame = 0; frame < frames; ++frame) {
      for (int i = 0; i < kPhones; ++i) {
        if (!servers_[i]) continue;
        phones_[i]->send_frame(*servers_[i], std::find(talking.begin(), talking.end(), i) == talking.end());
        phones_[i]->drain();
      }
      next += 20ms;
      std::this_thread::sleep_until(next);
    }
  }

  std::uint16_t first_port_ = chorus::test::free_udp_range(2 * kPhones);
  media::UdpPortPool pool_;
  std::vector<std::unique_ptr<media::PortLease>> leases_;
  std::array<double, kPhones> tones_{440.0, 700.0, 1100.0};
  std::array<std::unique_ptr<Phone>, kPhones> phones_{std::make_unique<Phone>(440.0), std::make_unique<Phone>(700.0),
                                                      std::make_unique<Phone>(1100.0)};
  std::array<std::optional<media::TransportAddress>, kPhones> servers_;
  std::shared_ptr<RecordingListener> listener_ = std::make_shared<RecordingListener>();
  std::shared_ptr<MixerCounters> counters_ = std::make_shared<MixerCounters>();
  gst::ChainThread chains_;  // outlives the worker and the room: it runs their teardown last
  media::MediaWorker worker_{0, nullptr};
  std::shared_ptr<AudioRoom> room_;
  std::vector<ParticipantId> joined_;
};

TEST_F(AudioRoomTest, EachPhoneHearsTheOtherTwoAndNotItself) {
  for (int i = 0; i < kPhones; ++i) join(i);
  wait_for_chains();
  run(100);  // 2 s
  for (int i = 0; i < kPhones; ++i) {
    ASSERT_GT(phones_[i]->packets(), 50u) << "phone " << i << " heard nothing";
    for (int j = 0; j < kPhones; ++j) {
      if (j == i) continue;
      EXPECT_GT(phones_[i]->db_over(tones_[j], tones_[i], 1.0), 20.0)
          << "phone " << i << " should hear " << tones_[j] << " Hz well over its own " << tones_[i] << " Hz";
    }
  }
  const auto talking = listener_->copy(listener_->talking_);
  EXPECT_GE(talking.size(), 3u) << "each phone started talking";
}

TEST_F(AudioRoomTest, HeldMemberIsNotHeardAndHearsItsPrompt) {
  join(0);
  join(1, /*admitted=*/false);
  wait_for_chains();
  // A 600 Hz "prompt" of half a second for the held phone.
  auto clip = std::make_shared<std::vector<Sample>>(kSampleRateHz / 2);
  for (std::size_t i = 0; i < clip->size(); ++i)
    (*clip)[i] =
        static_cast<Sample>(8000.0 * std::sin(2.0 * std::numbers::pi * 600.0 * static_cast<double>(i) / kSampleRateHz));
  worker_.post([room = room_, clip] { room->play(2, clip, 42); });
  run(50, {0, 1});  // 1 s: both send tones
  EXPECT_LT(phones_[0]->energy_db(700.0, 0.6), kInaudibleDb) << "the held phone's 700 Hz must not reach phone 0";
  EXPECT_GT(phones_[1]->db_over(600.0, 440.0, 1.0), 20.0) << "the held phone hears its prompt, not the room";
  const auto done = listener_->copy(listener_->prompts_done_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], (std::pair<ParticipantId, std::uint64_t>{2, 42}));

  worker_.post([room = room_] { room->set_admitted(2, true); });
  phones_[0]->forget();
  run(50, {0, 1});
  EXPECT_GT(phones_[0]->energy_db(700.0, 0.6), kAudibleDb) << "admitted: phone 0 hears the 700 Hz tone";
}

TEST_F(AudioRoomTest, MutedMemberIsNotHeard) {
  join(0);
  join(1);
  wait_for_chains();
  worker_.post([room = room_] { room->set_muted(2, true); });
  run(60, {0, 1});
  EXPECT_GT(phones_[1]->energy_db(440.0, 0.6), kAudibleDb) << "the muted phone still hears the room";
  EXPECT_LT(phones_[0]->energy_db(700.0, 0.6), kInaudibleDb) << "phone 0 hears nothing of the muted phone";
}

TEST_F(AudioRoomTest, ReportsEachRfc4733KeyPressOnce) {
  join(0);
  wait_for_chains();
  run(5, {});
  phones_[0]->press_key(*servers_[0], 1);
  phones_[0]->send_frame(*servers_[0], /*silent=*/true);  // time moves on: the next press is a new event
  phones_[0]->press_key(*servers_[0], 11);                // '#'
  test::wait_until([&] { return listener_->copy(listener_->digits_).size() >= 2; });
  const auto digits = listener_->copy(listener_->digits_);
  ASSERT_EQ(digits.size(), 2u);
  EXPECT_EQ(digits[0], (std::pair<ParticipantId, char>{1, '1'}));
  EXPECT_EQ(digits[1], (std::pair<ParticipantId, char>{1, '#'}));
}

using gst::testing::HeldChainThread;

TEST_F(AudioRoomTest, ChainsAreBuiltOffTheWorkerAndInstalledByTheTick) {
  // Building a member's GStreamer chains on the worker took 1-8 ms and made whole ticks late under
  // churn (issue 12's soak). attach only asks the chain thread; held here, it has built nothing.
  HeldChainThread held(chains_);
  join(0);
  const auto [members, ready] = on_worker([&] { return std::pair{room_->member_count(), room_->chains_ready(1)}; });
  EXPECT_EQ(members, 1u);
  EXPECT_FALSE(ready) << "the chains were built on the worker";
  held.release();
  wait_for_chains();  // the next tick installs them
  join(1);
  wait_for_chains();
  run(60, {0, 1});
  EXPECT_GT(phones_[1]->db_over(tones_[0], tones_[1], 0.6), 20.0) << "phone 1 hears phone 0 through the built chains";
}

TEST_F(AudioRoomTest, APromptWaitsForTheMembersChains) {
  // Until its encoder is built a member can hear nothing: its prompt must not play to no one (a PIN
  // caller under load would miss the start of "please enter the PIN").
  HeldChainThread held(chains_);
  join(0, /*admitted=*/false);
  auto clip = std::make_shared<std::vector<Sample>>(kSampleRateHz / 5);  // 200 ms of 600 Hz
  for (std::size_t i = 0; i < clip->size(); ++i)
    (*clip)[i] =
        static_cast<Sample>(8000.0 * std::sin(2.0 * std::numbers::pi * 600.0 * static_cast<double>(i) / kSampleRateHz));
  worker_.post([room = room_, clip] { room->play(1, clip, 7); });
  join(1);       // a member starts the room's tick
  run(25, {0});  // 500 ms: the prompt would have ended twice over
  EXPECT_TRUE(listener_->copy(listener_->prompts_done_).empty()) << "the prompt played before the member could hear it";
  held.release();
  wait_for_chains();
  run(40, {0});
  const auto done = listener_->copy(listener_->prompts_done_);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], (std::pair<ParticipantId, std::uint64_t>{1, 7}));
  // Over all it heard (nothing before its encoder was installed): the prompt started with that tick,
  // however long this thread took to notice.
  EXPECT_GT(phones_[0]->energy_db(600.0, /*seconds=*/60.0), kAudibleDb) << "phone 0 heard its prompt";
}

TEST_F(AudioRoomTest, ChainsBuiltAfterTheMemberLeftAreTornDownNotInstalled) {
  HeldChainThread held(chains_);
  join(0);
  worker_.remove_session(1);  // leaves while its chains wait to be built
  held.release();
  chains_.wait_idle();
  EXPECT_EQ(on_worker([&] { return room_->member_count(); }), 0u);
  // The room's tick stopped with its last member: the mailbox is collected at the room's end,
  // which the fixture checks under the leak tracer (mixer_gst_leaks).
}

// The threads this process has now (/proc/self/task: one entry per thread).
std::size_t thread_count() {
  return static_cast<std::size_t>(std::ranges::distance(std::filesystem::directory_iterator("/proc/self/task"),
                                                        std::filesystem::directory_iterator{}));
}

TEST_F(AudioRoomTest, DecodingStartsNoThreadPerMember) {
  // Each member's decoder used to run in rtpjitterbuffer's streaming thread: 2,000 threads at the
  // capacity target, most of the G.711 cost (issue 13) and the scheduling noise behind late ticks
  // (issue 12). The worker decodes on its tick now; a member brings a socket, not a thread.
  join(0);
  wait_for_chains();
  run(5, {0});
  const std::size_t before = thread_count();
  join(1);
  join(2);
  wait_for_chains();
  run(10);
  EXPECT_LE(thread_count(), before);
  EXPECT_GT(phones_[0]->packets(), 0u);
}

// Browsers mark each Opus packet with its level (RFC 6464). The room reads it from the negotiated
// extension: the talkers are found by it, and the silent member's frames, never mixed, are never
// decoded (issue 13: libopus decoding every member's silence was most of an Opus room's cost).
TEST_F(AudioRoomTest, OpusMembersMarkedQuietByTheirSendersAreNotDecoded) {
  constexpr std::uint8_t kLevelId = 1;
  constexpr std::uint8_t kToneLevel = 15;  // about -12 dBFS
  constexpr int kFrames = 100;
  for (int i = 0; i < kPhones; ++i) join(i, true, kLevelId);
  wait_for_chains();
  std::array<std::vector<std::vector<std::uint8_t>>, kPhones> tones;
  for (int i = 0; i < kPhones; ++i) tones[i] = testing::encode_opus_tones(kFrames, [&](int) { return tones_[i]; });
  const auto silence = testing::encode_opus_tones(kFrames, [](int) { return 0.0; });
  auto next = std::chrono::steady_clock::now();
  for (int frame = 0; frame < kFrames; ++frame) {
    for (int i = 0; i < kPhones; ++i) {
      const bool talking = i != 2;
      const auto& payload = (talking ? tones[i] : silence)[static_cast<std::size_t>(frame)];
      phones_[i]->send_opus(*servers_[i], payload, talking ? kToneLevel : kSilenceLevelDbov);
      phones_[i]->drain();
    }
    next += 20ms;
    std::this_thread::sleep_until(next);
  }
  const auto talking = listener_->copy(listener_->talking_);
  EXPECT_NE(std::ranges::find(talking, std::pair<ParticipantId, bool>{1, true}), talking.end());
  EXPECT_NE(std::ranges::find(talking, std::pair<ParticipantId, bool>{2, true}), talking.end());
  EXPECT_EQ(std::ranges::find(talking, std::pair<ParticipantId, bool>{3, true}), talking.end());
  // Of the silent member's ~100 packets, all but the last kWarmupSteps (and the priming) let go.
  EXPECT_GE(counters_->input_packets_never_decoded.load(), static_cast<std::uint64_t>(kFrames / 2));
}

}  // namespace audio_room_test
}  // namespace chorus::mixer
