#include "conference/ivr/pin_guard.hpp"

#include <algorithm>

namespace chorus::conference {

namespace {

// 2^30 minutes is far beyond any cap; stopping the shift there keeps it defined.
constexpr int kMaxBackoffShift = 30;

template <typename Map, typename Expired, typename QuietSince>
void make_room_for_one(Map& map, std::size_t limit, Expired expired, QuietSince quiet_since) {
  if (map.size() < limit) return;
  std::erase_if(map, [&](const auto& entry) { return expired(entry.second); });
  if (map.size() < limit || map.empty()) return;
  // Still full: forget the entry quiet for longest (an attacker with that many addresses gets
  // past any per-source count anyway; the room count still sees it).
  auto oldest = std::ranges::min_element(
      map, [&](const auto& a, const auto& b) { return quiet_since(a.second) < quiet_since(b.second); });
  map.erase(oldest);
}

}  // namespace

PinGuard::PinGuard(PinGuardConfig config) : config_(config) {
  config_.max_failures = std::max(config_.max_failures, 1);
  config_.room_max_failures = std::max(config_.room_max_failures, 1);
  config_.max_sources = std::max<std::size_t>(config_.max_sources, 1);
  config_.first_lockout = std::max(config_.first_lockout, std::chrono::seconds(1));
  config_.max_lockout = std::max(config_.max_lockout, config_.first_lockout);
}

std::chrono::seconds PinGuard::lockout_for(int level) const {
  const int shift = std::clamp(level, 0, kMaxBackoffShift);
  const auto doubled = config_.first_lockout.count() * (std::int64_t{1} << shift);
  return std::min(std::chrono::seconds(doubled), config_.max_lockout);
}

bool PinGuard::source_expired(const SourceState& state, TimePoint now) const {
  return now >= std::max(state.last_failure, state.locked_until) + config_.max_lockout;
}

bool PinGuard::room_expired(const RoomState& state, TimePoint now) const {
  return now >= state.guarded_until && now >= state.window_start + config_.window;
}

PinVerdict PinGuard::check(std::string_view source, std::string_view room, TimePoint now) const {
  const auto found = sources_.find(std::string(source));
  if (found == sources_.end() || source_expired(found->second, now)) return PinVerdict::kAllowed;
  if (now < found->second.locked_until) return PinVerdict::kSourceLockedOut;
  // The source has failed before (and is remembered): a guarded room refuses it.
  if (const auto guarded = rooms_.find(std::string(room));
      guarded != rooms_.end() && now < guarded->second.guarded_until)
    return PinVerdict::kRoomGuarded;
  return PinVerdict::kAllowed;
}

std::optional<TimePoint> PinGuard::locked_until(std::string_view source, TimePoint now) const {
  const auto found = sources_.find(std::string(source));
  if (found == sources_.end() || now >= found->second.locked_until) return std::nullopt;
  return found->second.locked_until;
}

PinGuard::SourceState& PinGuard::source_state(std::string_view source, TimePoint now) {
  std::string key(source);
  if (auto found = sources_.find(key); found != sources_.end()) {
    if (source_expired(found->second, now)) found->second = SourceState{};
    return found->second;
  }
  make_room_for_one(
      sources_, config_.max_sources, [&](const SourceState& s) { return source_expired(s, now); },
      [](const SourceState& s) { return std::max(s.last_failure, s.locked_until); });
  return sources_[std::move(key)];
}

PinGuard::RoomState& PinGuard::room_state(std::string_view room, TimePoint now) {
  std::string key(room);
  if (auto found = rooms_.find(key); found != rooms_.end()) return found->second;
  make_room_for_one(
      rooms_, config_.max_sources, [&](const RoomState& r) { return room_expired(r, now); },
      [](const RoomState& r) { return std::max(r.window_start, r.guarded_until); });
  return rooms_[std::move(key)];
}

std::optional<PinLockout> PinGuard::count_in_room(std::string_view room, TimePoint now) {
  RoomState& state = room_state(room, now);
  if (state.failures == 0 || now >= state.window_start + config_.window) {
    state.failures = 0;
    state.window_start = now;
  }
  if (++state.failures < config_.room_max_failures) return std::nullopt;
  PinLockout lockout{PinLockout::Scope::kRoom, std::string(room),    {},
                     state.failures,           now + config_.window, config_.window};
  state.guarded_until = lockout.until;
  state.failures = 0;  // the next window starts with the next failure
  return lockout;
}

PinFailureResult PinGuard::record_failure(std::string_view source, std::string_view room, TimePoint now) {
  if (check(source, room, now) != PinVerdict::kAllowed) return {};
  PinFailureResult result;
  SourceState& state = source_state(source, now);
  if (state.failures == 0 || now >= state.window_start + config_.window) {
    state.failures = 0;
    state.window_start = now;
  }
  state.last_failure = now;
  if (++state.failures >= config_.max_failures) {
    const auto duration = lockout_for(state.lockouts);
    state.locked_until = now + duration;
    ++state.lockouts;
    result.source_lockout =
        PinLockout{PinLockout::Scope::kSource, std::string(room), std::string(source), state.failures,
                   state.locked_until,         duration};
    state.failures = 0;
  }
  result.room_lockout = count_in_room(room, now);
  return result;
}

void PinGuard::record_success(std::string_view source) {
  if (auto found = sources_.find(std::string(source)); found != sources_.end()) found->second.failures = 0;
}

}  // namespace chorus::conference
