// RecordingService: records a live conference into the recordings folder (DESIGN §7 "Recording").
//
// What is recorded, from what the room already makes: everyone's mix (the audio MCU's output 0,
// what a listener outside the room hears) encoded once more as Opus, and in an `mcu` room the
// composite of its full-size layout class as it leaves that class's encoder (no second video
// encode: the recorder joins the class as one more receiver, mixer::VideoRoom::attach_tap). The
// Recorder (mixer/recording) muxes them into WebM (VP8 + Opus, or Opus alone) or Matroska (H.264 +
// Opus) written so that a killed chorusd leaves a playable file.
//
// Lifecycle: start (REST POST) → recording.started and the "this meeting is being recorded" prompt
// to everyone in the room → stop (REST PATCH, the conference's end, the quota, shutdown) →
// recording.stopped; a write error (a full disk) → recording.failed. Either way the conference goes
// on: the recorder only ever takes copies of what the room sends.
// Quota: the recordings held plus the ones running may use `quota_bytes`; a start at or over it is
// refused, and a running recording is given what was left when it started (it ends with reason
// "quota", finalized and playable, when it uses that up). Retention: finished recordings older than
// `retention` are deleted at start-up and every hour.
// Threading: control loop only; the recorders' reports are posted to it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "conference/audio_bridge.hpp"
#include "conference/engines/media_engine.hpp"
#include "conference/engines/video_mcu_engine.hpp"
#include "conference/events/event_log.hpp"
#include "conference/recording/recording_catalog.hpp"

namespace chorus::mixer {
class Recorder;
}

namespace chorus::conference {

class ConferenceService;

struct RecordingSettings {
  std::filesystem::path dir;                // <data_dir>/recordings
  std::uint64_t quota_bytes = 10ULL << 30;  // recordings_quota_mb; 0: no quota
  std::chrono::seconds retention{0};        // recordings_retention_days; 0: kept until deleted
  std::size_t max_concurrent = 16;          // recordings running at once (each is a pipeline and a thread)
  bool announce = true;                     // the "being recorded" prompt
};

enum class RecordingRefusal {
  kNoConference,      // nobody is in the room (404)
  kAlreadyRecording,  // one recording per conference (409)
  kQuotaReached,      // the quota is used up (507)
  kTooMany,           // max_concurrent recordings run (503)
  kCannotRecord,      // the recorder could not start (500; the detail says why)
};

struct RecordingStartError {
  RecordingRefusal refusal;
  std::string detail;
};

// What recording did (bumped on the control loop, read by /metrics on the REST thread).
struct RecordingCounters {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> stopped{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> dropped{0};  // audio frames and video packets the recorders dropped, counted at their end

  [[nodiscard]] std::vector<PublishedCounter> published() const {
    return {{"chorus_recordings_started_total", "Recordings started", "recordings_started", &started},
            {"chorus_recordings_stopped_total", "Recordings finalized (asked, conference ended, quota, shutdown)",
             "recordings_stopped", &stopped},
            {"chorus_recordings_failed_total", "Recordings ended by a write error (a full disk)", "recordings_failed",
             &failed},
            {"chorus_recordings_refused_total", "Recording starts refused (no conference, running, quota, too many)",
             "recordings_refused", &refused},
            {"chorus_recording_media_dropped_total",
             "Audio frames and video packets recorders dropped (a stalled disk), counted when each recording ends",
             "recording_media_dropped", &dropped}};
  }
};

class RecordingService {
 public:
  RecordingService(RecordingSettings settings, ConferenceService& conference, EventLog* events,
                   PostToControl post_to_control, TimerQueue* timers);
  ~RecordingService();
  RecordingService(const RecordingService&) = delete;
  RecordingService& operator=(const RecordingService&) = delete;

  // Reads the folder (interrupted recordings are closed), deletes expired ones and starts the
  // hourly retention sweep; listens for conference.ended on `events`.
  std::expected<void, std::string> open();

  std::expected<RecordingInfo, RecordingStartError> start(std::string_view conference_id);
  // Ends a running recording (reason `requested`); its final state is published when the file is
  // finalized. False when it is not running.
  bool stop(std::string_view recording_id, std::string_view reason = recording_reason::kRequested);
  // Shutdown: every running recording ends and is finalized before this returns (bounded by the
  // recorders' own waits).
  void stop_all();
  // Deletes a finished recording; an error while it runs or when the files cannot be removed.
  enum class RemoveResult { kRemoved, kNotFound, kRunning, kFailed };
  RemoveResult remove(std::string_view recording_id);

  [[nodiscard]] const RecordingCatalog& catalog() const { return catalog_; }
  [[nodiscard]] const RecordingCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t running() const { return active_.size(); }
  // The running recording of a conference, if any.
  [[nodiscard]] const RecordingInfo* running_in(std::string_view conference_id) const;
  // A stop was asked for and the file is being finalized.
  [[nodiscard]] bool stopping(std::string_view recording_id) const;
  // Bytes written so far by a running recording.
  [[nodiscard]] std::uint64_t live_bytes(std::string_view recording_id) const;
  [[nodiscard]] std::uint64_t quota_bytes() const { return settings_.quota_bytes; }
  [[nodiscard]] std::uint64_t used_bytes() const;

 private:
  struct Active;
  struct Finish;
  struct Finalized;

  std::expected<RecordingInfo, RecordingStartError> start_recording(std::string_view conference_id);
  void on_conference_ended(const std::string& conference_id);
  void on_recorder_finished(const std::string& recording_id, const Finish& finish);
  void close(Active& active, const Finish& finish);
  void detach_taps(const Active& active);
  void sweep_retention();
  void schedule_sweep();
  void publish(std::string_view type, const RecordingInfo& info);

  RecordingSettings settings_;
  ConferenceService& conference_;
  EventLog* events_;
  PostToControl post_;
  TimerQueue* timers_;
  RecordingCatalog catalog_;
  RecordingCounters counters_;
  std::map<std::string, std::unique_ptr<Active>, std::less<>> active_;  // by recording id
  EventLog::Subscription ended_subscription_;
  TimerQueue::TimerId sweep_timer_ = TimerQueue::kNoTimer;
  std::uint32_t next_tap_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // posted reports check it
};

}  // namespace chorus::conference
