#include "mixer/n_minus_one_mixer.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

namespace chorus::mixer {
namespace {

constexpr int kGainFractionBits = 14;  // Q14: 0 dB is exactly 1 << 14, so unity gain is exact

std::int32_t gain_to_q14(double gain_db) noexcept {
  return static_cast<std::int32_t>(std::lround(std::pow(10.0, gain_db / 20.0) * (1 << kGainFractionBits)));
}

EncodeFormat normalized(const EncodeFormat& format) {
  EncodeFormat out = format;
  for (char& c : out.codec) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

NMinusOneMixer::NMinusOneMixer(const MixerConfig& config)
    : config_(config), selector_(config.selector), shared_limiter_(config.limiter) {
  const std::size_t k = selector_.max_talkers();
  previous_talkers_.reserve(k);
  talker_participants_.reserve(k);
  contributed_.resize(k);
  contributions_.resize(k);
  talker_pcm_.resize(k);
  outputs_.reserve(k + 1);
}

NMinusOneMixer::Participant* NMinusOneMixer::find(ParticipantId id) noexcept {
  const auto it = index_.find(id);
  return it == index_.end() ? nullptr : &participants_[it->second];
}

bool NMinusOneMixer::add_participant(ParticipantId id, const ParticipantSettings& settings) {
  if (index_.contains(id) || participants_.size() >= config_.max_participants) return false;
  Participant p{.id = id, .detector = TalkerDetector(config_.detector), .own_limiter = Limiter(config_.limiter)};
  p.format_id = intern_format(settings.format);
  apply_settings(p, settings);
  index_.emplace(id, participants_.size());
  participants_.push_back(p);
  // Round buffers grow here, on the control path, never inside mix().
  candidates_.reserve(participants_.size());
  listeners_.reserve(participants_.size());
  grouped_listeners_.reserve(participants_.size());
  encodes_.reserve(participants_.size() + selector_.max_talkers());
  return true;
}

bool NMinusOneMixer::update_participant(ParticipantId id, const ParticipantSettings& settings) {
  Participant* p = find(id);
  if (p == nullptr) return false;
  const std::size_t old_format = p->format_id;
  p->format_id = intern_format(settings.format);
  release_format(old_format);
  apply_settings(*p, settings);
  return true;
}

void NMinusOneMixer::apply_settings(Participant& p, const ParticipantSettings& settings) {
  p.gain_db = std::clamp(settings.gain_db, kMinGainDb, kMaxGainDb);
  p.gain_q14 = gain_to_q14(p.gain_db);
  if (settings.muted && !p.muted) p.detector.reset();
  p.muted = settings.muted;
  p.always_mixed = settings.always_mixed;
  p.listening = settings.listening && !settings.always_mixed;
}

bool NMinusOneMixer::set_gain_db(ParticipantId id, double gain_db) {
  Participant* p = find(id);
  if (p == nullptr) return false;
  p->gain_db = std::clamp(gain_db, kMinGainDb, kMaxGainDb);
  p->gain_q14 = gain_to_q14(p->gain_db);
  return true;
}

bool NMinusOneMixer::set_muted(ParticipantId id, bool muted) {
  Participant* p = find(id);
  if (p == nullptr) return false;
  if (muted && !p->muted) p->detector.reset();
  p->muted = muted;
  return true;
}

bool NMinusOneMixer::remove_participant(ParticipantId id) {
  const auto it = index_.find(id);
  if (it == index_.end()) return false;
  const std::size_t at = it->second;
  release_format(participants_[at].format_id);
  index_.erase(it);
  if (at + 1 != participants_.size()) {
    participants_[at] = participants_.back();
    index_[participants_[at].id] = at;
  }
  participants_.pop_back();
  result_ = {};  // the last result may name the removed participant
  return true;
}

std::size_t NMinusOneMixer::intern_format(const EncodeFormat& format) {
  const EncodeFormat key = normalized(format);
  std::optional<std::size_t> free_slot;
  for (std::size_t i = 0; i < formats_.size(); ++i) {
    if (formats_[i].users > 0 && formats_[i].format == key) {
      ++formats_[i].users;
      return i;
    }
    if (formats_[i].users == 0 && !free_slot) free_slot = i;
  }
  if (free_slot) {
    formats_[*free_slot] = FormatSlot{key, 1};
    return *free_slot;
  }
  formats_.push_back(FormatSlot{key, 1});
  group_offsets_.resize(formats_.size() + 1);
  return formats_.size() - 1;
}

void NMinusOneMixer::release_format(std::size_t format_id) noexcept {
  if (format_id < formats_.size() && formats_[format_id].users > 0) --formats_[format_id].users;
}

const MixResult& NMinusOneMixer::mix(std::span<const MixInput> inputs) {
  ++counters_.rounds;
  begin_round();
  accept_inputs(inputs);
  detect_talkers();
  select_talkers();
  accumulate();
  render_outputs();
  assign_listeners();
  group_encodes();
  result_ =
      MixResult{.talkers = selector_.talkers(), .outputs = outputs_, .listeners = listeners_, .encodes = encodes_};
  return result_;
}

void NMinusOneMixer::begin_round() noexcept {
  for (Participant& p : participants_) {
    p.frame = {};
    p.deferred = nullptr;
    p.level_dbov.reset();
    p.voice_activity.reset();
    p.has_input = false;
    p.talker_slot.reset();
  }
}

void NMinusOneMixer::accept_inputs(std::span<const MixInput> inputs) noexcept {
  for (const MixInput& input : inputs) {
    Participant* p = find(input.id);
    if (p == nullptr) {
      ++counters_.dropped_unknown_participant;
      continue;
    }
    if (p->has_input) {
      ++counters_.dropped_duplicate_input;
      continue;
    }
    if (!input.frame.empty() && input.frame.size() != kFrameSamples) {
      ++counters_.dropped_bad_frame_size;
      continue;
    }
    p->has_input = true;
    p->frame = input.frame;
    p->voice_activity = input.voice_activity;
    if (input.level_dbov && *input.level_dbov > kSilenceLevelDbov) {
      ++counters_.ignored_bad_level;  // RFC 6464 levels are 7 bits; fall back to the energy
    } else {
      p->level_dbov = input.level_dbov;
    }
    if (input.frame.empty() && input.deferred != nullptr) {
      ++counters_.deferred_inputs;
      p->deferred = input.deferred;
      if (!p->level_dbov) frame_of(*p);  // no level given: the energy pass needs the samples
    }
  }
}

FrameView NMinusOneMixer::frame_of(Participant& p) noexcept {
  if (p.deferred == nullptr) return p.frame;
  DeferredFrame* deferred = std::exchange(p.deferred, nullptr);
  ++counters_.deferred_renders;
  const FrameView frame = deferred->render();
  if (frame.size() == kFrameSamples) {
    p.frame = frame;
  } else {
    ++counters_.dropped_bad_frame_size;
  }
  return p.frame;
}

void NMinusOneMixer::detect_talkers() noexcept {
  candidates_.clear();
  always_mixed_.clear();
  levels_.clear();  // keeps its capacity: no allocation per round once the room has grown
  for (Participant& p : participants_) {
    if (p.always_mixed) {
      if (!p.muted && !frame_of(p).empty()) always_mixed_.push_back(&p);
      continue;
    }
    if (p.muted) {
      levels_.push_back(ParticipantLevel{p.id, kSilenceLevelDbov, false});
      continue;
    }
    std::uint8_t level = kSilenceLevelDbov;
    if (p.level_dbov) {
      level = *p.level_dbov;
    } else if (!p.frame.empty()) {
      level = frame_level_dbov(p.frame);
      counters_.analysis_sample_ops += p.frame.size();
    }
    const bool voiced = p.detector.update(level, p.gain_db, p.voice_activity);
    if (voiced) candidates_.push_back(TalkerCandidate{.id = p.id, .level_db = p.detector.smoothed_level_db()});
    // The gain applies to the level too (the header comment): a participant turned down is quieter.
    const double gained = std::clamp(static_cast<double>(level) - p.gain_db, 0.0, double{kSilenceLevelDbov});
    levels_.push_back(ParticipantLevel{p.id, static_cast<std::uint8_t>(gained), voiced});
  }
}

void NMinusOneMixer::select_talkers() {
  const std::span<const ParticipantId> before = selector_.talkers();
  previous_talkers_.assign(before.begin(), before.end());
  const std::span<const ParticipantId> talkers = selector_.select(candidates_);
  talker_participants_.clear();
  for (std::size_t slot = 0; slot < talkers.size(); ++slot) {
    Participant* p = find(talkers[slot]);
    p->talker_slot = slot;
    talker_participants_.push_back(p);
    // A new talker was hearing everyone's mix through the shared limiter: its own output starts
    // from that limiter's state, so the level it hears does not jump.
    if (!std::binary_search(previous_talkers_.begin(), previous_talkers_.end(), p->id)) {
      p->own_limiter = shared_limiter_;
    }
  }
}

// The one sum: each talker's gain-applied frame is kept (for its own N−1) and added in.
void NMinusOneMixer::accumulate() noexcept {
  sum_.fill(0);
  counters_.mix_sample_ops += kFrameSamples;
  for (std::size_t slot = 0; slot < talker_participants_.size(); ++slot) {
    Participant& p = *talker_participants_[slot];
    contributed_[slot] = !frame_of(p).empty();
    if (!contributed_[slot]) continue;  // a talker in its hangover sent nothing this round
    MixBuffer& own = contributions_[slot];
    const std::int64_t q = p.gain_q14;
    for (std::size_t i = 0; i < kFrameSamples; ++i) {
      // Round half up in Q14; at 0 dB this is the sample itself.
      own[i] = static_cast<std::int32_t>((p.frame[i] * q + (1 << (kGainFractionBits - 1))) >> kGainFractionBits);
      sum_[i] += own[i];
    }
    counters_.mix_sample_ops += kFrameSamples;
  }
  // Announcers are in every output: in the sum, and so in each talker's sum − own as well.
  for (const Participant* p : always_mixed_) {
    const std::int64_t q = p->gain_q14;
    for (std::size_t i = 0; i < kFrameSamples; ++i)
      sum_[i] += static_cast<std::int32_t>((p->frame[i] * q + (1 << (kGainFractionBits - 1))) >> kGainFractionBits);
    counters_.mix_sample_ops += kFrameSamples;
  }
}

// K + 1 distinct outputs: everyone's mix, then sum − own for each talker, each through its limiter.
void NMinusOneMixer::render_outputs() noexcept {
  outputs_.clear();
  counters_.mix_sample_ops += shared_limiter_.process(sum_, shared_pcm_);
  if (shared_limiter_.gain() < 1.0) ++counters_.limited_outputs;
  outputs_.push_back(MixOutput{.excluded = std::nullopt, .pcm = shared_pcm_});
  for (std::size_t slot = 0; slot < talker_participants_.size(); ++slot) {
    Participant& p = *talker_participants_[slot];
    const MixBuffer* source = &sum_;
    if (contributed_[slot]) {
      const MixBuffer& own = contributions_[slot];
      for (std::size_t i = 0; i < kFrameSamples; ++i) scratch_[i] = sum_[i] - own[i];
      counters_.mix_sample_ops += kFrameSamples;
      source = &scratch_;
    }
    counters_.mix_sample_ops += p.own_limiter.process(*source, talker_pcm_[slot]);
    if (p.own_limiter.gain() < 1.0) ++counters_.limited_outputs;
    outputs_.push_back(MixOutput{.excluded = p.id, .pcm = talker_pcm_[slot]});
  }
}

void NMinusOneMixer::assign_listeners() noexcept {
  listeners_.clear();
  for (const Participant& p : participants_) {
    if (!p.listening) continue;
    listeners_.push_back(ListenerAssignment{.listener = p.id, .output = p.talker_slot ? *p.talker_slot + 1 : 0});
    ++counters_.listener_ops;
  }
}

// A counting sort of the non-talker listeners by format id (O(N + formats)), then one group per
// format in use, then one group per listening talker.
void NMinusOneMixer::group_encodes() {
  encodes_.clear();
  grouped_listeners_.clear();
  std::fill(group_offsets_.begin(), group_offsets_.end(), 0);
  for (const Participant& p : participants_) {
    if (p.listening && !p.talker_slot) ++group_offsets_[p.format_id + 1];
  }
  for (std::size_t f = 1; f < group_offsets_.size(); ++f) group_offsets_[f] += group_offsets_[f - 1];
  const std::size_t shared_count = group_offsets_.back();
  grouped_listeners_.resize(shared_count);
  for (const Participant& p : participants_) {
    if (p.listening && !p.talker_slot) grouped_listeners_[group_offsets_[p.format_id]++] = p.id;
  }
  // Each offset now marks its group's end; the previous one (or 0) its start.
  std::size_t start = 0;
  for (std::size_t f = 0; f < formats_.size(); ++f) {
    const std::size_t end = group_offsets_[f];
    if (end > start) {
      encodes_.push_back(EncodeGroup{.output = 0,
                                     .format = &formats_[f].format,
                                     .listeners = std::span(grouped_listeners_).subspan(start, end - start)});
    }
    start = end;
  }
  for (const Participant* p : talker_participants_) {
    if (p->listening) grouped_listeners_.push_back(p->id);  // capacity reserved: no reallocation
  }
  std::size_t next = shared_count;
  for (std::size_t slot = 0; slot < talker_participants_.size(); ++slot) {
    const Participant& p = *talker_participants_[slot];
    if (!p.listening) continue;
    encodes_.push_back(EncodeGroup{.output = slot + 1,
                                   .format = &formats_[p.format_id].format,
                                   .listeners = std::span(grouped_listeners_).subspan(next++, 1)});
  }
  counters_.encodes += encodes_.size();
}

}  // namespace chorus::mixer
