// The two sides of an RFC 6665 notifier: the generic machinery (SubscriptionManager: dialogs,
// Expires, refresh, expiry, NOTIFY sending, rate limiting, versions) and an event package that
// knows what is watched (SubscriptionPackage: who may subscribe to what, and the state documents).
// The package reaches the manager only through SubscriptionNotifier, so a layer above signaling
// (the conference's roster, RFC 4575) implements a package without including the UA (DESIGN §1).
// Threading: control loop only (DESIGN §2).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::sip {

using SubscriptionId = std::uint64_t;

// A SUBSCRIBE that passed the generic checks (Event, Accept, Expires), for the package to judge.
struct SubscribeContext {
  const SipMessage& request;
  const PeerAddress& source;
  std::optional<CallHandle> call;  // it came inside this call's INVITE dialog (RFC 6665 §4.5.2)
  bool trusted = false;            // its source is in the trusted ranges (a trunk, a SIP front)
  // A re-SUBSCRIBE of an existing subscription: what it watches (its Request-URI is our Contact,
  // which names no resource). Empty for a new subscription.
  std::string_view resource;
};

struct SubscribeDecision {
  int status = 200;  // 200 accepts; any 3xx–6xx is the answer (404 unknown resource, 403 not allowed)
  std::string reason;
  std::string resource;  // accepted: the package's name for what is watched (a room id)
};

class SubscriptionPackage {
 public:
  virtual ~SubscriptionPackage() = default;
  // Who may watch what: called for each new SUBSCRIBE and each refresh (authorization may change).
  virtual SubscribeDecision on_subscribe(const SubscribeContext& context) = 0;
  // The body of the next NOTIFY of subscription `id` to `resource`, numbered `version` (RFC 4575
  // §4.1: one more for each document of a subscription): the full state when `full`, else what
  // changed since the last body made for `id`. nullopt: nothing changed, no NOTIFY is sent. The
  // package remembers what it handed out as what the subscriber knows; a NOTIFY that fails is
  // followed by a full one.
  virtual std::optional<std::string> state_for(SubscriptionId id, const std::string& resource, std::uint32_t version,
                                               bool full) = 0;
  // The subscription is gone (unsubscribed, expired, refused, failed): forget what it was sent.
  virtual void on_subscription_ended(SubscriptionId id) = 0;
};

// What a package asks of the manager when its resources change.
class SubscriptionNotifier {
 public:
  virtual ~SubscriptionNotifier() = default;
  // `resource` changed: each subscription to it gets a NOTIFY with what changed, no sooner than
  // max(min_notify_interval, `min_gap`) after its previous one; changes meanwhile are coalesced.
  virtual void notify_changed(std::string_view resource, std::chrono::milliseconds min_gap) = 0;
  // `resource` is gone: its subscriptions end with Subscription-State: terminated;reason=noresource
  // (RFC 6665 §4.2.2).
  virtual void terminate_resource(std::string_view resource) = 0;
};

}  // namespace chorus::sip
