// RosterService: the conference event package (RFC 4575) for SIP endpoints — the conference side
// of an RFC 6665 notifier (signaling/subscription): which room a SUBSCRIBE watches, who may watch
// it, the room's state as conference-info documents, and which changes make NOTIFYs.
//
// Resource: the Request-URI user (room id or dial-in number, as for calls: unknown → 404), or, for
// a SUBSCRIBE inside a call's INVITE dialog, that call's room.
//
// Who may subscribe (privacy: a roster lists names and SIP URIs of everyone in the room, the very
// thing a room with a PIN keeps from strangers):
//   - a participant of that room, admitted (past its PIN): in its call's dialog, or from outside a
//     dialog with the From URI of one of its calls and from that call's source IP (a From URI alone
//     is caller-chosen; together with the source it is as good as the call's own identity);
//   - a trusted source (sip_trusted_sources: a trunk or a SIP front, which authenticates its users);
//   - anyone, only when RosterSettings::allow_anyone says so.
// Everyone else gets 403. A refresh is judged again, so a participant who has left stops getting the
// roster at its next refresh (or at expiry, at most max Expires later).
//
// Changes: participant.joined/left/muted/unmuted/talking_started/talking_stopped, conference.locked/
// unlocked and room.updated from the EventLog (this node's own events), and the service's roster hook
// (PIN admission, a re-offer) — each makes the room's subscriptions due a NOTIFY; talking changes ask
// for a longer gap (talking_interval), so a lively room does not flood a phone. room.deleted ends
// the room's subscriptions (noresource). The document sent is computed when the NOTIFY goes, as a
// difference from what that subscriber was last sent, so coalesced changes cost one NOTIFY.
//
// Threading: control loop only; EventLog callbacks arrive there (publish() runs on the control loop).
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>

#include "conference/conference_service.hpp"
#include "conference/events/event_log.hpp"
#include "conference/room.hpp"
#include "conference/roster/conference_info.hpp"
#include "signaling/subscription/subscription_package.hpp"

namespace chorus::conference {

struct RosterSettings {
  std::string host = "127.0.0.1";                    // the room URI's host: sip:<room id>@host
  bool allow_anyone = false;                         // any SIP endpoint may read any room's roster (not the default)
  std::chrono::milliseconds talking_interval{3000};  // at most one talking-only NOTIFY this often
  std::size_t max_document_bytes = 60 * 1024;        // a bigger roster is not sent (logged)
};

class RosterService final : public sip::SubscriptionPackage {
 public:
  RosterService(const RoomDirectory& rooms, const ConferenceService& conference, RosterSettings settings = {});
  RosterService(const RosterService&) = delete;
  RosterService& operator=(const RosterService&) = delete;

  // Where changes go (the SubscriptionManager); until set, changes are only remembered by nobody.
  void set_notifier(sip::SubscriptionNotifier* notifier) { notifier_ = notifier; }
  // Follows the room and participant events of `events` (this node's own).
  void watch(EventLog& events);
  // The room URI's host, known once the transport has bound (--public-ip or the bound address).
  void set_host(std::string host) { settings_.host = std::move(host); }
  // A participant's state changed without an event of its own (ConferenceService's roster hook).
  void on_room_changed(std::string_view room_id);

  // sip::SubscriptionPackage
  sip::SubscribeDecision on_subscribe(const sip::SubscribeContext& context) override;
  std::optional<std::string> state_for(sip::SubscriptionId id, const std::string& resource, std::uint32_t version,
                                       bool full) override;
  void on_subscription_ended(sip::SubscriptionId id) override;

  // The room's roster now (tests, and what state_for writes). nullopt: no such room.
  [[nodiscard]] std::optional<ConferenceInfo> roster_of(std::string_view room_id) const;
  [[nodiscard]] std::size_t remembered() const { return sent_.size(); }

 private:
  void on_event(const Event& event);
  [[nodiscard]] bool may_watch(const Room& room, const sip::SubscribeContext& context) const;

  const RoomDirectory& rooms_;
  const ConferenceService& conference_;
  RosterSettings settings_;
  sip::SubscriptionNotifier* notifier_ = nullptr;
  EventLog::Subscription events_;
  std::unordered_map<sip::SubscriptionId, ConferenceInfo> sent_;  // what each subscriber knows
};

}  // namespace chorus::conference
