#include "conference/recording/recording_catalog.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/log.hpp"
#include "common/random.hpp"

namespace chorus::conference {
namespace {

using SystemClock = std::chrono::system_clock;
constexpr std::size_t kIdHexDigits = 16;
constexpr std::string_view kRecordingIdPrefix = "rec_";
constexpr std::uintmax_t kMaxSidecarBytes = 64 * 1024;  // a sidecar is a few hundred bytes

std::int64_t to_unix_ms(SystemClock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

SystemClock::time_point from_unix_ms(std::int64_t ms) {
  return SystemClock::time_point(std::chrono::duration_cast<SystemClock::duration>(std::chrono::milliseconds(ms)));
}

std::optional<RecordingState> state_from_string(std::string_view text) {
  for (auto state : {RecordingState::kRecording, RecordingState::kStopped, RecordingState::kFailed})
    if (to_string(state) == text) return state;
  return std::nullopt;
}

std::uint64_t file_size_or(const std::filesystem::path& path, std::uint64_t fallback) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? fallback : size;
}

}  // namespace

std::string_view to_string(RecordingState state) {
  switch (state) {
    case RecordingState::kRecording:
      return "recording";
    case RecordingState::kStopped:
      return "stopped";
    case RecordingState::kFailed:
      return "failed";
  }
  return "failed";
}

nlohmann::json sidecar_json(const RecordingInfo& info) {
  return {{"id", info.id},
          {"conference_id", info.conference_id},
          {"state", to_string(info.state)},
          {"media_type", info.media_type},
          {"extension", info.extension},
          {"started_at_ms", to_unix_ms(info.started_at)},
          {"stopped_at_ms", info.stopped_at ? nlohmann::json(to_unix_ms(*info.stopped_at)) : nlohmann::json(nullptr)},
          {"bytes", info.bytes},
          {"reason", info.reason},
          {"error", info.error}};
}

std::optional<RecordingInfo> recording_from_sidecar(const nlohmann::json& json) {
  try {
    RecordingInfo info;
    info.id = json.at("id").get<std::string>();
    info.conference_id = json.at("conference_id").get<std::string>();
    auto state = state_from_string(json.at("state").get<std::string>());
    info.media_type = json.at("media_type").get<std::string>();
    info.extension = json.at("extension").get<std::string>();
    if (!state || !is_recording_id(info.id) || (info.extension != "webm" && info.extension != "mkv"))
      return std::nullopt;
    info.state = *state;
    info.started_at = from_unix_ms(json.at("started_at_ms").get<std::int64_t>());
    if (const auto& stopped = json.at("stopped_at_ms"); !stopped.is_null())
      info.stopped_at = from_unix_ms(stopped.get<std::int64_t>());
    info.bytes = json.at("bytes").get<std::uint64_t>();
    info.reason = json.value("reason", "");
    info.error = json.value("error", "");
    return info;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string new_recording_id() {
  char hex[kIdHexDigits + 1] = {};
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random_u64()));
  return std::string(kRecordingIdPrefix) + hex;
}

bool is_recording_id(std::string_view text) {
  if (text.size() != kRecordingIdPrefix.size() + kIdHexDigits || !text.starts_with(kRecordingIdPrefix)) return false;
  return std::ranges::all_of(text.substr(kRecordingIdPrefix.size()),
                             [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::expected<void, std::string> RecordingCatalog::open(SystemClock::time_point now) {
  std::error_code error;
  std::filesystem::create_directories(dir_, error);
  if (error) return std::unexpected("recordings folder " + dir_.string() + ": " + error.message());
  // Meetings are private: only chorusd's user reads them (the store's folder is the same).
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace, error);
  std::filesystem::directory_iterator entries(dir_, error);
  if (error) return std::unexpected("recordings folder " + dir_.string() + ": " + error.message());
  for (const auto& entry : entries) {
    const auto& path = entry.path();
    if (path.extension() == ".json" && is_recording_id(path.stem().string())) load_sidecar(path, now);
  }
  return {};
}

void RecordingCatalog::load_sidecar(const std::filesystem::path& path, SystemClock::time_point now) {
  std::optional<RecordingInfo> info;
  if (file_size_or(path, 0) <= kMaxSidecarBytes) {
    std::ifstream in(path);
    auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!json.is_discarded()) info = recording_from_sidecar(json);
  }
  if (!info || info->id != path.stem().string()) {
    CHORUS_LOG(kWarn, "recording", "unreadable recording sidecar left alone", {"path", path.string()});
    return;
  }
  if (info->state == RecordingState::kRecording) {
    // The chorusd that wrote it never stopped it: the file holds what reached the disk.
    info->state = RecordingState::kStopped;
    info->reason = std::string(recording_reason::kInterrupted);
    info->stopped_at = now;
    info->bytes = media_size(*info);
    CHORUS_LOG(kWarn, "recording", "recording interrupted by an earlier stop of chorusd", {"recording", info->id},
               {"conference", info->conference_id}, {"bytes", info->bytes});
    recordings_[info->id] = *info;
    if (auto saved = save(*info); !saved)
      CHORUS_LOG(kWarn, "recording", "cannot update the sidecar", {"recording", info->id}, {"error", saved.error()});
    return;
  }
  recordings_[info->id] = std::move(*info);
}

std::filesystem::path RecordingCatalog::media_path(const RecordingInfo& info) const {
  return dir_ / (info.id + "." + info.extension);
}

std::uint64_t RecordingCatalog::media_size(const RecordingInfo& info, std::uint64_t fallback) const {
  return file_size_or(media_path(info), fallback);
}

std::filesystem::path RecordingCatalog::sidecar_path(std::string_view id) const {
  return dir_ / (std::string(id) + ".json");
}

const RecordingInfo* RecordingCatalog::find(std::string_view id) const {
  auto it = recordings_.find(id);
  return it == recordings_.end() ? nullptr : &it->second;
}

std::vector<const RecordingInfo*> RecordingCatalog::list(std::optional<std::string_view> conference_id) const {
  std::vector<const RecordingInfo*> out;
  for (const auto& [id, info] : recordings_)
    if (!conference_id || info.conference_id == *conference_id) out.push_back(&info);
  std::ranges::sort(out, [](const RecordingInfo* a, const RecordingInfo* b) {
    return a->started_at != b->started_at ? a->started_at > b->started_at : a->id < b->id;
  });
  return out;
}

std::uint64_t RecordingCatalog::stored_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [id, info] : recordings_) total += info.bytes;
  return total;
}

std::vector<std::string> RecordingCatalog::expired(SystemClock::time_point now, std::chrono::seconds retention) const {
  std::vector<std::string> out;
  for (const auto& [id, info] : recordings_)
    if (info.state != RecordingState::kRecording && info.started_at + retention < now) out.push_back(id);
  return out;
}

std::expected<void, std::string> RecordingCatalog::save(const RecordingInfo& info) {
  // Kept first: on a full disk the sidecar cannot be written, and the API must still say what
  // happened (failed) rather than what the sidecar said last.
  recordings_[info.id] = info;
  const auto final_path = sidecar_path(info.id);
  auto temporary = final_path;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << sidecar_json(info).dump() << '\n';
    out.flush();
    if (!out) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      return std::unexpected("cannot write " + temporary.string());
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, final_path, error);  // atomic on one file system (POSIX rename)
  if (error) return std::unexpected("cannot replace " + final_path.string() + ": " + error.message());
  return {};
}

std::expected<void, std::string> RecordingCatalog::remove(std::string_view id) {
  auto it = recordings_.find(id);
  if (it == recordings_.end()) return std::unexpected("no recording " + std::string(id));
  std::error_code error;
  std::filesystem::remove(media_path(it->second), error);
  if (error) return std::unexpected("cannot delete " + media_path(it->second).string() + ": " + error.message());
  std::filesystem::remove(sidecar_path(id), error);
  if (error) return std::unexpected("cannot delete " + sidecar_path(id).string() + ": " + error.message());
  recordings_.erase(it);
  return {};
}

}  // namespace chorus::conference
