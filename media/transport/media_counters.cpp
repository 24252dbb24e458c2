#include "media/transport/media_counters.hpp"

namespace chorus::media {

MediaCountersSnapshot& MediaCountersSnapshot::operator+=(const MediaCountersSnapshot& other) {
  packets_in += other.packets_in;
  packets_out += other.packets_out;
  dropped_auth += other.dropped_auth;
  dropped_replay += other.dropped_replay;
  dropped_source += other.dropped_source;
  foreign_source_drops += other.foreign_source_drops;
  dropped_dtls_unvalidated += other.dropped_dtls_unvalidated;
  dropped_malformed += other.dropped_malformed;
  dropped_unroutable += other.dropped_unroutable;
  feedback_unmatched += other.feedback_unmatched;
  dropped_send += other.dropped_send;
  dtls_connected += other.dtls_connected;
  dtls_failed += other.dtls_failed;
  stun_answered += other.stun_answered;
  source_changes += other.source_changes;
  media_timeouts += other.media_timeouts;
  sessions += other.sessions;
  return *this;
}

MediaCountersSnapshot MediaCounters::snapshot() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  MediaCountersSnapshot s;
  s.packets_in = packets_in.load(kRelaxed);
  s.packets_out = packets_out.load(kRelaxed);
  s.dropped_auth = dropped_auth.load(kRelaxed);
  s.dropped_replay = dropped_replay.load(kRelaxed);
  s.dropped_source = dropped_source.load(kRelaxed);
  s.foreign_source_drops = foreign_source_drops.load(kRelaxed);
  s.dropped_dtls_unvalidated = dropped_dtls_unvalidated.load(kRelaxed);
  s.dropped_malformed = dropped_malformed.load(kRelaxed);
  s.dropped_unroutable = dropped_unroutable.load(kRelaxed);
  s.feedback_unmatched = feedback_unmatched.load(kRelaxed);
  s.dropped_send = dropped_send.load(kRelaxed);
  s.dtls_connected = dtls_connected.load(kRelaxed);
  s.dtls_failed = dtls_failed.load(kRelaxed);
  s.stun_answered = stun_answered.load(kRelaxed);
  s.source_changes = source_changes.load(kRelaxed);
  s.media_timeouts = media_timeouts.load(kRelaxed);
  s.sessions = sessions.load(kRelaxed);
  return s;
}

}  // namespace chorus::media
