#include "conference/recording/recording_service.hpp"

#include <condition_variable>
#include <mutex>
#include <system_error>
#include <vector>

#include "common/log.hpp"
#include "conference/conference_service.hpp"
#include "mixer/recording/recorder.hpp"
#include "mixer/video/video_compositor.hpp"

namespace chorus::conference {
namespace {

using SystemClock = std::chrono::system_clock;
constexpr std::chrono::hours kSweepInterval{1};
constexpr std::chrono::seconds kShutdownWait{6};  // the recorder's own bound is 5 s
constexpr std::string_view kRecordingPrompt = "recording_started";
// Recorders join a video class under an id no participant has (participant ids count from 1).
constexpr mixer::ParticipantId kFirstRecorderTap = 0xF0000000U;

}  // namespace

// Set by the recorder's thread when its file is finalized: shutdown waits on it, since the taps
// on the workers may keep the Recorder itself alive a little longer.
struct RecordingService::Finalized {
  std::mutex mutex;
  std::condition_variable changed;
  bool done = false;

  void set() {
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    changed.notify_all();
  }
  bool wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [this] { return done; });
  }
};

struct RecordingService::Active {
  RecordingInfo info;
  std::shared_ptr<Finalized> finalized = std::make_shared<Finalized>();
  std::shared_ptr<mixer::Recorder> recorder;  // the taps on the workers hold it too
  mixer::ParticipantId video_tap = 0;         // 0: no video
  std::string stop_reason;                    // set by stop(); a recorder that ends itself says why
};

struct RecordingService::Finish {
  mixer::RecorderEnd end = mixer::RecorderEnd::kStopped;
  std::string error;
  std::uint64_t bytes = 0;
};

RecordingService::RecordingService(RecordingSettings settings, ConferenceService& conference, EventLog* events,
                                   PostToControl post_to_control, TimerQueue* timers)
    : settings_(std::move(settings)),
      conference_(conference),
      events_(events),
      post_(std::move(post_to_control)),
      timers_(timers),
      catalog_(settings_.dir) {}

RecordingService::~RecordingService() {
  *alive_ = false;
  if (timers_ != nullptr && sweep_timer_ != TimerQueue::kNoTimer) timers_->cancel(sweep_timer_);
  stop_all();
}

std::expected<void, std::string> RecordingService::open() {
  if (auto opened = catalog_.open(SystemClock::now()); !opened) return opened;
  sweep_retention();
  schedule_sweep();
  if (events_ != nullptr && post_)
    ended_subscription_ = events_->subscribe([this, alive = std::weak_ptr<bool>(alive_)](const Event& event) {
      // Another node's conference (issue 14, relayed into this log) is not this node's to stop.
      if (event.type != event_type::kConferenceEnded || !event.node.empty()) return;
      // Not from inside publish(): stopping publishes events of its own.
      post_([this, alive, room = event.data.value("conference_id", std::string())] {
        if (alive.lock()) on_conference_ended(room);
      });
    });
  return {};
}

const RecordingInfo* RecordingService::running_in(std::string_view conference_id) const {
  for (const auto& [id, active] : active_)
    if (active->info.conference_id == conference_id) return &active->info;
  return nullptr;
}

bool RecordingService::stopping(std::string_view recording_id) const {
  auto it = active_.find(recording_id);
  return it != active_.end() && !it->second->stop_reason.empty();
}

std::uint64_t RecordingService::live_bytes(std::string_view recording_id) const {
  auto it = active_.find(recording_id);
  return it == active_.end() ? 0 : it->second->recorder->bytes_written();
}

std::uint64_t RecordingService::used_bytes() const {
  std::uint64_t used = 0;
  for (const RecordingInfo* info : catalog_.list())
    used += active_.contains(info->id) ? live_bytes(info->id) : info->bytes;
  return used;
}

std::expected<RecordingInfo, RecordingStartError> RecordingService::start(std::string_view conference_id) {
  auto started = start_recording(conference_id);
  bump(started ? counters_.started : counters_.refused);
  if (!started)
    CHORUS_LOG(kInfo, "recording", "recording not started", {"conference", conference_id},
               {"detail", started.error().detail});
  return started;
}

std::expected<RecordingInfo, RecordingStartError> RecordingService::start_recording(std::string_view conference_id) {
  if (conference_.participants_in(conference_id) == 0)
    return std::unexpected(RecordingStartError{RecordingRefusal::kNoConference, "nobody is in the conference"});
  if (const auto* running = running_in(conference_id))
    return std::unexpected(RecordingStartError{RecordingRefusal::kAlreadyRecording, running->id});
  if (active_.size() >= settings_.max_concurrent)
    return std::unexpected(RecordingStartError{RecordingRefusal::kTooMany, std::to_string(active_.size())});
  const std::uint64_t used = used_bytes();
  if (settings_.quota_bytes != 0 && used >= settings_.quota_bytes)
    return std::unexpected(RecordingStartError{RecordingRefusal::kQuotaReached, std::to_string(used)});

  const auto codec = conference_.video_mcu().recording_codec(conference_id);
  RecordingInfo info;
  info.id = new_recording_id();
  info.conference_id = std::string(conference_id);
  info.started_at = SystemClock::now();
  info.extension = codec == mixer::VideoCodec::kH264 ? "mkv" : "webm";
  info.media_type = !codec ? "audio/webm" : (*codec == mixer::VideoCodec::kH264 ? "video/x-matroska" : "video/webm");
  // The sidecar first: a chorusd killed from here on leaves a recording the next start closes.
  if (auto saved = catalog_.save(info); !saved) {
    (void)catalog_.remove(info.id);
    return std::unexpected(RecordingStartError{RecordingRefusal::kCannotRecord, saved.error()});
  }

  mixer::RecorderSpec spec;
  spec.path = catalog_.media_path(info);
  spec.video = !codec
                   ? mixer::RecordingVideo::kNone
                   : (*codec == mixer::VideoCodec::kH264 ? mixer::RecordingVideo::kH264 : mixer::RecordingVideo::kVp8);
  spec.video_payload_type = mixer::kClassPayloadType;
  spec.max_bytes = settings_.quota_bytes == 0 ? 0 : settings_.quota_bytes - used;
  auto active = std::make_unique<Active>();
  active->info = info;
  auto finished = [post = post_, alive = std::weak_ptr<bool>(alive_), this, id = info.id,
                   finalized = active->finalized](const mixer::RecorderResult& result) {
    finalized->set();
    if (!post) return;
    post([this, alive, id, finish = Finish{result.end, result.error, result.bytes}] {
      if (alive.lock()) on_recorder_finished(id, finish);
    });
  };
  auto recorder = mixer::Recorder::start(spec, std::move(finished));
  if (!recorder) {
    (void)catalog_.remove(info.id);
    return std::unexpected(RecordingStartError{RecordingRefusal::kCannotRecord, recorder.error()});
  }

  active->recorder = std::shared_ptr<mixer::Recorder>(std::move(*recorder));
  conference_.audio().set_mix_tap(conference_id, [recorder = active->recorder](std::span<const mixer::Sample> frame) {
    recorder->push_audio(frame);
  });
  if (codec) {
    active->video_tap = kFirstRecorderTap + (next_tap_++ % 0x0FFFFFFFU);
    conference_.video_mcu().attach_recorder(
        conference_id, active->video_tap, *codec,
        [recorder = active->recorder](std::span<const std::uint8_t> rtp) { recorder->push_video_rtp(rtp); });
  }
  active_.emplace(info.id, std::move(active));
  if (settings_.announce) conference_.audio().announce_prompt(conference_id, kRecordingPrompt);
  CHORUS_LOG(kInfo, "recording", "recording started", {"recording", info.id}, {"conference", info.conference_id},
             {"media_type", info.media_type}, {"max_bytes", spec.max_bytes});
  publish(event_type::kRecordingStarted, info);
  return info;
}

void RecordingService::detach_taps(const Active& active) {
  conference_.audio().set_mix_tap(active.info.conference_id, {});
  if (active.video_tap != 0) conference_.video_mcu().detach_recorder(active.info.conference_id, active.video_tap);
}

bool RecordingService::stop(std::string_view recording_id, std::string_view reason) {
  auto it = active_.find(recording_id);
  if (it == active_.end()) return false;
  Active& active = *it->second;
  if (active.stop_reason.empty()) active.stop_reason = std::string(reason);
  detach_taps(active);
  active.recorder->stop();  // on_recorder_finished when the file is finalized
  return true;
}

void RecordingService::on_conference_ended(const std::string& conference_id) {
  if (const auto* running = running_in(conference_id))
    stop(std::string(running->id), recording_reason::kConferenceEnded);
}

void RecordingService::on_recorder_finished(const std::string& recording_id, const Finish& finish) {
  auto it = active_.find(recording_id);
  if (it == active_.end()) return;
  std::unique_ptr<Active> active = std::move(it->second);
  active_.erase(it);
  detach_taps(*active);
  close(*active, finish);
}

void RecordingService::stop_all() {
  // Synchronous: each file is finalized (bounded by the recorder's own wait) before chorusd exits.
  while (!active_.empty()) {
    auto it = active_.begin();
    std::unique_ptr<Active> active = std::move(it->second);
    active_.erase(it);
    detach_taps(*active);
    active->recorder->stop();
    if (!active->finalized->wait_for(kShutdownWait))
      CHORUS_LOG(kWarn, "recording", "recording not finalized in time at shutdown", {"recording", active->info.id});
    active->stop_reason = std::string(recording_reason::kShutdown);
    close(*active, Finish{mixer::RecorderEnd::kStopped, {}, active->recorder->bytes_written()});
    active->recorder.reset();  // the taps may hold it a moment longer; its file is complete
  }
}

// The recording's final state, saved, logged, counted and published.
void RecordingService::close(Active& active, const Finish& finish) {
  RecordingInfo& info = active.info;
  const bool failed = finish.end == mixer::RecorderEnd::kFailed;
  info.state = failed ? RecordingState::kFailed : RecordingState::kStopped;
  info.stopped_at = SystemClock::now();
  info.bytes = catalog_.media_size(info, finish.bytes);
  info.error = finish.error;
  if (failed)
    info.reason = std::string(recording_reason::kError);
  else if (finish.end == mixer::RecorderEnd::kLimitReached)
    info.reason = std::string(recording_reason::kQuota);
  else
    info.reason = active.stop_reason.empty() ? std::string(recording_reason::kRequested) : active.stop_reason;
  if (auto saved = catalog_.save(info); !saved)
    CHORUS_LOG(kError, "recording", "cannot save the recording's sidecar", {"recording", info.id},
               {"error", saved.error()});
  if (failed)
    CHORUS_LOG(kWarn, "recording", "recording failed", {"recording", info.id}, {"conference", info.conference_id},
               {"bytes", info.bytes}, {"error", info.error});
  else
    CHORUS_LOG(kInfo, "recording", "recording stopped", {"recording", info.id}, {"conference", info.conference_id},
               {"reason", info.reason}, {"bytes", info.bytes}, {"dropped", active.recorder->dropped()});
  bump(failed ? counters_.failed : counters_.stopped);
  // What the recorder could not take (a stalled disk filled its queues): a gap in the file.
  counters_.dropped.fetch_add(active.recorder->dropped(), std::memory_order_relaxed);
  publish(failed ? event_type::kRecordingFailed : event_type::kRecordingStopped, info);
}

RecordingService::RemoveResult RecordingService::remove(std::string_view recording_id) {
  if (active_.contains(recording_id)) return RemoveResult::kRunning;
  if (catalog_.find(recording_id) == nullptr) return RemoveResult::kNotFound;
  if (auto removed = catalog_.remove(recording_id); !removed) {
    CHORUS_LOG(kError, "recording", "cannot delete a recording", {"recording", recording_id},
               {"error", removed.error()});
    return RemoveResult::kFailed;
  }
  CHORUS_LOG(kInfo, "recording", "recording deleted", {"recording", recording_id});
  return RemoveResult::kRemoved;
}

void RecordingService::sweep_retention() {
  if (settings_.retention.count() <= 0) return;
  for (const std::string& id : catalog_.expired(SystemClock::now(), settings_.retention)) {
    if (remove(id) == RemoveResult::kRemoved)
      CHORUS_LOG(kInfo, "recording", "recording past its retention deleted", {"recording", id},
                 {"retention_s", settings_.retention.count()});
  }
}

void RecordingService::schedule_sweep() {
  if (timers_ == nullptr || settings_.retention.count() <= 0) return;
  sweep_timer_ = timers_->schedule(std::chrono::duration_cast<Millis>(kSweepInterval),
                                   [this, alive = std::weak_ptr<bool>(alive_)] {
                                     if (!alive.lock()) return;
                                     sweep_timer_ = TimerQueue::kNoTimer;
                                     sweep_retention();
                                     schedule_sweep();
                                   });
}

void RecordingService::publish(std::string_view type, const RecordingInfo& info) {
  if (events_ == nullptr) return;
  events_->publish(type, nlohmann::json{{"recording_id", info.id},
                                        {"conference_id", info.conference_id},
                                        {"state", to_string(info.state)},
                                        {"media_type", info.media_type},
                                        {"bytes", info.bytes},
                                        {"reason", info.reason},
                                        {"error", info.error}});
}

}  // namespace chorus::conference
