// SubscriptionManager: the notifier side of RFC 6665 for one event package, on the UserAgent's
// method-handler hook (signaling/ua/method_handler.hpp).
//
// A SUBSCRIBE outside any dialog creates a subscription with its own dialog (§4.1, §4.2.1; the
// dialog is ours, signaling/dialog); one inside a call's INVITE dialog shares that dialog (§4.5.2)
// and its NOTIFYs go with UserAgent::send_in_call. Checks in order: Event (489 Bad Event with
// Allow-Events, §4.2.1.1), Accept (406), Expires (423 with Min-Expires; longer than the maximum is
// answered with the maximum), the package's decision (404, 403), then the limits (total: 503 with
// Retry-After; per source IP and per resource: 486, like the UA's call limit per source, so a proxy
// in front does not take the whole server out of service). Accepted: 200 (§4.2.1.1 — 202 is
// deprecated) with Expires and Contact, then at once a NOTIFY with the full state and
// `Subscription-State: active;expires=N` (§4.2.1.2).
//
// Afterwards: the package's notify_changed sends each subscription a NOTIFY with what changed
// (partial state), rate limited: at most one NOTIFY in flight per subscription (they arrive in
// CSeq order), and none sooner than min_notify_interval (or the change's own gap) after the
// previous one; changes meanwhile are coalesced into the next. A re-SUBSCRIBE in the dialog
// refreshes (re-authorised, answered with the new Expires, followed by a full NOTIFY); Expires: 0
// unsubscribes (§4.2.1.4: 200, then a final NOTIFY `terminated;reason=timeout`); an initial
// SUBSCRIBE with Expires: 0 is a fetch (§4.4.3: one NOTIFY with the state, terminated). Expiry
// sends `terminated;reason=timeout` (§4.2.2). A NOTIFY answered 481 or 408, or timing out, removes
// the subscription at once (§4.2.2); any other failure is retried with the full state up to
// max_notify_retries times, each after retry_delay, then the subscription is removed.
//
// NOTIFYs of an own dialog go to the dialog's next hop only when that is the SUBSCRIBE's source IP
// (or the source is trusted): a SUBSCRIBE's Contact cannot aim our NOTIFYs at a third party (issue
// 12: no reflection); otherwise they go back to the source.
//
// Threading: control loop only (DESIGN §2). Subscriptions are named by id across timers and
// transaction callbacks; a callback that outlives the manager does nothing.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "signaling/dialog/dialog.hpp"
#include "signaling/subscription/subscribe_checks.hpp"
#include "signaling/subscription/subscription_package.hpp"
#include "signaling/transport/address_range.hpp"
#include "signaling/ua/method_handler.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::sip {

struct SubscriptionConfig {
  std::string event_package = "conference";                      // RFC 4575 §3.1
  std::string content_type = "application/conference-info+xml";  // RFC 4575 §3.4
  ExpiresLimits expires{};
  std::size_t max_subscriptions = 1000;  // all packages' subscriptions at once
  std::size_t max_per_source = 10;       // from one source IP (trusted sources exempt)
  std::size_t max_per_resource = 200;    // watching one resource (a room)
  Millis min_notify_interval{1000};      // between two NOTIFYs of one subscription
  int max_notify_retries = 2;            // after a NOTIFY failure other than 481/408
  Millis retry_delay{2000};
  std::vector<AddressRange> trusted_sources;  // a trunk, a SIP front: no per-source limit, Contact honoured
};

struct SubscriptionCounters {
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};  // every 4xx–6xx to a SUBSCRIBE
  std::atomic<std::uint64_t> limited{0};  // of them: over a limit (total, per source, per resource)
  std::atomic<std::uint64_t> notifies_sent{0};
  std::atomic<std::uint64_t> notifies_failed{0};

  [[nodiscard]] std::array<PublishedCounter, 5> published() const {
    return {PublishedCounter{"chorus_sip_subscriptions_accepted_total", "SUBSCRIBEs that created a subscription",
                             "subscriptions_accepted", &accepted},
            PublishedCounter{"chorus_sip_subscriptions_refused_total", "SUBSCRIBEs answered 4xx-6xx",
                             "subscriptions_refused", &refused},
            PublishedCounter{"chorus_sip_subscriptions_limited_total",
                             "SUBSCRIBEs refused because a subscription limit (total, per source, per resource) was "
                             "reached",
                             "subscriptions_limited", &limited},
            PublishedCounter{"chorus_sip_notifies_sent_total", "NOTIFY requests sent", "notifies_sent", &notifies_sent},
            PublishedCounter{"chorus_sip_notifies_failed_total",
                             "NOTIFYs answered with an error or not at all (the subscription removed or retried)",
                             "notifies_failed", &notifies_failed}};
  }
};

class SubscriptionManager final : public MethodHandler, public SubscriptionNotifier {
 public:
  // Registers itself with `ua` for SUBSCRIBE (no bodies: SUBSCRIBE filters are not supported, 415).
  // `package` must outlive the manager.
  SubscriptionManager(UserAgent& ua, TimerQueue& timers, SubscriptionPackage& package, SubscriptionConfig config = {});
  ~SubscriptionManager() override;
  SubscriptionManager(const SubscriptionManager&) = delete;
  SubscriptionManager& operator=(const SubscriptionManager&) = delete;

  void on_method_request(const MethodRequest& request) override;
  void notify_changed(std::string_view resource, std::chrono::milliseconds min_gap) override;
  void terminate_resource(std::string_view resource) override;

  // Drain (a node leaving a cluster, SIGTERM): every subscription ends with
  // `terminated;reason=deactivated` (RFC 6665 §4.2.2: subscribe again at once — through a SIP front,
  // to another node), and new SUBSCRIBEs get 503 from now on.
  void shutdown();

  [[nodiscard]] std::size_t count() const { return subscriptions_.size(); }
  [[nodiscard]] std::size_t count_for(std::string_view resource) const;
  [[nodiscard]] const SubscriptionCounters& counters() const { return counters_; }

 private:
  struct Subscription {
    SubscriptionId id = 0;
    std::string resource;
    std::string event_id;
    std::optional<CallHandle> call;  // shares this call's dialog
    std::optional<Dialog> dialog;    // its own dialog otherwise
    PeerAddress source;
    std::string source_ip;
    bool trusted = false;
    TimePoint expires_at{};
    TimerQueue::TimerId expiry_timer = TimerQueue::kNoTimer;
    TimerQueue::TimerId notify_timer = TimerQueue::kNoTimer;
    std::uint32_t next_version = 1;
    bool in_flight = false;  // a NOTIFY awaits its final response
    bool pending = false;    // a change waits for the next NOTIFY
    bool need_full = true;   // the next NOTIFY carries the full state
    Millis pending_gap{0};
    std::optional<TimePoint> last_sent;
    int failures = 0;
  };
  enum class End : std::uint8_t { kTimeout, kNoResource, kRejected, kDeactivated, kSilently };

  void on_new_subscribe(const MethodRequest& request, const EventHeader& event);
  void on_refresh(const MethodRequest& request, Subscription& subscription);
  // The generic checks; the refusal already sent when false.
  bool check_headers(const MethodRequest& request, std::optional<EventHeader>& event, ExpiresDecision& expires);
  // Total (503 + Retry-After), per source IP and per resource (486): false when one is reached (answered).
  bool within_limits(const MethodRequest& request, bool trusted, std::string_view resource);
  void refuse(const MethodRequest& request, int status, std::string_view reason,
              const std::vector<Header>& headers = {});
  void accept(const MethodRequest& request, const Subscription& subscription, std::chrono::seconds expires);
  Subscription* find_for(const MethodRequest& request, const EventHeader& event);

  void arm_expiry(Subscription& subscription, std::chrono::seconds expires);
  // Sends the NOTIFY now or when the rate limit allows.
  void schedule_notify(Subscription& subscription, Millis min_gap);
  void send_notify(SubscriptionId id);
  // The NOTIFY itself: Event, Subscription-State, Contact, the body when there is one.
  bool send(Subscription& subscription, std::string subscription_state, std::optional<std::string> body,
            bool final_notify);
  void on_notify_answered(SubscriptionId id, int status, bool final_notify);
  // Ends a subscription: a final NOTIFY (unless kSilently), the package told, the record gone.
  void end(SubscriptionId id, End how, bool with_state = false);
  void remove(SubscriptionId id);
  [[nodiscard]] std::string state_header(const Subscription& subscription) const;
  [[nodiscard]] std::string event_header(const Subscription& subscription) const;

  UserAgent& ua_;
  TimerQueue& timers_;
  SubscriptionPackage& package_;
  SubscriptionConfig config_;
  std::unordered_map<SubscriptionId, Subscription> subscriptions_;
  std::unordered_map<std::string, SubscriptionId> by_dialog_;  // own dialogs: DialogId::key()
  SubscriptionId next_id_ = 1;
  bool closed_ = false;  // shutdown(): no new subscriptions
  SubscriptionCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards transaction callbacks
};

}  // namespace chorus::sip
