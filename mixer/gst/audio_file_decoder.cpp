#include "mixer/gst/audio_file_decoder.hpp"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <bit>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "mixer/gst/gst_ptr.hpp"
#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer::gst {
namespace {

static_assert(kSampleRateHz == 48'000, "the caps below spell the mixer's rate");
// parse_launch links decodebin's audio pad when it appears (delayed linking); the file's location
// is set as a property afterwards, so no path is ever quoted into this string.
constexpr const char* kPipelineDescription =
    "filesrc name=src ! decodebin ! audioconvert ! audioresample"
    " ! audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=1"
    " ! appsink name=sink sync=false max-buffers=8 drop=false";
constexpr GstClockTime kPullInterval = 50 * GST_MSECOND;  // how often an idle pull looks at the bus

// A pipeline must reach NULL before its last reference goes, or its streaming threads outlive it.
class PipelineRun {
 public:
  explicit PipelineRun(GstElement* pipeline) : pipeline_(pipeline) {}
  ~PipelineRun() { gst_element_set_state(pipeline_, GST_STATE_NULL); }
  PipelineRun(const PipelineRun&) = delete;
  PipelineRun& operator=(const PipelineRun&) = delete;

 private:
  GstElement* pipeline_;
};

std::string failure(const std::filesystem::path& path, std::string_view what) {
  return path.string() + ": " + std::string(what);
}

// The first ERROR on the bus, if one was posted, as "<element>: <message> (<debug>)".
std::optional<std::string> bus_error(GstBus* bus) {
  GstPtr<GstMessage> message = gst_adopt(gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR));
  if (!message) return std::nullopt;
  GError* raw_error = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(message.get(), &raw_error, &raw_debug);
  const GstPtr<GError> error = gst_adopt(raw_error);
  const GstPtr<gchar> debug = gst_adopt(raw_debug);
  std::string text = error ? error->message : "unknown error";
  if (GST_MESSAGE_SRC(message.get()) != nullptr) text = std::string(GST_MESSAGE_SRC_NAME(message.get())) + ": " + text;
  if (debug) text += std::string(" (") + debug.get() + ")";
  return text;
}

// Appends one pulled sample's PCM; false when its buffer cannot be read.
bool append_sample(GstSample* sample, std::vector<Sample>& out) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);  // borrowed from the sample
  if (buffer == nullptr) return true;                 // a sample without data adds nothing
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return false;
  const std::size_t count = map.size / sizeof(Sample);  // S16LE: whole samples only
  const std::size_t start = out.size();
  out.resize(start + count);
  std::memcpy(out.data() + start, map.data, count * sizeof(Sample));  // host order is little-endian here
  gst_buffer_unmap(buffer, &map);
  return true;
}

}  // namespace

std::expected<std::vector<Sample>, std::string> decode_audio_file(const std::filesystem::path& path,
                                                                  const DecodeLimits& limits) {
  static_assert(std::endian::native == std::endian::little, "S16LE is copied as host-order int16");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::unexpected(failure(path, "not a readable file"));

  ensure_gst_initialized();
  GError* raw_parse_error = nullptr;
  GstPtr<GstElement> pipeline = gst_adopt_floating(gst_parse_launch(kPipelineDescription, &raw_parse_error));
  const GstPtr<GError> parse_error = gst_adopt(raw_parse_error);
  if (!pipeline || parse_error) {
    return std::unexpected(failure(path, std::string("cannot build the decoding pipeline: ") +
                                             (parse_error ? parse_error->message : "no pipeline")));
  }
  const GstPtr<GstElement> source = gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  const GstPtr<GstElement> sink = gst_adopt(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  const GstPtr<GstBus> bus = gst_adopt(gst_element_get_bus(pipeline.get()));
  if (!source || !sink || !bus) return std::unexpected(failure(path, "decoding pipeline is incomplete"));
  g_object_set(source.get(), "location", path.c_str(), nullptr);

  const PipelineRun run(pipeline.get());
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    return std::unexpected(failure(path, bus_error(bus.get()).value_or("cannot start decoding")));
  }

  const std::size_t max_samples = static_cast<std::size_t>(limits.max_duration.count()) * kSampleRateHz;
  const auto deadline = std::chrono::steady_clock::now() + limits.timeout;
  std::vector<Sample> pcm;
  GstAppSink* appsink = GST_APP_SINK(sink.get());
  // Bounded by the deadline: every pass either gets a buffer or waits kPullInterval.
  while (std::chrono::steady_clock::now() < deadline) {
    if (const GstPtr<GstSample> sample = gst_adopt(gst_app_sink_try_pull_sample(appsink, kPullInterval))) {
      if (!append_sample(sample.get(), pcm)) return std::unexpected(failure(path, "cannot read a decoded buffer"));
      if (pcm.size() > max_samples) {
        return std::unexpected(
            failure(path, "longer than " + std::to_string(limits.max_duration.count()) + " s of audio, refused"));
      }
      continue;
    }
    if (auto error = bus_error(bus.get())) return std::unexpected(failure(path, *error));
    if (gst_app_sink_is_eos(appsink)) return pcm;
  }
  return std::unexpected(
      failure(path, "decoding did not finish within " + std::to_string(limits.timeout.count()) + " s"));
}

}  // namespace chorus::mixer::gst
