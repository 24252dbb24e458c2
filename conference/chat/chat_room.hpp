// The chat model of live conferences (issue 15, RFC 3428 MESSAGE in rooms): each conference's
// history (bounded by count), the text checks every message passes (size, UTF-8), the per-sender
// token buckets, the counters and the once-a-second refusal log lines. Nothing here knows SIP or
// HTTP: ChatService (chat_service.hpp) turns requests into calls on this model and its refusals
// into SIP or REST answers.
// Threading: control loop only (DESIGN §2); time is passed in, so tests drive it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/published_counter.hpp"

namespace chorus::conference {

struct ChatLimits {
  std::size_t history = 200;          // messages kept per conference, the oldest go first
  std::size_t max_text_bytes = 4096;  // one message's text, in bytes of UTF-8
  double rate_per_second = 5.0;       // per sender: sustained messages per second...
  double burst = 10.0;                // ...and how many may come at once
};

// Who said it: a participant (its id, the name it dialled in with, its From URI), or the room
// itself for a message posted through REST (no participant id, the name the API gave).
struct ChatSender {
  std::optional<std::uint64_t> participant_id;
  std::string display_name;
  std::string uri;
};

enum class ChatOrigin : std::uint8_t { kSip, kApi };

struct ChatMessage {
  std::uint64_t seq = 0;  // increasing over every conference of this server: `?since=` never repeats
  std::string room_id;
  std::chrono::system_clock::time_point sent_at;
  ChatSender from;
  std::string text;
  ChatOrigin origin = ChatOrigin::kSip;
};

// Why a message was not taken; each has a counter and a log line (at most one a second).
enum class ChatRefusal : std::uint8_t {
  kNotParticipant,  // out of dialog from nobody in a call of the room, or a call not admitted yet
  kRateLimited,     // the sender's bucket is empty
  kTooLarge,        // more than max_text_bytes
  kBadText,         // empty, not UTF-8, or control characters other than tab and line ends
  kUnsupported,     // a body we cannot read (a charset other than UTF-8, CPIM around something else)
};
inline constexpr std::size_t kChatRefusalKinds = 5;
std::string_view refusal_name(ChatRefusal refusal);

// A token bucket (rate r, depth b): one token per message, refilled continuously.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, std::chrono::steady_clock::time_point now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}
  // Takes a token; false when there is none (nothing is taken then).
  bool take(std::chrono::steady_clock::time_point now);
  // How long until a token is there (zero when one is).
  [[nodiscard]] std::chrono::milliseconds wait(std::chrono::steady_clock::time_point now) const;

 private:
  void refill(std::chrono::steady_clock::time_point now);
  double rate_;
  double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_;
};

// Counters (chorus_chat_*), readable from any thread (/metrics).
struct ChatCounters {
  std::atomic<std::uint64_t> accepted{0};   // messages taken into a conference (SIP and REST)
  std::atomic<std::uint64_t> delivered{0};  // MESSAGE requests to participants answered 2xx
  std::atomic<std::uint64_t> delivery_failed{0};
  std::array<std::atomic<std::uint64_t>, kChatRefusalKinds> refused{};
  [[nodiscard]] std::vector<PublishedCounter> published() const;
};

// The text rule every message passes, whoever sent it: nullopt when `text` is acceptable.
std::optional<ChatRefusal> check_text(std::string_view text, const ChatLimits& limits);

class ChatRooms {
 public:
  explicit ChatRooms(ChatLimits limits = {}) : limits_(limits) {}

  [[nodiscard]] const ChatLimits& limits() const { return limits_; }
  // Takes one token of `participant`'s bucket; when empty, how long until the next one.
  std::optional<std::chrono::milliseconds> admit(std::uint64_t participant, std::chrono::steady_clock::time_point now);
  // Appends to the room's history (dropping the oldest past the bound) and returns the stored one.
  const ChatMessage& record(std::string_view room_id, ChatSender from, std::string text, ChatOrigin origin,
                            std::chrono::system_clock::time_point at);
  // The room's messages with seq > `since`, oldest first (newest last).
  [[nodiscard]] std::vector<ChatMessage> history(std::string_view room_id, std::uint64_t since = 0) const;
  [[nodiscard]] std::uint64_t last_seq() const { return next_seq_ - 1; }
  // The conference ended: its history goes with it.
  void end_conference(std::string_view room_id) { histories_.erase(std::string(room_id)); }
  // The participant left: its bucket goes.
  void forget(std::uint64_t participant) { buckets_.erase(participant); }
  [[nodiscard]] std::size_t conferences() const { return histories_.size(); }
  [[nodiscard]] std::size_t buckets() const { return buckets_.size(); }

  // Counts the refusal and writes its log line unless one of that kind went out within the last
  // second (the skipped ones are counted in the next line's `suppressed`).
  void refused(ChatRefusal refusal, std::string_view room_id, std::string_view who,
               std::chrono::steady_clock::time_point now);
  [[nodiscard]] ChatCounters& counters() { return counters_; }
  [[nodiscard]] const ChatCounters& counters() const { return counters_; }

 private:
  struct LogGate {
    std::optional<std::chrono::steady_clock::time_point> last;
    std::uint64_t suppressed = 0;
  };
  ChatLimits limits_;
  std::uint64_t next_seq_ = 1;
  std::map<std::string, std::deque<ChatMessage>, std::less<>> histories_;
  std::unordered_map<std::uint64_t, TokenBucket> buckets_;
  std::array<LogGate, kChatRefusalKinds> log_gates_{};
  ChatCounters counters_;
};

}  // namespace chorus::conference
