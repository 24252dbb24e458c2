#include "conference/chat/chat_room.hpp"

#include <algorithm>
#include <cmath>

#include "common/log.hpp"
#include "common/utf8.hpp"
#include "conference/events/bounded_text.hpp"

namespace chorus::conference {

std::string_view refusal_name(ChatRefusal refusal) {
  switch (refusal) {
    case ChatRefusal::kNotParticipant:
      return "not_participant";
    case ChatRefusal::kRateLimited:
      return "rate_limited";
    case ChatRefusal::kTooLarge:
      return "too_large";
    case ChatRefusal::kBadText:
      return "bad_text";
    case ChatRefusal::kUnsupported:
      return "unsupported";
  }
  return "unknown";
}

void TokenBucket::refill(std::chrono::steady_clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool TokenBucket::take(std::chrono::steady_clock::time_point now) {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds TokenBucket::wait(std::chrono::steady_clock::time_point now) const {
  double tokens = tokens_;
  if (now > last_) tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last_).count() * rate_);
  if (tokens >= 1.0 || rate_ <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil((1.0 - tokens) / rate_ * 1000.0)));
}

std::vector<PublishedCounter> ChatCounters::published() const {
  return {
      {"chorus_chat_messages_total", "Chat messages taken into a conference (SIP MESSAGE and REST)", "chat_messages",
       &accepted},
      {"chorus_chat_delivered_total", "Chat MESSAGE requests to participants answered 2xx", "chat_delivered",
       &delivered},
      {"chorus_chat_delivery_failed_total", "Chat MESSAGE requests to participants answered with an error",
       "chat_delivery_failed", &delivery_failed},
      {"chorus_chat_refused_not_participant_total", "Chat messages refused: sender in no call of the room (403)",
       "chat_refused_not_participant", &refused[static_cast<std::size_t>(ChatRefusal::kNotParticipant)]},
      {"chorus_chat_refused_rate_limited_total", "Chat messages refused: sender over its rate (503)",
       "chat_refused_rate_limited", &refused[static_cast<std::size_t>(ChatRefusal::kRateLimited)]},
      {"chorus_chat_refused_too_large_total", "Chat messages refused: text over the size limit (413)",
       "chat_refused_too_large", &refused[static_cast<std::size_t>(ChatRefusal::kTooLarge)]},
      {"chorus_chat_refused_bad_text_total", "Chat messages refused: empty, not UTF-8 or control characters (400)",
       "chat_refused_bad_text", &refused[static_cast<std::size_t>(ChatRefusal::kBadText)]},
      {"chorus_chat_refused_unsupported_total", "Chat messages refused: a body type or charset not read (415)",
       "chat_refused_unsupported", &refused[static_cast<std::size_t>(ChatRefusal::kUnsupported)]},
  };
}

std::optional<ChatRefusal> check_text(std::string_view text, const ChatLimits& limits) {
  if (text.size() > limits.max_text_bytes) return ChatRefusal::kTooLarge;
  if (text.empty() || !is_valid_utf8(text)) return ChatRefusal::kBadText;
  // Tab and line ends are text; other C0 controls and DEL are not (they reach terminals, logs, pages).
  const bool controls = std::ranges::any_of(
      text, [](unsigned char c) { return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f; });
  if (controls) return ChatRefusal::kBadText;
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ChatRooms::admit(std::uint64_t participant,
                                                          std::chrono::steady_clock::time_point now) {
  auto it = buckets_.find(participant);
  if (it == buckets_.end())
    it = buckets_.emplace(participant, TokenBucket(limits_.rate_per_second, limits_.burst, now)).first;
  if (it->second.take(now)) return std::nullopt;
  return std::max(it->second.wait(now), std::chrono::milliseconds(1));
}

const ChatMessage& ChatRooms::record(std::string_view room_id, ChatSender from, std::string text, ChatOrigin origin,
                                     std::chrono::system_clock::time_point at) {
  auto it = histories_.find(room_id);
  if (it == histories_.end()) it = histories_.emplace(std::string(room_id), std::deque<ChatMessage>{}).first;
  auto& history = it->second;
  history.push_back(ChatMessage{next_seq_++, std::string(room_id), at, std::move(from), std::move(text), origin});
  while (history.size() > std::max<std::size_t>(limits_.history, 1)) history.pop_front();
  bump(counters_.accepted);
  return history.back();
}

std::vector<ChatMessage> ChatRooms::history(std::string_view room_id, std::uint64_t since) const {
  std::vector<ChatMessage> out;
  auto it = histories_.find(room_id);
  if (it == histories_.end()) return out;
  for (const auto& message : it->second)
    if (message.seq > since) out.push_back(message);
  return out;
}

void ChatRooms::refused(ChatRefusal refusal, std::string_view room_id, std::string_view who,
                        std::chrono::steady_clock::time_point now) {
  const auto kind = static_cast<std::size_t>(refusal);
  bump(counters_.refused[kind]);
  auto& gate = log_gates_[kind];
  if (gate.last && now - *gate.last < std::chrono::seconds(1)) {
    ++gate.suppressed;
    return;
  }
  // `who` may be a stranger's From URI: bounded like every caller-written text (issue 12).
  CHORUS_LOG(kInfo, "chat", "message refused", {"reason", refusal_name(refusal)},
             {"room", bounded_text(room_id, kMaxCallerUriBytes)}, {"from", bounded_text(who, kMaxCallerUriBytes)},
             {"suppressed", gate.suppressed});
  gate.last = now;
  gate.suppressed = 0;
}

}  // namespace chorus::conference
