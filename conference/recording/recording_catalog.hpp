// RecordingCatalog: the recordings folder (`<data_dir>/recordings`) and what it holds. Each
// recording is two files side by side: its media (`rec_<16 hex>.webm` or `.mkv`) and a small JSON
// sidecar (`rec_<16 hex>.json`) with its conference, state, times, size and why it ended. The
// folder is the record: a recording copied, restored or deleted by hand is seen as it is at the
// next start, and no database row can point at a file that is gone (DESIGN §7 "Recording").
//
// Crash safety: a sidecar is replaced atomically (written beside, then renamed). A sidecar still
// saying "recording" at open() belonged to a chorusd that did not stop it (killed, crashed, power
// lost): it becomes "stopped" with reason "interrupted" and the media file's size, which is
// playable up to its last cluster (mixer/recording/recorder.hpp).
//
// Ids come only from new_recording_id(): `rec_` and 16 lowercase hex digits. Lookups never touch
// the file system with a caller's string; file names are built from ids the catalog holds.
// Threading: control loop only.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace chorus::conference {

enum class RecordingState { kRecording, kStopped, kFailed };
std::string_view to_string(RecordingState state);

// Why a recording ended (the `reason` of recording.stopped and of the recording itself).
namespace recording_reason {
inline constexpr std::string_view kRequested = "requested";               // PATCH {"state":"stopped"}
inline constexpr std::string_view kConferenceEnded = "conference_ended";  // its last participant left
inline constexpr std::string_view kQuota = "quota";                       // recordings_quota_mb reached
inline constexpr std::string_view kShutdown = "shutdown";                 // chorusd stopped (SIGTERM)
inline constexpr std::string_view kInterrupted = "interrupted";           // chorusd died while recording
inline constexpr std::string_view kError = "error";                       // failed: see `error`
}  // namespace recording_reason

struct RecordingInfo {
  std::string id;
  std::string conference_id;
  RecordingState state = RecordingState::kRecording;
  std::string media_type;  // "video/webm", "audio/webm", "video/x-matroska"
  std::string extension;   // of the media file: "webm" or "mkv"
  std::chrono::system_clock::time_point started_at;
  std::optional<std::chrono::system_clock::time_point> stopped_at;
  std::uint64_t bytes = 0;  // the media file's size (while recording: when last saved)
  std::string reason;       // empty while recording
  std::string error;        // a failure's text
};

// The sidecar's JSON (times in milliseconds since the Unix epoch; the REST API shows its own form).
nlohmann::json sidecar_json(const RecordingInfo& info);
std::optional<RecordingInfo> recording_from_sidecar(const nlohmann::json& json);

// "rec_" and 16 random lowercase hex digits; is_recording_id checks that shape.
std::string new_recording_id();
bool is_recording_id(std::string_view text);

class RecordingCatalog {
 public:
  explicit RecordingCatalog(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Creates the folder (owner-only) and reads every sidecar; unreadable ones are logged and left
  // alone. An error when the folder cannot be made or read.
  std::expected<void, std::string> open(std::chrono::system_clock::time_point now);

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] std::filesystem::path media_path(const RecordingInfo& info) const;
  // The media file's size on disk; `fallback` when it cannot be read.
  [[nodiscard]] std::uint64_t media_size(const RecordingInfo& info, std::uint64_t fallback = 0) const;
  [[nodiscard]] const RecordingInfo* find(std::string_view id) const;
  // Newest first; only `conference_id`'s when given.
  [[nodiscard]] std::vector<const RecordingInfo*> list(std::optional<std::string_view> conference_id = {}) const;
  // Bytes of every recording the catalog holds, as last saved.
  [[nodiscard]] std::uint64_t stored_bytes() const;
  // Finished recordings that started before `now - retention`.
  [[nodiscard]] std::vector<std::string> expired(std::chrono::system_clock::time_point now,
                                                 std::chrono::seconds retention) const;

  // Keeps `info` and writes its sidecar (atomically); an error when the sidecar could not be
  // written (a full disk), `info` is kept all the same.
  std::expected<void, std::string> save(const RecordingInfo& info);
  // Deletes the media file and the sidecar, and forgets the recording.
  std::expected<void, std::string> remove(std::string_view id);

 private:
  [[nodiscard]] std::filesystem::path sidecar_path(std::string_view id) const;
  void load_sidecar(const std::filesystem::path& path, std::chrono::system_clock::time_point now);

  std::filesystem::path dir_;
  std::map<std::string, RecordingInfo, std::less<>> recordings_;
};

}  // namespace chorus::conference
