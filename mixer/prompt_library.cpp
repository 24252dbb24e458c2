#include "mixer/prompt_library.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ranges>
#include <system_error>
#include <utility>

namespace chorus::mixer {
namespace {

constexpr std::array<std::string_view, 5> kAudioExtensions = {".wav", ".flac", ".ogg", ".oga", ".opus"};

bool is_audio_file(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::ranges::transform(extension, extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return std::ranges::find(kAudioExtensions, extension) != kAudioExtensions.end();
}

bool is_loud(std::int16_t sample) {
  return std::abs(static_cast<int>(sample)) >= kTrimThreshold;
}

// The folder's audio files, sorted so that errors come in a stable order.
std::expected<std::vector<std::filesystem::path>, std::string> list_audio_files(const std::filesystem::path& dir,
                                                                                std::size_t max_files) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return std::unexpected("prompts folder " + dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> files;
  for (const std::filesystem::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return std::unexpected("prompts folder " + dir.string() + ": " + ec.message());
    const auto& path = it->path();
    if (path.filename().string().starts_with('.') || !is_audio_file(path)) continue;
    if (!it->is_regular_file(ec)) continue;
    if (files.size() == max_files) {
      return std::unexpected("prompts folder " + dir.string() + ": more than " + std::to_string(max_files) +
                             " audio files, refused");
    }
    files.push_back(path);
  }
  if (ec) return std::unexpected("prompts folder " + dir.string() + ": " + ec.message());
  std::ranges::sort(files);
  return files;
}

}  // namespace

std::vector<std::int16_t> trim_silence(std::vector<std::int16_t> samples) {
  const auto first = std::ranges::find_if(samples, is_loud);
  if (first == samples.end()) return samples;
  const auto last = std::ranges::find_if(samples | std::views::reverse, is_loud).base();  // one past the loudest end
  const auto begin_index = static_cast<std::size_t>(first - samples.begin());
  const auto end_index = static_cast<std::size_t>(last - samples.begin());
  const std::size_t keep_from = begin_index > kTrimMarginSamples ? begin_index - kTrimMarginSamples : 0;
  const std::size_t keep_to = std::min(samples.size(), end_index + kTrimMarginSamples);
  samples.erase(samples.begin() + static_cast<std::ptrdiff_t>(keep_to), samples.end());
  samples.erase(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(keep_from));
  return samples;
}

std::expected<PromptLibrary, std::string> PromptLibrary::load(const std::filesystem::path& dir,
                                                              std::span<const std::string_view> required,
                                                              const PromptLoadLimits& limits) {
  auto files = list_audio_files(dir, limits.max_files);
  if (!files) return std::unexpected(std::move(files.error()));

  PromptLibrary library;
  for (const auto& path : *files) {
    const std::string name = path.stem().string();
    if (const auto* existing = library.find(name)) {
      return std::unexpected("prompt " + name + " is in two files, " + existing->source.string() + " and " +
                             path.string() + ": remove one");
    }
    auto pcm = gst::decode_audio_file(path, limits.decode);
    if (!pcm) return std::unexpected(std::move(pcm.error()));
    if (pcm->empty()) return std::unexpected(path.string() + ": no audio in the file");
    library.prompts_.emplace(name, Prompt{name, trim_silence(std::move(*pcm)), path});
  }

  std::string missing;
  for (const std::string_view name : required) {
    if (library.find(name) != nullptr) continue;
    missing += missing.empty() ? "" : ", ";
    missing += name;
  }
  if (!missing.empty()) {
    return std::unexpected("prompts folder " + dir.string() + " lacks the required prompts: " + missing +
                           " (each needs a <name>.wav)");
  }
  return library;
}

std::filesystem::path PromptLibrary::default_dir() {
  return default_prompts_dir();
}

const Prompt* PromptLibrary::find(std::string_view name) const {
  const auto it = prompts_.find(name);
  return it == prompts_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> PromptLibrary::names() const {
  std::vector<std::string_view> result;
  result.reserve(prompts_.size());
  for (const auto& [name, prompt] : prompts_) result.emplace_back(name);
  return result;
}

std::filesystem::path default_prompts_dir() {
#ifdef CHORUS_PROMPTS_DIR
  return CHORUS_PROMPTS_DIR;
#else
  return "prompts";  // built outside CMake: next to the working directory
#endif
}

}  // namespace chorus::mixer
