// Recorder against real GStreamer: a 440 Hz tone pushed as the mix's 20 ms frames and the RTP of
// a solid-red camera made here (videotestsrc ! vp8enc|x264enc ! payloader) are recorded, and the
// file is decoded back (decodebin) to check its container, length, pitch, colour and timing; then
// the ways a recording ends: stop, the size limit, a full disk, and destruction at any moment.
#include "mixer/recording/recorder.hpp"

#include <gst/app/gstappsink.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mixer/audio_frame.hpp"
#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"
#include "tests/unit/mixer/audio_analysis.hpp"
#include "tests/unit/test_support/temp_dir.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::mixer {
namespace recorder_test {

using gst::GstPtr;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr double kToneHz = 440.0;
constexpr double kToneAmplitude = 8'000.0;
constexpr double kSecondsPerSample = 1.0 / kSampleRateHz;

// What Finished reported, and on which thread.
class Outcome {
 public:
  Recorder::Finished callback() {
    return [this](const RecorderResult& result) {
      const std::lock_guard lock(mutex_);
      results_.push_back(result);
      threads_.push_back(std::this_thread::get_id());
    };
  }
  std::size_t count() {
    const std::lock_guard lock(mutex_);
    return results_.size();
  }
  // The first result, waiting for it (bounded).
  std::optional<RecorderResult> wait() {
    if (!test::wait_until([this] { return count() > 0; })) return std::nullopt;
    const std::lock_guard lock(mutex_);
    return results_.front();
  }
  std::thread::id thread() {
    const std::lock_guard lock(mutex_);
    return threads_.empty() ? std::thread::id() : threads_.front();
  }

 private:
  std::mutex mutex_;
  std::vector<RecorderResult> results_;
  std::vector<std::thread::id> threads_;
};

// A pipeline made from a gst-launch line, stopped and released at the end of the test.
class Pipeline {
 public:
  explicit Pipeline(const std::string& description) {
    GError* error = nullptr;
    pipeline_ = gst::gst_adopt_floating(gst_parse_launch(description.c_str(), &error));
    if (error != nullptr) {
      ADD_FAILURE() << error->message;
      g_error_free(error);
    }
  }
  ~Pipeline() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;
  [[nodiscard]] bool valid() const { return pipeline_ != nullptr; }
  void play() { gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING); }
  GstPtr<GstElement> element(const char* name) {
    return gst::gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), name));
  }
  GstElement* get() { return pipeline_.get(); }

 private:
  GstPtr<GstElement> pipeline_;
};

// A live solid-red 320×240 camera at 30 fps, encoded and payloaded as the video MCU does, a key
// frame every `keyframe_frames` frames.
std::string camera_description(RecordingVideo codec, int keyframe_frames) {
  const std::string distance = std::to_string(keyframe_frames);
  const std::string encode = codec == RecordingVideo::kVp8
                                 ? "vp8enc deadline=1 keyframe-max-dist=" + distance + " ! rtpvp8pay pt=96 mtu=1200"
                                 : "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=" + distance +
                                       " ! rtph264pay pt=96 mtu=1200 config-interval=-1";
  return "videotestsrc is-live=true pattern=solid-color foreground-color=0xffff0000"
         " ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
         encode + " ! appsink name=out sync=false";
}

class RedCamera {
 public:
  explicit RedCamera(RecordingVideo codec, int keyframe_frames = 30)
      : pipeline_(camera_description(codec, keyframe_frames)) {
    pipeline_.play();
    sink_ = pipeline_.element("out");
  }
  // The packets made since the last call.
  std::vector<std::vector<std::uint8_t>> packets() {
    std::vector<std::vector<std::uint8_t>> out;
    while (auto sample = gst::gst_adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink_.get()), 0))) {
      GstBuffer* buffer = gst_sample_get_buffer(sample.get());
      GstMapInfo map;
      if (buffer != nullptr && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
        out.emplace_back(map.data, map.data + map.size);
        gst_buffer_unmap(buffer, &map);
      }
    }
    return out;
  }

 private:
  Pipeline pipeline_;
  GstPtr<GstElement> sink_;
};

// The tone, pushed frame by frame in real time (as the room's 20 ms tick would), with the camera's
// packets as they come. Returns when `frames` frames went, or `done()` is true.
template <typename Done>
void feed(Recorder& recorder, std::size_t frames, RedCamera* camera, Done done, bool audio = true) {
  static const std::vector<std::int16_t> tone =
      testing::sine_interleaved(kToneHz, kToneAmplitude, 10.0, kSampleRateHz, 1);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < frames && !done(); ++i) {
    std::this_thread::sleep_until(start + i * kFrameDuration);
    const std::size_t at = (i * kFrameSamples) % (tone.size() - kFrameSamples);
    if (audio) recorder.push_audio(std::span(tone).subspan(at, kFrameSamples));
    if (camera != nullptr)
      for (const auto& rtp : camera->packets()) recorder.push_video_rtp(rtp);
  }
}

void feed(Recorder& recorder, std::size_t frames, RedCamera* camera = nullptr) {
  feed(recorder, frames, camera, [] { return false; });
}

constexpr std::size_t kThreeSeconds = 150;  // frames of 20 ms

// The file as decoded: audio on its timeline (gaps in its timestamps filled with zeros), the video's
// frame count, time span and the last frame's centre pixel.
struct Decoded {
  std::string error;
  std::vector<std::int16_t> audio;
  int video_frames = 0;
  GstClockTime audio_first = GST_CLOCK_TIME_NONE;
  GstClockTime video_first = GST_CLOCK_TIME_NONE;
  GstClockTime video_last = 0;
  std::array<int, 3> centre{};  // RGB

  [[nodiscard]] double audio_seconds() const { return static_cast<double>(audio.size()) * kSecondsPerSample; }
  [[nodiscard]] double video_seconds() const {
    return video_frames < 2 ? 0.0 : static_cast<double>(video_last - video_first) / GST_SECOND;
  }
};

void take_audio(GstSample* sample, Decoded& out) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  GstMapInfo map;
  if (buffer == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
  if (GST_BUFFER_PTS_IS_VALID(buffer)) {
    if (out.audio_first == GST_CLOCK_TIME_NONE) out.audio_first = GST_BUFFER_PTS(buffer);
    const auto at = static_cast<std::size_t>(
        gst_util_uint64_scale(GST_BUFFER_PTS(buffer) - out.audio_first, kSampleRateHz, GST_SECOND));
    if (at > out.audio.size() + kSampleRateHz / 1000) out.audio.resize(at, 0);  // a gap of more than 1 ms
  }
  const auto* samples = reinterpret_cast<const std::int16_t*>(map.data);
  out.audio.insert(out.audio.end(), samples, samples + map.size / sizeof(std::int16_t));
  gst_buffer_unmap(buffer, &map);
}

void take_video(GstSample* sample, Decoded& out) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  const GstStructure* caps = gst_caps_get_structure(gst_sample_get_caps(sample), 0);
  int width = 0;
  int height = 0;
  gst_structure_get_int(caps, "width", &width);
  gst_structure_get_int(caps, "height", &height);
  GstMapInfo map;
  if (buffer == nullptr || !gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
  ++out.video_frames;
  if (out.video_first == GST_CLOCK_TIME_NONE) out.video_first = GST_BUFFER_PTS(buffer);
  out.video_last = GST_BUFFER_PTS(buffer);
  const std::size_t stride = (static_cast<std::size_t>(width) * 3 + 3) & ~std::size_t{3};  // RGB rows: 4-aligned
  const std::size_t at = static_cast<std::size_t>(height / 2) * stride + static_cast<std::size_t>(width / 2) * 3;
  if (at + 3 <= map.size) out.centre = {map.data[at], map.data[at + 1], map.data[at + 2]};
  gst_buffer_unmap(buffer, &map);
}

// Decodes `path` with decodebin, pulling every sample until both (or the one) appsinks end.
Decoded decode(const std::filesystem::path& path, bool with_video) {
  std::string description =
      "filesrc name=src ! decodebin name=d d. ! audioconvert ! audioresample"
      " ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1 ! appsink name=audio sync=false";
  if (with_video) description += " d. ! videoconvert ! video/x-raw,format=RGB ! appsink name=video sync=false";
  Decoded out;
  Pipeline pipeline(description);
  if (!pipeline.valid()) return Decoded{"no decoding pipeline"};
  g_object_set(pipeline.element("src").get(), "location", path.c_str(), nullptr);
  const auto audio = pipeline.element("audio");
  const auto video = with_video ? pipeline.element("video") : GstPtr<GstElement>();
  const GstPtr<GstBus> bus = gst::gst_adopt(gst_element_get_bus(pipeline.get()));
  pipeline.play();
  const auto deadline = Clock::now() + test::kDefaultWaitLimit;
  auto ended = [](const GstPtr<GstElement>& sink) { return !sink || gst_app_sink_is_eos(GST_APP_SINK(sink.get())); };
  while (!(ended(audio) && ended(video))) {
    if (Clock::now() > deadline) return Decoded{"decoding timed out"};
    if (auto error = gst::gst_adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      GError* raw = nullptr;
      gst_message_parse_error(error.get(), &raw, nullptr);
      const GstPtr<GError> owned = gst::gst_adopt(raw);
      return Decoded{std::string("decoding failed: ") + (owned ? owned->message : "?")};
    }
    if (auto sample = gst::gst_adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(audio.get()), 5 * GST_MSECOND)))
      take_audio(sample.get(), out);
    if (video)
      while (auto sample = gst::gst_adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(video.get()), 0)))
        take_video(sample.get(), out);
  }
  return out;
}

// The EBML header's DocType (RFC 8794 §11.2.5 and RFC 9559 §5.1.1: "webm" or "matroska").
std::string doc_type(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<unsigned char> head(64);
  file.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(file.gcount()));
  if (head.size() < 4 || head[0] != 0x1A || head[1] != 0x45 || head[2] != 0xDF || head[3] != 0xA3) return "not EBML";
  for (std::size_t i = 4; i + 3 < head.size(); ++i) {
    // DocType is element 0x4282; its size a one-octet VINT (0x80 | length).
    if (head[i] != 0x42 || head[i + 1] != 0x82 || (head[i + 2] & 0x80) == 0) continue;
    const std::size_t length = head[i + 2] & 0x7f;
    if (i + 3 + length > head.size()) break;
    std::string type(head.begin() + static_cast<long>(i + 3), head.begin() + static_cast<long>(i + 3 + length));
    while (!type.empty() && type.back() == '\0') type.pop_back();  // RFC 8794 §7.4: a String may end in NULs
    return type;
  }
  return "no DocType";
}

// The middle of the audio (its edges are the codec's ramp-up and the last partial frame).
std::span<const std::int16_t> middle(const std::vector<std::int16_t>& audio) {
  const std::size_t quarter = audio.size() / 4;
  return std::span(audio).subspan(quarter, 2 * quarter);
}

double dominant(std::span<const std::int16_t> audio) {
  constexpr std::array kCandidates{220.0, 300.0, 350.0, 400.0, 440.0, 500.0, 550.0, 660.0, 880.0};
  return testing::dominant_frequency(audio, kCandidates, kSampleRateHz);
}

struct RecorderTest : ::testing::Test {
  RecorderTest() { gst::ensure_gst_initialized(); }
  std::unique_ptr<Recorder> start(RecorderSpec spec) {
    auto recorder = Recorder::start(std::move(spec), outcome.callback());
    if (!recorder) ADD_FAILURE() << recorder.error();
    return recorder ? std::move(*recorder) : nullptr;
  }
  test::TempDir dir;
  Outcome outcome;  // before any recorder: it outlives them
};

TEST_F(RecorderTest, AudioOnlyIsAWebmOfTheTone) {
  const auto path = dir.path() / "audio.webm";
  auto recorder = start({.path = path});
  ASSERT_NE(recorder, nullptr);
  feed(*recorder, kThreeSeconds);
  recorder->stop();
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value()) << "Finished never came";
  EXPECT_EQ(result->end, RecorderEnd::kStopped) << result->error;
  EXPECT_EQ(result->bytes, std::filesystem::file_size(path));
  EXPECT_NEAR(static_cast<double>(result->duration.count()), 3000.0, 500.0);
  EXPECT_EQ(doc_type(path), "webm");

  const Decoded decoded = decode(path, false);
  ASSERT_TRUE(decoded.error.empty()) << decoded.error;
  EXPECT_NEAR(decoded.audio_seconds(), 3.0, 0.5);
  EXPECT_EQ(dominant(middle(decoded.audio)), kToneHz);
  EXPECT_GT(testing::peak_of(middle(decoded.audio)), kToneAmplitude / 2) << "the tone, not silence";
}

// Both tracks, the red picture, about 3 s of each, and the audio in step with the video.
void expect_red_video_and_tone(const Decoded& decoded) {
  ASSERT_TRUE(decoded.error.empty()) << decoded.error;
  EXPECT_GT(decoded.video_frames, 45) << "about 90 frames were sent";
  EXPECT_NEAR(decoded.video_seconds(), 3.0, 0.5);
  EXPECT_NEAR(decoded.audio_seconds(), 3.0, 0.5);
  EXPECT_GT(decoded.centre[0], 200);
  EXPECT_LT(decoded.centre[1], 60);
  EXPECT_LT(decoded.centre[2], 60);
  EXPECT_EQ(dominant(middle(decoded.audio)), kToneHz);
  // Both were pushed until the same moment, so on one clock they end together (the camera's start-up
  // makes the starts differ by however long it took to send its first frame).
  const double audio_end = static_cast<double>(decoded.audio_first) / GST_SECOND + decoded.audio_seconds();
  const double video_end = static_cast<double>(decoded.video_last) / GST_SECOND;
  EXPECT_NEAR(audio_end, video_end, 0.25) << "the tracks end apart: they are not on one clock";
}

TEST_F(RecorderTest, Vp8AndAudioAreAWebmWithBothTracks) {
  const auto path = dir.path() / "vp8.webm";
  auto recorder = start({.path = path, .video = RecordingVideo::kVp8});
  ASSERT_NE(recorder, nullptr);
  RedCamera camera(RecordingVideo::kVp8);
  feed(*recorder, kThreeSeconds, &camera);
  recorder->stop();
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->end, RecorderEnd::kStopped) << result->error;
  EXPECT_EQ(result->bytes, std::filesystem::file_size(path));
  EXPECT_EQ(doc_type(path), "webm");
  expect_red_video_and_tone(decode(path, true));
}

TEST_F(RecorderTest, H264AndAudioAreAMatroskaWithBothTracks) {
  const auto path = dir.path() / "h264.mkv";
  auto recorder = start({.path = path, .video = RecordingVideo::kH264});
  ASSERT_NE(recorder, nullptr);
  RedCamera camera(RecordingVideo::kH264);
  feed(*recorder, kThreeSeconds, &camera);
  recorder->stop();
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->end, RecorderEnd::kStopped) << result->error;
  EXPECT_EQ(doc_type(path), "matroska");
  expect_red_video_and_tone(decode(path, true));
}

TEST_F(RecorderTest, VideoIsWrittenWhileNoAudioIsPushed) {
  // The muxer waits for every track: without the recorder's silence nothing would be written.
  const auto path = dir.path() / "quiet.webm";
  auto recorder = start({.path = path, .video = RecordingVideo::kVp8});
  ASSERT_NE(recorder, nullptr);
  RedCamera camera(RecordingVideo::kVp8);
  feed(*recorder, 500, &camera, [&] { return recorder->bytes_written() > 3'000; }, false);
  EXPECT_GT(recorder->bytes_written(), 3'000U) << "a solid colour is about 1.7 kB/s of VP8";
  recorder->stop();
  ASSERT_TRUE(outcome.wait().has_value());
  const Decoded decoded = decode(path, true);
  ASSERT_TRUE(decoded.error.empty()) << decoded.error;
  EXPECT_GT(decoded.video_frames, 10);
  EXPECT_LT(testing::peak_of(decoded.audio), 100) << "silence";
}

TEST_F(RecorderTest, AudioKeepsItsPlaceAgainstTheClockAcrossAPause) {
  // 1 s of tone, 1 s in which nothing is pushed, 1 s of tone: the second starts in the file as
  // long after the first as it was pushed (stamped by sample count alone, it would start after 1 s).
  const auto path = dir.path() / "pause.webm";
  auto recorder = start({.path = path});
  ASSERT_NE(recorder, nullptr);
  const auto first_push = Clock::now();
  feed(*recorder, 50);
  std::this_thread::sleep_until(Clock::now() + std::chrono::seconds(1));
  const auto second_push = Clock::now();  // feed pushes its first frame right away
  feed(*recorder, 50);
  recorder->stop();
  ASSERT_TRUE(outcome.wait().has_value());
  const Decoded decoded = decode(path, false);
  ASSERT_TRUE(decoded.error.empty()) << decoded.error;
  // Onsets: the first loud 10 ms block, and the first after at least 0.5 s of quiet ones.
  constexpr std::size_t kBlock = kSampleRateHz / 100;
  std::optional<std::size_t> first, second;
  std::size_t quiet = 0;
  for (std::size_t block = 0; (block + 1) * kBlock <= decoded.audio.size() && !second; ++block) {
    const bool loud = testing::peak_of(std::span(decoded.audio).subspan(block * kBlock, kBlock)) > 2'000;
    if (loud && !first) first = block;
    if (loud && first && quiet >= 50) second = block;
    quiet = loud ? 0 : quiet + 1;
  }
  ASSERT_TRUE(first && second) << "two stretches of tone";
  const std::chrono::duration<double> pushed_apart = second_push - first_push;
  EXPECT_NEAR(static_cast<double>(*second - *first) / 100.0, pushed_apart.count(), 0.06);
}

TEST_F(RecorderTest, WhatTheMuxerMadeIsInTheFileBeforeTheEnd) {
  // What a crash (SIGKILL) would leave: the file sink is unbuffered, so the file already holds every
  // byte counted. Buffered (filesink's default) it holds what came before the muxer last sought back
  // (to close a cluster, at a key frame here every 10 s), or the last 64 KiB, whichever is less.
  const auto path = dir.path() / "live.webm";
  auto recorder = start({.path = path, .video = RecordingVideo::kVp8});
  ASSERT_NE(recorder, nullptr);
  RedCamera camera(RecordingVideo::kVp8, 300);
  feed(*recorder, 75, &camera);
  const std::uint64_t counted = recorder->bytes_written();
  EXPECT_GT(counted, 4'000U);
  EXPECT_TRUE(test::wait_until([&] { return std::filesystem::file_size(path) >= counted; }, milliseconds(2'000)))
      << std::filesystem::file_size(path) << " bytes in the file of " << counted << " written";
}

TEST_F(RecorderTest, AFullDiskFailsTheRecordingWithItsError) {
  auto recorder = start({.path = "/dev/full"});
  ASSERT_NE(recorder, nullptr);
  feed(*recorder, 500, nullptr, [&] { return outcome.count() > 0; });
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value()) << "a write error must end the recording";
  EXPECT_EQ(result->end, RecorderEnd::kFailed);
  EXPECT_FALSE(result->error.empty());
  feed(*recorder, 5);  // harmless after the failure
  recorder->stop();
  recorder.reset();
  EXPECT_EQ(outcome.count(), 1U);
}

TEST_F(RecorderTest, AFileThatCannotBeCreatedFailsTheStart) {
  auto recorder = Recorder::start({.path = dir.path() / "no-such-dir" / "r.webm"}, outcome.callback());
  ASSERT_FALSE(recorder.has_value());
  EXPECT_NE(recorder.error().find("no-such-dir"), std::string::npos) << recorder.error();
  EXPECT_EQ(outcome.count(), 0U);
}

TEST_F(RecorderTest, TheSizeLimitEndsWithAFinalizedFile) {
  const auto path = dir.path() / "limit.webm";
  auto recorder = start({.path = path, .video = RecordingVideo::kVp8, .max_bytes = 20'000});
  ASSERT_NE(recorder, nullptr);
  RedCamera camera(RecordingVideo::kVp8);
  feed(*recorder, 1000, &camera, [&] { return outcome.count() > 0; });
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->end, RecorderEnd::kLimitReached) << result->error;
  EXPECT_GE(result->bytes, 20'000U);
  EXPECT_LT(result->bytes, 200'000U) << "it ended soon after the limit";
  EXPECT_EQ(result->bytes, std::filesystem::file_size(path));
  const Decoded decoded = decode(path, true);
  ASSERT_TRUE(decoded.error.empty()) << decoded.error;
  EXPECT_GT(decoded.video_frames, 0);
  EXPECT_FALSE(decoded.audio.empty());
}

TEST_F(RecorderTest, StoppingTwiceFinishesOnceOnTheRecordersThread) {
  auto recorder = start({.path = dir.path() / "twice.webm"});
  ASSERT_NE(recorder, nullptr);
  feed(*recorder, 10);
  recorder->stop();
  recorder->stop();
  const auto result = outcome.wait();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->end, RecorderEnd::kStopped);
  EXPECT_NE(outcome.thread(), std::this_thread::get_id());
  recorder->push_audio(std::vector<std::int16_t>(kFrameSamples));  // dropped, harmless
  recorder.reset();
  EXPECT_EQ(outcome.count(), 1U);
}

TEST_F(RecorderTest, DestroyingWithoutStopFinalizes) {
  const auto path = dir.path() / "dropped.webm";
  auto recorder = start({.path = path});
  ASSERT_NE(recorder, nullptr);
  feed(*recorder, 25);
  recorder.reset();  // waits for the thread: Finished has run by now
  ASSERT_EQ(outcome.count(), 1U);
  EXPECT_EQ(outcome.wait()->end, RecorderEnd::kStopped);
  EXPECT_FALSE(decode(path, false).audio.empty());
}

TEST_F(RecorderTest, DestroyingRightAfterStartDoesNotHang) {
  for (const RecordingVideo video : {RecordingVideo::kNone, RecordingVideo::kVp8, RecordingVideo::kH264}) {
    Outcome once;
    {
      auto recorder = Recorder::start({.path = dir.path() / "instant.mkv", .video = video}, once.callback());
      ASSERT_TRUE(recorder.has_value()) << recorder.error();
      const auto destroyed_at = Clock::now();
      recorder->reset();
      EXPECT_LT(Clock::now() - destroyed_at, std::chrono::seconds(5)) << "no bounded-wait give-up needed";
    }
    EXPECT_LE(once.count(), 1U);
  }
}

TEST_F(RecorderTest, FinishedMayDestroyTheRecorder) {
  std::mutex mutex;
  std::unique_ptr<Recorder> recorder;
  bool destroyed = false;
  auto started = Recorder::start({.path = dir.path() / "self.webm"}, [&](const RecorderResult&) {
    const std::lock_guard lock(mutex);
    recorder.reset();
    destroyed = true;
  });
  ASSERT_TRUE(started.has_value()) << started.error();
  {
    const std::lock_guard lock(mutex);
    recorder = std::move(*started);
    recorder->stop();
  }
  EXPECT_TRUE(test::wait_until([&] {
    const std::lock_guard lock(mutex);
    return destroyed;
  }));
}

}  // namespace recorder_test
}  // namespace chorus::mixer
