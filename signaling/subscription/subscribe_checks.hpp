// The header checks of an RFC 6665 notifier, free of state so they are tested line by line: the
// Event header's package and id (§8.2.1, §7.2.1), Expires (§4.2.1.1: 423 below the minimum, the
// maximum answered instead of a longer one), and Accept against the package's body type (§4.2.1.1,
// RFC 3261 §8.2.3: 406).
// Threading: none (pure functions).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

// An Event header value: "conference;id=42" → {package "conference", id "42"}.
struct EventHeader {
  std::string package;
  std::string id;  // empty: none (§7.2.1: subscriptions without id are matched by package only)
};

// The request's Event header, or nullopt when it has none or an empty package.
std::optional<EventHeader> event_of(const SipMessage& request);

struct ExpiresLimits {
  std::chrono::seconds min{60};
  std::chrono::seconds max{3600};
  std::chrono::seconds fallback{3600};  // when the SUBSCRIBE has no Expires (the package default)
};

// What a SUBSCRIBE's Expires comes to: the duration granted, or the refusal status (400 for a value
// that is not a number, 423 for one below the minimum; 0 is allowed: unsubscribe or fetch).
struct ExpiresDecision {
  int status = 200;
  std::chrono::seconds granted{0};
};
ExpiresDecision granted_expires(const SipMessage& request, const ExpiresLimits& limits);

// Whether the request's Accept headers allow `content_type` ("application/conference-info+xml"):
// no Accept at all means the package's default type (RFC 6665 §4.2.1.1), which is this one; a type
// matches exactly or through "application/*" and "*/*", parameters ignored, case-insensitively.
bool accepts(const SipMessage& request, std::string_view content_type);

}  // namespace chorus::sip
