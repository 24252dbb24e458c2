#include "conference/chat/chat_service.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "conference/chat/cpim.hpp"
#include "conference/conference_service.hpp"
#include "conference/room.hpp"
#include "signaling/message/sip_uri.hpp"
#include "signaling/transaction/transaction_key.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::conference {
namespace {

ChatMember member_of(const Participant& participant) {
  return ChatMember{.participant_id = participant.id,
                    .call = participant.call,
                    .room_id = participant.room_id,
                    .display_name = participant.display_name,
                    .from_uri = participant.from_uri,
                    .source = participant.signaling_source,
                    .admitted = participant.admitted && !participant.waiting && !participant.early};
}

// The same address of record (RFC 3261 §19.1.4, the parts that name a user: scheme, user, host,
// port); parameters and display names do not matter here.
bool same_uri(std::string_view a, std::string_view b) {
  auto ua = sip::parse_uri(a);
  auto ub = sip::parse_uri(b);
  if (!ua || !ub || !ua->is_sip() || !ub->is_sip()) return false;
  return ua->scheme == ub->scheme && ua->user == ub->user && ascii_lowercase(ua->host) == ascii_lowercase(ub->host) &&
         ua->port.value_or(0) == ub->port.value_or(0);
}

bool same_address(const boost::asio::ip::address& a, const boost::asio::ip::address& b) {
  auto plain = [](const boost::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      return boost::asio::ip::address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()));
    return address;
  };
  return plain(a) == plain(b);
}

// The name the others see: the display name it dialled in with, else its URI's user part.
std::string name_of(const ChatMember& member) {
  if (!member.display_name.empty()) return member.display_name;
  if (auto uri = sip::parse_uri(member.from_uri); uri && !uri->user.empty()) return uri->user;
  return "participant " + std::to_string(member.participant_id);
}

// The charset parameter of a Content-Type, lower-cased, unquoted; empty when absent.
std::string charset_of(const sip::SipMessage& message) {
  const auto* type = message.header("Content-Type");
  if (!type) return {};
  const std::string params = ascii_lowercase(std::string_view(*type).substr(std::min(type->find(';'), type->size())));
  const auto at = params.find("charset=");
  if (at == std::string::npos) return {};
  std::string value = params.substr(at + 8);
  value = value.substr(0, value.find(';'));
  std::erase_if(value, [](char c) { return c == '"' || c == ' ' || c == '\t'; });
  return value;
}

// RFC 3428 §9 / RFC 3261 §21.4.13: text we read is UTF-8 (US-ASCII is a subset); any other is 415.
bool readable_charset(std::string_view charset) {
  return charset.empty() || charset == "utf-8" || charset == "us-ascii";
}

}  // namespace

int sip_status_for(ChatRefusal refusal) {
  switch (refusal) {
    case ChatRefusal::kNotParticipant:
      return 403;
    case ChatRefusal::kRateLimited:
      return 503;
    case ChatRefusal::kTooLarge:
      return 413;
    case ChatRefusal::kBadText:
      return 400;
    case ChatRefusal::kUnsupported:
      return 415;
  }
  return 500;
}

std::optional<ChatMember> ConferenceRoster::by_call(sip::CallHandle call) const {
  const Participant* participant = conference_.participant(call);
  if (participant == nullptr) return std::nullopt;
  return member_of(*participant);
}

std::vector<ChatMember> ConferenceRoster::in_room(std::string_view room_id) const {
  std::vector<ChatMember> members;
  for (const Participant* participant : conference_.participants_of(room_id))
    members.push_back(member_of(*participant));
  return members;
}

std::optional<std::string> ConferenceRoster::room_for(std::string_view dial_string) const {
  const Room* room = rooms_.find_by_dial_string(dial_string);
  if (room == nullptr) return std::nullopt;
  return room->id;
}

ChatService::ChatService(sip::UserAgent& ua, std::unique_ptr<ChatRoster> roster, EventLog* events,
                         ChatSettings settings, ChatClocks clocks)
    : ua_(ua),
      roster_(std::move(roster)),
      events_(events),
      settings_(std::move(settings)),
      clocks_(std::move(clocks)),
      rooms_(settings_.limits) {
  // Published on the control loop (this node's own events): a history ends with its conference,
  // a bucket with its participant.
  if (events_) subscription_ = events_->subscribe([this](const Event& event) { on_event(event); });
}

void ChatService::on_event(const Event& event) {
  if (!event.node.empty()) return;  // another node's conference (issue 14): not kept here
  if (event.type == event_type::kConferenceEnded) {
    if (const auto room = event.data.find("room_id"); room != event.data.end() && room->is_string())
      rooms_.end_conference(room->get<std::string>());
  } else if (event.type == event_type::kParticipantLeft) {
    const auto id = event.data.find("participant_id");
    if (id != event.data.end() && id->is_number_integer() && id->get<std::int64_t>() >= 0) {
      rooms_.forget(id->get<std::uint64_t>());
      cpim_.erase(id->get<std::uint64_t>());
    }
  }
}

std::expected<ChatMember, ChatService::Answer> ChatService::sender_of(const sip::MethodRequest& request) {
  const auto now = clocks_.steady();
  if (request.call) {
    auto member = roster_->by_call(*request.call);
    if (member && member->admitted) return *member;
    // A call held in early media, being dialled, or still entering its PIN is in no conference yet.
    rooms_.refused(ChatRefusal::kNotParticipant, member ? member->room_id : "", request.request.from.uri_text, now);
    return std::unexpected(Answer{403, "Not In The Conference", {}});
  }
  if (!request.to_tag.empty()) return std::unexpected(Answer{481, {}, {}});  // RFC 3261 §12.2.2
  const auto room = roster_->room_for(request.request.request_uri.user);
  if (!room) return std::unexpected(Answer{404, "No Such Room", {}});
  for (auto& member : roster_->in_room(*room)) {
    if (!member.admitted || !member.source || !same_address(*member.source, request.source.address)) continue;
    if (same_uri(member.from_uri, request.request.from.uri_text)) return member;
  }
  // A stranger: in no call of this room (RFC 3428 §8: a UAS may refuse by its own policy).
  rooms_.refused(ChatRefusal::kNotParticipant, *room, request.request.from.uri_text, now);
  return std::unexpected(Answer{403, "Not In The Conference", {}});
}

std::expected<std::string, ChatRefusal> ChatService::text_of(const sip::SipMessage& request, bool& was_cpim) const {
  // Bound the work before reading: a CPIM wrapper adds its headers around the text, 1 KiB is ample.
  if (request.body.size() > settings_.limits.max_text_bytes + 1024) return std::unexpected(ChatRefusal::kTooLarge);
  const std::string type = sip::media_type_of(request);
  std::string text;
  if (type == kCpimContentType) {
    auto cpim = parse_cpim(request.body);
    if (!cpim) return std::unexpected(ChatRefusal::kBadText);
    if (cpim->content_type != "text/plain" || !readable_charset(cpim->charset))
      return std::unexpected(ChatRefusal::kUnsupported);
    was_cpim = true;
    text = std::move(cpim->content);
  } else {
    if (type != "text/plain" || !readable_charset(charset_of(request)))
      return std::unexpected(ChatRefusal::kUnsupported);
    text = request.body;
  }
  if (auto refusal = check_text(text, settings_.limits)) return std::unexpected(*refusal);
  return text;
}

void ChatService::answer(const sip::MethodRequest& request, const Answer& answer) {
  // Outside any dialog the handler picks the To tag (method_handler.hpp).
  const std::string tag = request.to_tag.empty() ? sip::random_token(8) : request.to_tag;
  sip::SipMessage response = ua_.response_for(request.request, answer.status, tag, answer.reason);
  for (const auto& header : answer.headers) response.add_header(header.name, header.value);
  ua_.send_response(request.transaction, response);
}

void ChatService::on_method_request(const sip::MethodRequest& request) {
  if (request.request.method != "MESSAGE") {
    answer(request, Answer{405, {}, {{"Allow", ua_.allowed_methods()}}});
    return;
  }
  auto sender = sender_of(request);
  if (!sender) {
    answer(request, sender.error());
    return;
  }
  const auto now = clocks_.steady();
  bool was_cpim = false;
  auto text = text_of(request.request, was_cpim);
  if (!text) {
    rooms_.refused(text.error(), sender->room_id, sender->from_uri, now);
    Answer refusal{sip_status_for(text.error()), {}, {}};
    if (text.error() == ChatRefusal::kUnsupported) refusal.headers.push_back({"Accept", "text/plain, message/cpim"});
    answer(request, refusal);
    return;
  }
  if (auto wait = rooms_.admit(sender->participant_id, now)) {
    rooms_.refused(ChatRefusal::kRateLimited, sender->room_id, sender->from_uri, now);
    // RFC 3261 §20.33: Retry-After in whole seconds, at least 1.
    const auto seconds = std::max<std::int64_t>(1, (wait->count() + 999) / 1000);
    answer(request, Answer{503, "Too Many Messages", {{"Retry-After", std::to_string(seconds)}}});
    return;
  }
  if (was_cpim) cpim_.insert(sender->participant_id);
  const ChatMessage& message =
      rooms_.record(sender->room_id, ChatSender{sender->participant_id, name_of(*sender), sender->from_uri},
                    std::move(*text), ChatOrigin::kSip, clocks_.system());
  answer(request, Answer{200, {}, {}});  // RFC 3428 §7: we are the recipient, and we have it
  const ChatMessage kept = message;      // delivery may re-enter the model (an event's subscriber)
  deliver(kept, sender->call);
  publish(kept);
}

std::expected<ChatMessage, ChatPostError> ChatService::post(std::string_view room_id, std::string_view from,
                                                            std::string text) {
  if (!live(room_id))
    return std::unexpected(
        ChatPostError{ChatPostRefusal::kNoConference, "no conference is running in room " + std::string(room_id)});
  if (auto refusal = check_text(text, settings_.limits)) {
    rooms_.refused(*refusal, room_id, "api", clocks_.steady());
    if (*refusal == ChatRefusal::kTooLarge)
      return std::unexpected(
          ChatPostError{ChatPostRefusal::kTooLarge,
                        "text is longer than " + std::to_string(settings_.limits.max_text_bytes) + " bytes"});
    return std::unexpected(
        ChatPostError{ChatPostRefusal::kBadText, "text must be non-empty UTF-8 without control characters"});
  }
  ChatSender sender{std::nullopt, from.empty() ? std::string(room_id) : std::string(from), room_uri(room_id)};
  const ChatMessage message =
      rooms_.record(room_id, std::move(sender), std::move(text), ChatOrigin::kApi, clocks_.system());
  deliver(message, std::nullopt);
  publish(message);
  return message;
}

void ChatService::deliver(const ChatMessage& message, std::optional<sip::CallHandle> except) {
  const CpimAddress from{message.from.display_name, message.from.uri};
  const CpimAddress to{message.room_id, room_uri(message.room_id)};
  for (const auto& member : roster_->in_room(message.room_id)) {
    if ((except && member.call == *except) || !member.admitted) continue;
    // RFC 3261 §20.5: a peer that did not list MESSAGE in its Allow is not sent one.
    if (!ua_.peer_allows(member.call, "MESSAGE")) continue;
    const bool cpim = cpim_.contains(member.participant_id);
    std::string body =
        cpim ? encode_cpim(from, to, message.sent_at, message.text) : message.from.display_name + ": " + message.text;
    std::weak_ptr<int> alive = alive_;
    ua_.send_in_call(member.call, "MESSAGE", {}, cpim ? kCpimContentType : "text/plain;charset=utf-8", std::move(body),
                     [this, alive](const sip::SipMessage& response) {
                       if (alive.expired()) return;
                       bump(response.status < 300 ? rooms_.counters().delivered : rooms_.counters().delivery_failed);
                     });
  }
}

void ChatService::publish(const ChatMessage& message) {
  if (!events_) return;
  nlohmann::json from{{"display_name", message.from.display_name}};
  from["participant_id"] =
      message.from.participant_id ? nlohmann::json(*message.from.participant_id) : nlohmann::json();
  events_->publish(kChatMessageEvent, {{"conference_id", message.room_id},
                                       {"room_id", message.room_id},
                                       {"seq", message.seq},
                                       {"sent_at", format_rfc3339_utc(message.sent_at)},
                                       {"from", std::move(from)},
                                       {"text", message.text},
                                       {"origin", message.origin == ChatOrigin::kSip ? "sip" : "api"}});
}

std::string ChatService::room_uri(std::string_view room_id) const {
  return "sip:" + std::string(room_id) + "@" + settings_.sip_host;
}

}  // namespace chorus::conference
