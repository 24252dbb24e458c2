// Session timers (RFC 4028) as the UAS of a dialog: negotiating the interval and the refresher from
// a request, and the response headers that carry the result. Pure functions; the UA arms the timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

struct SessionTimerPolicy {
  std::uint32_t session_expires = 1800;  // our preferred interval, seconds (§4 recommends 1800)
  std::uint32_t min_se = 90;             // §4: never below 90
};

struct SessionTimerOutcome {
  // §9: a Session-Expires below our Min-SE is answered 422 with our Min-SE.
  bool too_small = false;
  std::uint32_t min_se = 90;
  // When set, a session timer runs with this interval; `we_refresh` says who refreshes.
  std::optional<std::uint32_t> interval;
  bool we_refresh = false;
  bool peer_supports_timer = false;

  // Headers for the 2xx (Session-Expires, Require: timer) or the 422 (Min-SE).
  [[nodiscard]] std::vector<Header> response_headers() const;
  // When the refresher must refresh: half the interval (§10).
  [[nodiscard]] std::chrono::milliseconds refresh_after() const;
  // When the other side gives up on a silent refresher (§10): interval - min(32 s, interval / 3).
  [[nodiscard]] std::chrono::milliseconds expire_after() const;
};

SessionTimerOutcome negotiate_session_timer(const SipMessage& request, const SessionTimerPolicy& policy);

}  // namespace chorus::sip
