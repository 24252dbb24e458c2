// ChatService: in-room chat over SIP MESSAGE (RFC 3428) and REST (issue 15).
//
// SIP: the UA hands it every MESSAGE (sip::MethodHandler, registered for text/plain and
// message/cpim). The sender must be a participant of a live conference:
//   - in its call's dialog: the call names the participant (and so the room);
//   - out of any dialog, to the room's URI (Request-URI user = room id or dial-in number, 404 when no
//     room has it): the From URI and the source address of one of that room's calls name it. Anyone
//     else — a stranger in no call of the room — gets 403 and nothing is delivered;
//   - with a To tag of no call: 481 (this service makes no dialogs, RFC 3261 §12.2.2).
// A taken message is answered 200: Chorus is the conference's user agent and has the message
// (history, event), not a relay that cannot tell — RFC 3428 §7 keeps 202 for that. Refusals: 413
// over the size limit (RFC 3261 §21.4.11), 400 empty/not UTF-8/control characters, 415 a charset
// or CPIM content other than UTF-8 text/plain (with Accept, §21.4.13), and 503 with Retry-After when
// the sender's token bucket is empty: SIP has no 429, and 503 + Retry-After is RFC 3261 §21.5.4's
// temporary "try again after this many seconds" (403 would tell the UA never to repeat, §21.4.4).
//
// Delivery: to every other admitted participant whose INVITE's Allow lists MESSAGE, in its dialog.
// The sender is named in the body, since an in-dialog request's From is the dialog's (the room's
// URI, RFC 3261 §12.2.1.1) and UAs show the body (baresip prints the From URI and the body):
//   - message/cpim (RFC 3862) to a participant that sent CPIM itself: From = the sender's name and
//     URI, To = the room, DateTime; the content text/plain;charset=utf-8;
//   - text/plain;charset=utf-8 to the others: "<name>: <text>".
// Every taken message (SIP or REST) goes into the conference's history (chat_room.hpp) and out as
// a `chat.message` event. A conference's history ends with it (conference.ended), a participant's
// bucket with it (participant.left); both are heard from the event log.
// Threading: control loop only (the UA's and the Router's thread).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "conference/chat/chat_room.hpp"
#include "conference/events/event_log.hpp"
#include "signaling/ua/method_handler.hpp"

namespace chorus::sip {
class UserAgent;
}  // namespace chorus::sip

namespace chorus::conference {

class ConferenceService;
class RoomDirectory;

// The event a taken message publishes (data: conference_id, room_id, seq, sent_at, from
// {participant_id, display_name}, text, origin "sip" | "api").
inline constexpr std::string_view kChatMessageEvent = event_type::kChatMessage;
// The MESSAGE bodies the UA lets through to the service (others get 415 there).
inline const std::vector<std::string> kChatBodyTypes{"text/plain", "message/cpim"};

// A participant as chat sees it.
struct ChatMember {
  std::uint64_t participant_id = 0;
  sip::CallHandle call = 0;
  std::string room_id;
  std::string display_name;
  std::string from_uri;
  std::optional<boost::asio::ip::address> source;  // where its INVITE came from (none: dialled out)
  bool admitted = true;                            // past its PIN and not in the waiting room
};

// Who is in which room: ConferenceRoster reads the ConferenceService; tests give their own.
class ChatRoster {
 public:
  virtual ~ChatRoster() = default;
  [[nodiscard]] virtual std::optional<ChatMember> by_call(sip::CallHandle call) const = 0;
  [[nodiscard]] virtual std::vector<ChatMember> in_room(std::string_view room_id) const = 0;
  // The id of the room whose id or dial-in number is `dial_string`.
  [[nodiscard]] virtual std::optional<std::string> room_for(std::string_view dial_string) const = 0;
};

class ConferenceRoster final : public ChatRoster {
 public:
  ConferenceRoster(const ConferenceService& conference, const RoomDirectory& rooms)
      : conference_(conference), rooms_(rooms) {}
  [[nodiscard]] std::optional<ChatMember> by_call(sip::CallHandle call) const override;
  [[nodiscard]] std::vector<ChatMember> in_room(std::string_view room_id) const override;
  [[nodiscard]] std::optional<std::string> room_for(std::string_view dial_string) const override;

 private:
  const ConferenceService& conference_;
  const RoomDirectory& rooms_;
};

struct ChatSettings {
  ChatLimits limits;
  std::string sip_host = "127.0.0.1";  // room URIs are sip:<room id>@<sip_host> (CPIM To, REST senders)
};

// Why a REST post was not taken.
enum class ChatPostRefusal : std::uint8_t { kNoConference, kBadText, kTooLarge };
struct ChatPostError {
  ChatPostRefusal refusal;
  std::string detail;
};

// Time sources: buckets and log gates run on `steady`, messages are stamped with `system`.
struct ChatClocks {
  std::function<std::chrono::steady_clock::time_point()> steady = [] { return std::chrono::steady_clock::now(); };
  std::function<std::chrono::system_clock::time_point()> system = [] { return std::chrono::system_clock::now(); };
};

class ChatService final : public sip::MethodHandler {
 public:
  // `events` may be null (no event, and histories and buckets then live until the service goes).
  ChatService(sip::UserAgent& ua, std::unique_ptr<ChatRoster> roster, EventLog* events, ChatSettings settings,
              ChatClocks clocks = {});

  void on_method_request(const sip::MethodRequest& request) override;

  // REST: POST /v1/conferences/{id}/messages. `from` is the name the participants see (empty: the
  // room's id). Delivered to the SIP participants as from the room, recorded and published.
  std::expected<ChatMessage, ChatPostError> post(std::string_view room_id, std::string_view from, std::string text);
  // REST: GET: the conference's messages after `since`, newest last.
  [[nodiscard]] std::vector<ChatMessage> history(std::string_view room_id, std::uint64_t since = 0) const {
    return rooms_.history(room_id, since);
  }
  // A conference runs in the room (it has participants): chat exists only then.
  [[nodiscard]] bool live(std::string_view room_id) const { return !roster_->in_room(room_id).empty(); }

  [[nodiscard]] const ChatRooms& rooms() const { return rooms_; }
  [[nodiscard]] const ChatCounters& counters() const { return rooms_.counters(); }

 private:
  struct Answer {
    int status = 200;
    std::string reason;
    std::vector<sip::Header> headers;
  };
  // Who sent `request` (its dialog's call, or From + source among the room's calls), or the answer.
  std::expected<ChatMember, Answer> sender_of(const sip::MethodRequest& request);
  // The text the body carries (text/plain, or CPIM around text/plain), or the refusal.
  std::expected<std::string, ChatRefusal> text_of(const sip::SipMessage& request, bool& was_cpim) const;
  void answer(const sip::MethodRequest& request, const Answer& answer);
  // Sends `message` to every admitted, MESSAGE-capable participant of its room but `except`.
  void deliver(const ChatMessage& message, std::optional<sip::CallHandle> except);
  void publish(const ChatMessage& message);
  void on_event(const Event& event);
  [[nodiscard]] std::string room_uri(std::string_view room_id) const;

  sip::UserAgent& ua_;
  std::unique_ptr<ChatRoster> roster_;
  EventLog* events_;
  ChatSettings settings_;
  ChatClocks clocks_;
  ChatRooms rooms_;
  std::unordered_set<std::uint64_t> cpim_;  // participants that sent message/cpim: they get it back
  EventLog::Subscription subscription_;
  // Delivery callbacks run from the transaction layer; one arriving after the service is gone
  // must do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// Answer for a refusal: its SIP status and reason.
int sip_status_for(ChatRefusal refusal);

}  // namespace chorus::conference
