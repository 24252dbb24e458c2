// VideoCompositor against real GStreamer encoders and decoders: a solid-colour VP8 sender (made
// here with videotestsrc ! vp8enc ! rtpvp8pay) is fed into a source, tiles place it, a class
// encodes the composite, and a decoder made here reads the colours back at the tiles' centres.
#include "mixer/video/video_compositor.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "mixer/gst/gst_runtime.hpp"
#include "tests/unit/test_support/wait_until.hpp"

namespace chorus::mixer {
namespace video_compositor_test {

using gst::GstPtr;

constexpr VideoCanvas kCanvas{320, 180, 15};

struct Rgb {
  int r = 0, g = 0, b = 0;
};

bool near(const Rgb& got, const Rgb& want) {
  return std::abs(got.r - want.r) < 60 && std::abs(got.g - want.g) < 60 && std::abs(got.b - want.b) < 60;
}

// What the compositor's classes send, as the listener hears it.
class Collected final : public VideoCompositorListener {
 public:
  void on_packet(std::uint32_t class_id, std::vector<std::uint8_t> rtp, bool keyframe) override {
    std::lock_guard lock(mutex_);
    packets_.push_back(Packet{class_id, std::move(rtp), keyframe});
  }
  void on_keyframe_wanted(VideoSource source) override {
    std::lock_guard lock(mutex_);
    wanted_.push_back(source);
  }
  void on_decode_error(const std::string& element, const std::string& /*error*/) override {
    std::lock_guard lock(mutex_);
    decode_errors_.push_back(element);
  }
  void on_resolution_change(VideoSource source, int width, int height) override {
    std::lock_guard lock(mutex_);
    sizes_.push_back(Size{source, width, height});
  }
  struct Size {
    VideoSource source;
    int width;
    int height;
  };
  std::vector<std::string> decode_errors() {
    std::lock_guard lock(mutex_);
    return decode_errors_;
  }
  std::vector<Size> sizes() {
    std::lock_guard lock(mutex_);
    return sizes_;
  }
  struct Packet {
    std::uint32_t class_id;
    std::vector<std::uint8_t> rtp;
    bool keyframe;
  };
  std::vector<Packet> packets() {
    std::lock_guard lock(mutex_);
    return packets_;
  }
  std::size_t keyframe_packets() {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::ranges::count_if(packets_, [](const Packet& p) { return p.keyframe; }));
  }
  std::size_t keyframes_wanted() {
    std::lock_guard lock(mutex_);
    return wanted_.size();
  }

 private:
  std::mutex mutex_;
  std::vector<Packet> packets_;
  std::vector<VideoSource> wanted_;
  std::vector<std::string> decode_errors_;
  std::vector<Size> sizes_;
};

// A pipeline made from a gst-launch line, stopped and released at the end of the test.
class Pipeline {
 public:
  explicit Pipeline(const std::string& description) {
    GError* error = nullptr;
    pipeline_ = gst::gst_adopt_floating(gst_parse_launch(description.c_str(), &error));
    if (error) {
      ADD_FAILURE() << error->message;
      g_error_free(error);
    }
  }
  ~Pipeline() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  void play() { gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING); }
  GstPtr<GstElement> element(const char* name) {
    return gst::gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline_.get()), name));
  }

 private:
  GstPtr<GstElement> pipeline_;
};

// RFC 7741 §4.2–4.3: the packet starts a VP8 key frame (S = 1, PID = 0, and the payload header's
// P bit clear).
bool starts_vp8_key_frame(const std::vector<std::uint8_t>& rtp) {
  std::size_t at = 12;
  if (rtp.size() <= at + 1 || (rtp[at] & 0x10) == 0 || (rtp[at] & 0x07) != 0) return false;
  const std::uint8_t first = rtp[at++];
  if ((first & 0x80) != 0) {  // X: extended control bits
    const std::uint8_t extended = rtp[at++];
    if ((extended & 0x80) != 0 && at < rtp.size()) at += (rtp[at] & 0x80) != 0 ? 2 : 1;  // I: PictureID
    if ((extended & 0x40) != 0) ++at;                                                    // L: TL0PICIDX
    if ((extended & 0x30) != 0) ++at;                                                    // T or K
  }
  return at < rtp.size() && (rtp[at] & 0x01) == 0;
}

// Pulls whatever `sink` has queued, without waiting.
std::vector<std::vector<std::uint8_t>> drain(GstElement* sink) {
  std::vector<std::vector<std::uint8_t>> out;
  while (auto sample = gst::gst_adopt(gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0))) {
    GstBuffer* buffer = gst_sample_get_buffer(sample.get());
    GstMapInfo map;
    if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      out.emplace_back(map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
    }
  }
  return out;
}

// A solid-colour VP8 camera: RTP packets, pulled from its appsink.
class ColourCamera {
 public:
  explicit ColourCamera(std::uint32_t argb, int width = 160, int height = 120, int fps = 15)
      : pipeline_("videotestsrc is-live=true pattern=solid-color foreground-color=" + std::to_string(argb) +
                  " ! video/x-raw,width=" + std::to_string(width) + ",height=" + std::to_string(height) +
                  ",framerate=" + std::to_string(fps) +
                  "/1 ! vp8enc deadline=1 cpu-used=16 keyframe-max-dist=5 "
                  "! rtpvp8pay pt=96 mtu=1200 ! appsink name=out sync=false max-buffers=1000") {
    pipeline_.play();
    sink_ = pipeline_.element("out");
  }
  std::vector<std::vector<std::uint8_t>> packets() { return drain(sink_.get()); }

 private:
  Pipeline pipeline_;
  GstPtr<GstElement> sink_;
};

// Decodes a class's VP8 packets back to RGB frames of the canvas's size.
class Viewer {
 public:
  Viewer()
      : pipeline_(
            "appsrc name=in is-live=true format=time do-timestamp=true "
            "caps=application/x-rtp,media=video,clock-rate=90000,encoding-name=VP8,payload=96 "
            "! rtpjitterbuffer latency=50 ! rtpvp8depay ! vp8dec ! videoconvert "
            "! video/x-raw,format=RGB ! appsink name=out sync=false max-buffers=100 drop=true") {
    pipeline_.play();
    src_ = pipeline_.element("in");
    sink_ = pipeline_.element("out");
  }
  void push(const std::vector<std::uint8_t>& rtp) {
    gst_app_src_push_buffer(GST_APP_SRC(src_.get()), gst_buffer_new_memdup(rtp.data(), rtp.size()));
  }
  // Takes the newest decoded frame; false when none arrived since the last call.
  bool refresh() {
    auto frames = drain(sink_.get());
    if (frames.empty()) return false;
    frame_ = std::move(frames.back());
    return true;
  }
  // The colour at (x, y) of the frame refresh() took.
  [[nodiscard]] std::optional<Rgb> pixel(int x, int y) const {
    const std::size_t stride = (static_cast<std::size_t>(kCanvas.width) * 3 + 3) & ~std::size_t{3};
    const std::size_t at = static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x) * 3;
    if (frame_.size() < at + 3) return std::nullopt;
    return Rgb{frame_[at], frame_[at + 1], frame_[at + 2]};
  }

 private:
  Pipeline pipeline_;
  GstPtr<GstElement> src_;
  GstPtr<GstElement> sink_;
  std::vector<std::uint8_t> frame_;
};

// One sender's stream as the network shows it: packets from several cameras (a sender that changes
// resolution restarts its encoder) carried on one SSRC with continuous sequence numbers.
class OneStream {
 public:
  std::vector<std::uint8_t> restamp(std::vector<std::uint8_t> rtp) {
    if (rtp.size() < 12) return rtp;
    rtp[2] = static_cast<std::uint8_t>(sequence_ >> 8);
    rtp[3] = static_cast<std::uint8_t>(sequence_);
    ++sequence_;
    for (int i = 0; i < 4; ++i) rtp[8 + i] = static_cast<std::uint8_t>(0x5eed0001U >> (24 - (8 * i)));
    return rtp;
  }

 private:
  std::uint16_t sequence_ = 1000;
};

// Feeds the class's packets to the viewer; true when its newest frame shows `want` at (x, y).
bool shows(Collected& collected, Viewer& viewer, std::size_t& sent, int x, int y, const Rgb& want) {
  const auto packets = collected.packets();
  for (; sent < packets.size(); ++sent) viewer.push(packets[sent].rtp);
  if (!viewer.refresh()) return false;
  const auto pixel = viewer.pixel(x, y);
  return pixel && near(*pixel, want);
}

struct VideoCompositorTest : ::testing::Test {
  VideoCompositorTest() { gst::ensure_gst_initialized(); }
  std::shared_ptr<Collected> collected = std::make_shared<Collected>();
};

TEST_F(VideoCompositorTest, AClassEncodesTheCanvasAndStartsWithAKeyFrame) {
  VideoCompositor compositor(kCanvas, collected);
  compositor.add_class(7, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 300'000);
  ASSERT_TRUE(test::wait_until([&] { return collected->packets().size() >= 20; }))
      << "the compositor runs with nobody sending: its background source keeps it live";
  const auto packets = collected->packets();
  EXPECT_TRUE(packets.front().keyframe) << "an encoder's first frame is a key frame";
  for (const auto& packet : packets) {
    EXPECT_EQ(packet.class_id, 7U);
    EXPECT_LE(packet.rtp.size(), 1200U) << "MTU";
    EXPECT_EQ(packet.rtp[0] >> 6, 2) << "RTP version 2";
  }
}

TEST_F(VideoCompositorTest, AForcedKeyFrameComesLongBeforeThePeriodicOne) {
  VideoCompositor compositor(kCanvas, collected);
  compositor.add_class(1, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 300'000);
  ASSERT_TRUE(test::wait_until([&] { return collected->packets().size() >= 30; }));
  const std::size_t before = collected->keyframe_packets();
  compositor.force_keyframe(1);
  // The periodic key frame is 10 s apart; a forced one is the next frame (within a few at most).
  EXPECT_TRUE(test::wait_until([&] { return collected->keyframe_packets() > before; }, std::chrono::seconds(5)));
}

TEST_F(VideoCompositorTest, ASendersColourFillsItsTileAndAnEmptyTileIsAPlaceholder) {
  VideoCompositor compositor(kCanvas, collected);
  auto red = compositor.add_source(VideoSource{1, false}, VideoCodec::kVp8, 96);
  auto blue = compositor.add_source(VideoSource{2, false}, VideoCodec::kVp8, 96);
  LayoutRequest request;
  request.canvas_width = kCanvas.width;
  request.canvas_height = kCanvas.height;
  request.members = {{1, true}, {2, true}, {3, false}};
  compositor.set_name(3, "Cy <b>&amp;</b>");      // a label over the placeholder's bottom left
  compositor.set_tiles(compose_layout(request));  // 2×2: red, blue, a placeholder, nothing
  compositor.add_class(1, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 500'000);
  ColourCamera red_camera(0xffff0000);
  ColourCamera blue_camera(0xff0000ff);
  Viewer viewer;
  std::size_t sent = 0;
  Rgb tile0, tile1, tile2, tile3, label_end;
  int text_pixels = 0;
  const bool seen = test::wait_until([&] {
    for (const auto& rtp : red_camera.packets()) red->push(rtp);
    for (const auto& rtp : blue_camera.packets()) blue->push(rtp);
    const auto packets = collected->packets();
    for (; sent < packets.size(); ++sent) viewer.push(packets[sent].rtp);
    if (!viewer.refresh()) return false;
    // Tile centres of a 2×2 grid on 320×180.
    auto a = viewer.pixel(80, 45), b = viewer.pixel(240, 45);
    auto c = viewer.pixel(80, 135), d = viewer.pixel(240, 135);
    if (!a || !b || !c || !d) return false;
    tile0 = *a, tile1 = *b, tile2 = *c, tile3 = *d;
    label_end = viewer.pixel(156, 170).value_or(Rgb{});
    text_pixels = 0;
    for (int x = 0; x < 150; ++x)
      for (int y = 160; y < 178; ++y)
        if (auto p = viewer.pixel(x, y); p && p->r > 180 && p->g > 180 && p->b > 180) ++text_pixels;
    // Cy's name label: a dark strip at the bottom of its tile, white text at its left. The whole
    // picture is awaited: each part comes from its own live source, and under load one part can
    // reach the compositor a frame or two after another.
    return near(tile0, {255, 0, 0}) && near(tile1, {0, 0, 255}) && near(tile2, {0x30, 0x30, 0x30}) &&
           near(tile3, {0, 0, 0}) && label_end.r < 25 && text_pixels > 10;
  });
  EXPECT_TRUE(seen) << "the whole picture never showed; the last frame seen:";
  EXPECT_TRUE(near(tile0, {255, 0, 0})) << "red's tile: " << tile0.r << "," << tile0.g << "," << tile0.b;
  EXPECT_TRUE(near(tile1, {0, 0, 255})) << "blue's tile: " << tile1.r << "," << tile1.g << "," << tile1.b;
  EXPECT_TRUE(near(tile2, {0x30, 0x30, 0x30}))
      << "a member without video: " << tile2.r << "," << tile2.g << "," << tile2.b;
  EXPECT_TRUE(near(tile3, {0, 0, 0})) << "no member, the background: " << tile3.r << "," << tile3.g << "," << tile3.b;
  EXPECT_LT(label_end.r, 25) << "the label strip";
  EXPECT_GT(text_pixels, 10) << "the label's text";
}

TEST_F(VideoCompositorTest, ASourceThatNeverSendsAKeyFrameIsAskedForOne) {
  VideoCompositor compositor(kCanvas, collected);
  auto feed = compositor.add_source(VideoSource{5, false}, VideoCodec::kVp8, 96);
  // Delta frames only: a camera's packets with its key frames left out.
  ColourCamera camera(0xff00ff00);
  std::size_t pushed = 0;
  bool in_key_frame = false;
  EXPECT_TRUE(test::wait_until([&] {
    for (const auto& rtp : camera.packets()) {
      // Every packet of a key frame is left out: from its first packet to the next frame's.
      if (starts_vp8_key_frame(rtp))
        in_key_frame = true;
      else if ((rtp[12] & 0x10) != 0 && (rtp[12] & 0x07) == 0)
        in_key_frame = false;
      if (!in_key_frame) feed->push(rtp);
      ++pushed;
    }
    return collected->keyframes_wanted() > 0;
  })) << "the depayloader waits for a key frame and asks for one through the listener";
}

// Issue 11, bad input: a sender that changes resolution mid-call, up to 4K, stays in its tile.
TEST_F(VideoCompositorTest, ASenderThatChangesResolutionUpTo4KStaysInItsTile) {
  VideoCompositor compositor(kCanvas, collected);
  auto feed = compositor.add_source(VideoSource{1, false}, VideoCodec::kVp8, 96);
  compositor.set_tiles({Tile{1, Rect{0, 0, 160, 90}, TileRole::kGrid, false, true, true}});
  compositor.add_class(1, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 500'000);
  Viewer viewer;
  OneStream stream;
  std::size_t sent = 0;
  {
    ColourCamera red(0xffff0000);
    ASSERT_TRUE(test::wait_until([&] {
      for (auto& rtp : red.packets()) feed->push(stream.restamp(std::move(rtp)));
      return shows(*collected, viewer, sent, 80, 45, {255, 0, 0});
    })) << "the first resolution shows";
  }
  ColourCamera green(0xff00ff00, 3840, 2160, 5);  // the same sender, now a 4K camera
  EXPECT_TRUE(test::wait_until(
      [&] {
        for (auto& rtp : green.packets()) feed->push(stream.restamp(std::move(rtp)));
        return shows(*collected, viewer, sent, 80, 45, {0, 255, 0});
      },
      std::chrono::seconds(60)))  // 4K frames: slow to make under ASan on a busy machine
      << "the 4K picture is fitted into the same tile";
  EXPECT_TRUE(shows(*collected, viewer, sent, 240, 135, {0, 0, 0}) || !viewer.refresh())
      << "and stays inside it: the rest of the canvas is the background";
  const auto sizes = collected->sizes();
  ASSERT_FALSE(sizes.empty()) << "the change was reported (the room counts and logs it)";
  EXPECT_EQ(sizes.back().source.participant, 1U);
  EXPECT_EQ(sizes.back().width, 3840);
  EXPECT_EQ(sizes.back().height, 2160);
}

// Issue 11, bad input: corrupt and truncated VP8 frames are reported, the composite keeps
// running, and the tile recovers at the sender's next key frame.
TEST_F(VideoCompositorTest, CorruptAndTruncatedFramesAreReportedAndTheTileRecovers) {
  VideoCompositor compositor(kCanvas, collected);
  auto feed = compositor.add_source(VideoSource{1, false}, VideoCodec::kVp8, 96);
  compositor.set_tiles({Tile{1, Rect{0, 0, 160, 90}, TileRole::kGrid, false, true, true}});
  compositor.add_class(1, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 500'000);
  ColourCamera blue(0xff0000ff, 320, 240, 15);
  Viewer viewer;
  std::size_t sent = 0;
  std::uint32_t scramble = 0x9e3779b9U;
  std::size_t mangled = 0;
  // Every packet's VP8 payload past its 6-byte descriptor and payload header is overwritten or cut.
  const bool reported = test::wait_until(
      [&] {
        for (auto rtp : blue.packets()) {
          if (rtp.size() > 24) {
            if (mangled % 2 == 0) {
              for (std::size_t i = 24; i < rtp.size(); ++i) {
                scramble = (scramble * 1664525U) + 1013904223U;
                rtp[i] = static_cast<std::uint8_t>(scramble >> 24);
              }
            } else {
              rtp.resize(24);
            }
            ++mangled;
          }
          feed->push(rtp);
        }
        return !collected->decode_errors().empty();
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(reported) << "a decoder's complaint reaches the listener (" << mangled << " packets mangled)";
  const std::size_t before = collected->packets().size();
  EXPECT_TRUE(test::wait_until([&] { return collected->packets().size() > before + 10; }))
      << "the composite keeps running";
  EXPECT_TRUE(test::wait_until(
      [&] {
        for (const auto& rtp : blue.packets()) feed->push(rtp);
        return shows(*collected, viewer, sent, 80, 45, {0, 0, 255});
      },
      std::chrono::seconds(20)))
      << "clean packets again: the tile shows the sender from its next key frame";
}

TEST_F(VideoCompositorTest, RemovingSourcesAndClassesWhilePlayingLeavesTheRestRunning) {
  VideoCompositor compositor(kCanvas, collected);
  compositor.add_class(1, VideoClassKey{VideoCodec::kVp8, kCanvas.width, kCanvas.height}, 300'000);
  compositor.add_class(2, VideoClassKey{VideoCodec::kH264, 160, 90}, 300'000);
  auto feed = compositor.add_source(VideoSource{1, false}, VideoCodec::kVp8, 96);
  compositor.set_tiles({Tile{1, Rect{0, 0, 320, 180}, TileRole::kGrid, false, true, true}});
  ASSERT_TRUE(test::wait_until([&] {
    const auto packets = collected->packets();
    return std::ranges::any_of(packets, [](const auto& p) { return p.class_id == 2; }) &&
           std::ranges::any_of(packets, [](const auto& p) { return p.class_id == 1; });
  }));
  compositor.remove_source(VideoSource{1, false});
  compositor.set_tiles({});
  compositor.remove_class(2);
  EXPECT_FALSE(feed->push(std::vector<std::uint8_t>(20, 0x80))) << "a removed source takes nothing";
  const std::size_t before = collected->packets().size();
  EXPECT_TRUE(test::wait_until([&] { return collected->packets().size() > before + 10; }));
  const auto packets = collected->packets();
  EXPECT_TRUE(std::ranges::all_of(packets.begin() + static_cast<std::ptrdiff_t>(before), packets.end(),
                                  [](const auto& p) { return p.class_id == 1; }));
}

}  // namespace video_compositor_test
}  // namespace chorus::mixer
