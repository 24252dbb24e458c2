#include "conference/schedule/occurrences.hpp"

#include <algorithm>
#include <set>

#include "conference/schedule/ical_support.hpp"

namespace chorus::conference {

namespace {

using TimePoint = std::chrono::system_clock::time_point;
using std::chrono::seconds;

struct Window {
  TimePoint from;
  TimePoint to;
  std::size_t limit;
};

std::set<TimePoint> exdate_set(const Meeting& meeting) {
  std::set<TimePoint> exdates;
  for (const TimePoint exdate : meeting.exdates) exdates.insert(std::chrono::floor<seconds>(exdate));
  return exdates;
}

// RFC 5545 §3.8.5.3: the instances of `rule` from the wall-clock start in `zone`, each back in
// UTC. Most rules without COUNT let libical start near the window (icalrecur_iterator_set_start).
std::expected<std::vector<Occurrence>, std::string> expand_rule(const Meeting& meeting, icalrecurrencetype rule,
                                                                icaltimezone* zone, const Window& window) {
  const TimePoint start = std::chrono::floor<seconds>(meeting.start);
  const auto duration = std::chrono::floor<seconds>(meeting.end) - start;
  const ical_support::RecurIteratorPtr iterator(icalrecur_iterator_new(rule, ical_support::to_zone_time(start, zone)));
  if (!iterator) return std::unexpected("rrule yields no occurrence");
  // An occurrence overlapping the window starts after from - duration.
  const TimePoint scan_from = window.from - duration;
  // libical 3.0.16's set_start loses the phase of HOURLY;INTERVAL>1 (tested); those scan from
  // the start, like rules with COUNT (where set_start is not allowed).
  const bool can_skip = rule.count == 0 && !(rule.freq == ICAL_HOURLY_RECURRENCE && rule.interval > 1);
  if (can_skip && scan_from > start) {
    icalrecur_iterator_set_start(iterator.get(), ical_support::to_zone_time(scan_from, zone));
  }
  const std::set<TimePoint> exdates = exdate_set(meeting);
  std::vector<Occurrence> occurrences;
  for (std::size_t scanned = 0; scanned < kMaxScannedInstances && occurrences.size() < window.limit; ++scanned) {
    const icaltimetype next = icalrecur_iterator_next(iterator.get());
    if (icaltime_is_null_time(next)) break;
    const TimePoint occurrence_start = ical_support::to_instant(next, zone);
    if (occurrence_start >= window.to) break;
    if (occurrence_start + duration <= window.from || exdates.contains(occurrence_start)) continue;
    occurrences.push_back({occurrence_start, occurrence_start + duration});
  }
  return occurrences;
}

}  // namespace

std::expected<std::vector<Occurrence>, std::string> expand_occurrences(const Meeting& meeting, TimePoint from,
                                                                       TimePoint to, std::size_t limit) {
  if (limit == 0 || limit > kMaxOccurrences) return std::unexpected("limit must be 1 to 1000");
  if (to <= from) return std::unexpected("the window's end must be after its start");
  if (meeting.end <= meeting.start) return std::unexpected("the meeting ends before it starts");
  icaltimezone* zone = ical_support::find_zone(meeting.timezone);
  if (zone == nullptr) return std::unexpected("unknown timezone " + meeting.timezone);
  if (meeting.cancelled) return std::vector<Occurrence>{};
  if (meeting.rrule.empty()) {
    const Occurrence only{std::chrono::floor<seconds>(meeting.start), std::chrono::floor<seconds>(meeting.end)};
    const bool excluded = exdate_set(meeting).contains(only.start);
    if (excluded || only.end <= from || only.start >= to) return std::vector<Occurrence>{};
    return std::vector<Occurrence>{only};
  }
  const auto rule = ical_support::parse_rrule(meeting.rrule);
  if (!rule) return std::unexpected(rule.error());
  return expand_rule(meeting, *rule, zone, Window{from, to, limit});
}

std::optional<Occurrence> current_or_next_window(const Meeting& meeting, TimePoint now) {
  // Windows that hold `now` belong to occurrences overlapping [now, now + join_window_before].
  const auto before = std::max(meeting.join_window_before, std::chrono::minutes{0});
  const auto occurrences = expand_occurrences(meeting, now - seconds{1}, now + before + seconds{1}, 16);
  if (!occurrences) return std::nullopt;
  for (const Occurrence& occurrence : *occurrences) {
    if (occurrence.start - before <= now && now <= occurrence.end) return occurrence;
  }
  return std::nullopt;
}

std::optional<Occurrence> next_occurrence(const Meeting& meeting, TimePoint now) {
  // Occurrences repeat at most hourly and last at most 24 hours, so at most 24 of them overlap
  // `now` and the first 64 from `now` include the next one to start.
  const auto occurrences = expand_occurrences(meeting, now, TimePoint::max(), 64);
  if (!occurrences) return std::nullopt;
  for (const Occurrence& occurrence : *occurrences) {
    if (occurrence.start > now) return occurrence;
  }
  return std::nullopt;
}

}  // namespace chorus::conference
