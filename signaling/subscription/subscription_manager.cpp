#include "signaling/subscription/subscription_manager.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "signaling/transaction/transaction_key.hpp"

namespace chorus::sip {
namespace {

std::chrono::seconds remaining(TimePoint expires_at, TimePoint now) {
  if (expires_at <= now) return std::chrono::seconds{0};
  return std::chrono::ceil<std::chrono::seconds>(expires_at - now);
}

}  // namespace

SubscriptionManager::SubscriptionManager(UserAgent& ua, TimerQueue& timers, SubscriptionPackage& package,
                                         SubscriptionConfig config)
    : ua_(ua), timers_(timers), package_(package), config_(std::move(config)) {
  ua_.add_method_handler("SUBSCRIBE", {}, *this);
}

SubscriptionManager::~SubscriptionManager() {
  *alive_ = false;
  for (auto& [id, subscription] : subscriptions_) {
    timers_.cancel(subscription.expiry_timer);
    timers_.cancel(subscription.notify_timer);
  }
}

std::size_t SubscriptionManager::count_for(std::string_view resource) const {
  return static_cast<std::size_t>(
      std::ranges::count_if(subscriptions_, [&](const auto& entry) { return entry.second.resource == resource; }));
}

void SubscriptionManager::refuse(const MethodRequest& request, int status, std::string_view reason,
                                 const std::vector<Header>& headers) {
  bump(counters_.refused);
  // A refusal outside a dialog carries a To tag of our own (§8.2.6.2); inside, the dialog's.
  SipMessage response =
      ua_.response_for(request.request, status, request.to_tag.empty() ? random_token(10) : request.to_tag, reason);
  for (const auto& header : headers) response.add_header(header.name, header.value);
  ua_.send_response(request.transaction, response);
  CHORUS_LOG(kDebug, "subscription", "subscribe refused", {"call_id", request.request.call_id}, {"status", status},
             {"source", request.source.address.to_string()});
}

bool SubscriptionManager::check_headers(const MethodRequest& request, std::optional<EventHeader>& event,
                                        ExpiresDecision& expires) {
  event = event_of(request.request);
  // RFC 6665 §4.2.1.1 / §8.3.2: a package we do not serve (or none named) → 489 with Allow-Events.
  if (!event || event->package != config_.event_package) {
    refuse(request, 489, {}, {{"Allow-Events", config_.event_package}});
    return false;
  }
  // RFC 3261 §8.2.3: our NOTIFY bodies would not be acceptable.
  if (!accepts(request.request, config_.content_type)) {
    refuse(request, 406, {}, {{"Accept", config_.content_type}});
    return false;
  }
  expires = granted_expires(request.request, config_.expires);
  if (expires.status == 423) {
    refuse(request, 423, {}, {{"Min-Expires", std::to_string(config_.expires.min.count())}});
    return false;
  }
  if (expires.status != 200) {
    refuse(request, 400, "Bad Expires");
    return false;
  }
  return true;
}

bool SubscriptionManager::within_limits(const MethodRequest& request, bool trusted, std::string_view resource) {
  const std::string source_ip = request.source.address.to_string();
  std::string_view limit;
  if (subscriptions_.size() >= config_.max_subscriptions) {
    limit = "total";
  } else if (!trusted && static_cast<std::size_t>(std::ranges::count_if(subscriptions_, [&](const auto& entry) {
                           return entry.second.source_ip == source_ip;
                         })) >= config_.max_per_source) {
    limit = "per_source";
  } else if (count_for(resource) >= config_.max_per_resource) {
    limit = "per_resource";
  } else {
    return true;
  }
  bump(counters_.limited);
  // DESIGN §7: every per-source resource has a limit, a metric and a log line.
  CHORUS_LOG(kInfo, "security", "sip_subscription_limit", {"limit", limit}, {"source", source_ip},
             {"resource", resource});
  if (limit == "total") {
    refuse(request, 503, {}, {{"Retry-After", "60"}});
  } else {
    refuse(request, 486, "Too Many Subscriptions");
  }
  return false;
}

SubscriptionManager::Subscription* SubscriptionManager::find_for(const MethodRequest& request,
                                                                 const EventHeader& event) {
  if (request.call) {
    for (auto& [id, subscription] : subscriptions_)
      if (subscription.call == request.call && subscription.event_id == event.id) return &subscription;
    return nullptr;
  }
  auto it = by_dialog_.find(DialogId::key_for_incoming(request.request));
  if (it == by_dialog_.end()) return nullptr;
  auto found = subscriptions_.find(it->second);
  if (found == subscriptions_.end() || found->second.event_id != event.id) return nullptr;
  return &found->second;
}

void SubscriptionManager::on_method_request(const MethodRequest& request) {
  std::optional<EventHeader> event;
  ExpiresDecision expires;
  // A request in a dialog that is no call's must be one of our subscription dialogs (§4.1.2.2).
  if (!request.call && !request.to_tag.empty()) {
    event = event_of(request.request);
    Subscription* subscription = event ? find_for(request, *event) : nullptr;
    if (subscription == nullptr) {
      refuse(request, 481, "Subscription Does Not Exist");
      return;
    }
    // RFC 3261 §12.2.2: an old CSeq in the dialog is out of order.
    if (!subscription->dialog->accept_remote_cseq(request.request.cseq.number)) {
      refuse(request, 500, "CSeq Out of Order");
      return;
    }
  }
  if (!check_headers(request, event, expires)) return;
  if (Subscription* existing = find_for(request, *event)) {
    if (expires.granted.count() == 0) {  // §4.2.1.4: unsubscribe
      accept(request, *existing, std::chrono::seconds{0});
      end(existing->id, End::kTimeout);
      return;
    }
    on_refresh(request, *existing);
    return;
  }
  if (closed_) {  // draining: a new subscription would be cut at exit
    refuse(request, 503, {}, {{"Retry-After", "60"}});
    return;
  }
  const bool trusted = any_contains(config_.trusted_sources, request.source.address);
  SubscribeDecision decision =
      package_.on_subscribe(SubscribeContext{request.request, request.source, request.call, trusted, {}});
  if (decision.status != 200) {
    refuse(request, decision.status, decision.reason);
    return;
  }
  if (!within_limits(request, trusted, decision.resource)) return;
  // RFC 3261 §12.1.1 / RFC 6665 §4.1.2: the subscriber's Contact is the dialog's remote target.
  if (!request.call && request.request.contacts.empty()) {
    refuse(request, 400, "Missing Contact");
    return;
  }
  Subscription subscription;
  subscription.id = next_id_++;
  subscription.resource = std::move(decision.resource);
  subscription.event_id = event->id;
  subscription.call = request.call;
  subscription.source = request.source;
  subscription.source_ip = request.source.address.to_string();
  subscription.trusted = trusted;
  std::string to_tag = request.to_tag;
  if (!request.call) {
    to_tag = random_token(10);
    subscription.dialog = Dialog::from_request(request.request, to_tag, request.source);
  }
  const SubscriptionId id = subscription.id;
  auto& stored = subscriptions_.emplace(id, std::move(subscription)).first->second;
  if (stored.dialog) by_dialog_[stored.dialog->id().key()] = id;
  bump(counters_.accepted);
  MethodRequest answered = request;
  answered.to_tag = to_tag;
  accept(answered, stored, expires.granted);
  CHORUS_LOG(kInfo, "subscription", "subscribed", {"event", config_.event_package}, {"resource", stored.resource},
             {"subscription", id}, {"call_id", request.request.call_id}, {"source", stored.source_ip},
             {"expires", expires.granted.count()});
  if (expires.granted.count() == 0) {  // §4.4.3: a fetch — the state once, then terminated
    end(id, End::kTimeout, true);
    return;
  }
  arm_expiry(stored, expires.granted);
  stored.need_full = true;
  send_notify(id);  // §4.2.1.2: at once, whatever the rate limit
}

void SubscriptionManager::on_refresh(const MethodRequest& request, Subscription& subscription) {
  const bool trusted = any_contains(config_.trusted_sources, request.source.address);
  SubscribeDecision decision = package_.on_subscribe(
      SubscribeContext{request.request, request.source, request.call, trusted, subscription.resource});
  const auto expires = granted_expires(request.request, config_.expires).granted;
  if (decision.status != 200 || decision.resource != subscription.resource) {
    // RFC 6665 §4.2.2 "rejected": the policy no longer lets this subscriber watch.
    refuse(request, decision.status == 200 ? 403 : decision.status, decision.reason);
    end(subscription.id, End::kRejected);
    return;
  }
  if (subscription.dialog) subscription.dialog->refresh_remote_target(request.request);
  accept(request, subscription, expires);
  arm_expiry(subscription, expires);
  // §4.2.1.2: a refresh is followed by a NOTIFY; a full state resets what the subscriber knows.
  subscription.need_full = true;
  schedule_notify(subscription, Millis{0});
}

void SubscriptionManager::accept(const MethodRequest& request, const Subscription& subscription,
                                 std::chrono::seconds expires) {
  SipMessage response = ua_.response_for(request.request, 200, request.to_tag);
  response.add_header("Expires", std::to_string(expires.count()));
  response.add_header("Contact", ua_.contact_for(subscription.source.kind));
  ua_.send_response(request.transaction, response);
}

void SubscriptionManager::arm_expiry(Subscription& subscription, std::chrono::seconds expires) {
  timers_.cancel(subscription.expiry_timer);
  subscription.expires_at = timers_.now() + expires;
  const SubscriptionId id = subscription.id;
  subscription.expiry_timer = timers_.schedule(std::chrono::duration_cast<Millis>(expires), [this, id] {
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    it->second.expiry_timer = TimerQueue::kNoTimer;
    CHORUS_LOG(kInfo, "subscription", "subscription expired", {"subscription", id}, {"resource", it->second.resource});
    end(id, End::kTimeout);  // §4.2.2: not refreshed in time
  });
}

void SubscriptionManager::notify_changed(std::string_view resource, std::chrono::milliseconds min_gap) {
  for (auto& [id, subscription] : subscriptions_)
    if (subscription.resource == resource) schedule_notify(subscription, min_gap);
}

void SubscriptionManager::schedule_notify(Subscription& subscription, Millis min_gap) {
  if (!subscription.pending) {
    subscription.pending = true;
    subscription.pending_gap = min_gap;
  } else if (min_gap >= subscription.pending_gap && subscription.notify_timer != TimerQueue::kNoTimer) {
    return;  // a NOTIFY is already due no later than this change needs (talking in a lively room)
  } else {
    subscription.pending_gap = std::min(subscription.pending_gap, min_gap);  // the most urgent change wins
  }
  if (subscription.in_flight) return;  // its answer schedules the next
  const Millis gap = std::max(config_.min_notify_interval, subscription.pending_gap);
  const TimePoint now = timers_.now();
  const TimePoint due = subscription.last_sent ? std::max(now, *subscription.last_sent + gap) : now;
  timers_.cancel(subscription.notify_timer);
  const SubscriptionId id = subscription.id;
  subscription.notify_timer = timers_.schedule(std::chrono::duration_cast<Millis>(due - now), [this, id] {
    auto it = subscriptions_.find(id);
    if (it == subscriptions_.end()) return;
    it->second.notify_timer = TimerQueue::kNoTimer;
    send_notify(id);
  });
}

void SubscriptionManager::send_notify(SubscriptionId id) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end() || it->second.in_flight) return;
  Subscription& subscription = it->second;
  timers_.cancel(subscription.notify_timer);
  subscription.notify_timer = TimerQueue::kNoTimer;
  subscription.pending = false;
  subscription.pending_gap = Millis{0};
  const bool full = subscription.need_full;
  auto body = package_.state_for(id, subscription.resource, subscription.next_version, full);
  if (!body) return;  // nothing the subscriber does not know
  ++subscription.next_version;
  subscription.need_full = false;
  if (!send(subscription, state_header(subscription), std::move(body), false)) {
    remove(id);  // the call whose dialog it shared is gone
  }
}

std::string SubscriptionManager::state_header(const Subscription& subscription) const {
  return "active;expires=" + std::to_string(remaining(subscription.expires_at, timers_.now()).count());
}

std::string SubscriptionManager::event_header(const Subscription& subscription) const {
  return subscription.event_id.empty() ? config_.event_package : config_.event_package + ";id=" + subscription.event_id;
}

bool SubscriptionManager::send(Subscription& subscription, std::string subscription_state,
                               std::optional<std::string> body, bool final_notify) {
  const SubscriptionId id = subscription.id;
  std::weak_ptr<bool> alive = alive_;
  auto on_response = [this, alive, id, final_notify](const SipMessage& response) {
    if (response.status < 200 || alive.expired()) return;
    on_notify_answered(id, response.status, final_notify);
  };
  // RFC 6665 §8.2.1, §8.2.3 and §4.1.2.1 (NOTIFY is a target refresh request: it has a Contact).
  std::vector<Header> headers{{"Event", event_header(subscription)},
                              {"Subscription-State", std::move(subscription_state)},
                              {"Contact", ua_.contact_for(subscription.source.kind)}};
  subscription.last_sent = timers_.now();
  subscription.in_flight = !final_notify;
  bump(counters_.notifies_sent);
  if (subscription.call) {
    return ua_.send_in_call(*subscription.call, "NOTIFY", headers, config_.content_type,
                            body ? std::move(*body) : std::string(), std::move(on_response));
  }
  SipMessage notify = subscription.dialog->make_request("NOTIFY", {});
  for (auto& header : headers) notify.add_header(std::move(header.name), std::move(header.value));
  if (body) {
    notify.add_header("Content-Type", config_.content_type);
    notify.body = std::move(*body);
  }
  PeerAddress hop = subscription.dialog->next_hop();
  // Issue 12: the Contact may name any address; only the SUBSCRIBE's source (or a trusted front)
  // has shown it wants our traffic.
  if (!subscription.trusted && hop.address != subscription.source.address) hop = subscription.dialog->flow();
  ua_.send_request(std::move(notify), hop, std::move(on_response));
  return true;
}

void SubscriptionManager::on_notify_answered(SubscriptionId id, int status, bool final_notify) {
  if (final_notify) return;
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  Subscription& subscription = it->second;
  subscription.in_flight = false;
  if (status < 300) {
    subscription.failures = 0;
    if (subscription.pending) schedule_notify(subscription, subscription.pending_gap);
    return;
  }
  bump(counters_.notifies_failed);
  // RFC 6665 §4.2.2: 481 (the subscriber forgot it) or no answer (408, Timer F) ends it; 503 is
  // also what our transaction layer reports when the transport failed.
  if (status == 481 || status == 408 || ++subscription.failures > config_.max_notify_retries) {
    CHORUS_LOG(kInfo, "subscription", "notify failed: subscription removed", {"subscription", id}, {"status", status},
               {"resource", subscription.resource});
    end(id, End::kSilently);
    return;
  }
  // The subscriber may have missed that document: the retry carries the full state.
  subscription.need_full = true;
  subscription.pending = true;
  subscription.pending_gap = config_.retry_delay;
  schedule_notify(subscription, config_.retry_delay);
}

void SubscriptionManager::terminate_resource(std::string_view resource) {
  std::vector<SubscriptionId> ids;
  for (const auto& [id, subscription] : subscriptions_)
    if (subscription.resource == resource) ids.push_back(id);
  for (SubscriptionId id : ids) end(id, End::kNoResource);
}

void SubscriptionManager::shutdown() {
  closed_ = true;
  std::vector<SubscriptionId> ids;
  for (const auto& [id, subscription] : subscriptions_) ids.push_back(id);
  for (SubscriptionId id : ids) end(id, End::kDeactivated);
}

void SubscriptionManager::end(SubscriptionId id, End how, bool with_state) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  Subscription& subscription = it->second;
  if (how != End::kSilently) {
    // RFC 6665 §4.2.2 reasons: timeout (expired, unsubscribed, a fetch), noresource, rejected.
    const std::string reason = how == End::kTimeout      ? "timeout"
                               : how == End::kNoResource ? "noresource"
                               : how == End::kRejected   ? "rejected"
                                                         : "deactivated";
    std::optional<std::string> body;
    if (with_state) body = package_.state_for(id, subscription.resource, subscription.next_version++, true);
    send(subscription, "terminated;reason=" + reason, std::move(body), true);
  }
  remove(id);
}

void SubscriptionManager::remove(SubscriptionId id) {
  auto it = subscriptions_.find(id);
  if (it == subscriptions_.end()) return;
  timers_.cancel(it->second.expiry_timer);
  timers_.cancel(it->second.notify_timer);
  if (it->second.dialog) by_dialog_.erase(it->second.dialog->id().key());
  subscriptions_.erase(it);
  package_.on_subscription_ended(id);
}

}  // namespace chorus::sip
