// ChatService (conference/chat/chat_service.hpp): MESSAGE through the real UserAgent and
// TransactionLayer from wire text, over a roster the test sets (who is in which room); delivery,
// refusals, CPIM, history, events and REST posts.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "conference/chat/chat_service.hpp"
#include "conference/chat/cpim.hpp"
#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::conference {
namespace chat_service_test {

using namespace std::chrono_literals;
using sip::uatest::RequestSpec;

class TestRoster final : public ChatRoster {
 public:
  [[nodiscard]] std::optional<ChatMember> by_call(sip::CallHandle call) const override {
    for (const auto& member : members)
      if (member.call == call) return member;
    return std::nullopt;
  }
  [[nodiscard]] std::vector<ChatMember> in_room(std::string_view room_id) const override {
    std::vector<ChatMember> out;
    for (const auto& member : members)
      if (member.room_id == room_id) out.push_back(member);
    return out;
  }
  [[nodiscard]] std::optional<std::string> room_for(std::string_view dial_string) const override {
    if (dial_string == "1000" || dial_string == "5551000") return std::string("1000");
    if (dial_string == "2000") return std::string("2000");
    return std::nullopt;
  }
  std::vector<ChatMember> members;
};

struct Caller {
  sip::CallHandle call = 0;
  std::string call_id;
  std::string tag;  // ours, in its dialog
  std::uint32_t cseq = 1;
};

struct ChatServiceTest : ::testing::Test {
  ChatServiceTest() {
    auto owned = std::make_unique<TestRoster>();
    roster = owned.get();
    ChatClocks clocks{[this] { return steady; }, [] { return std::chrono::system_clock::time_point{} + 24h * 20000; }};
    chat = std::make_unique<ChatService>(h.ua, std::move(owned), &events, ChatSettings{.sip_host = "192.0.2.1"},
                                         std::move(clocks));
    h.ua.add_method_handler("MESSAGE", kChatBodyTypes, *chat);
    subscription = events.subscribe([this](const Event& event) { published.push_back(event); });
  }

  // A call from `name` (sip:<user>@example.com, from 198.51.100.7) that joined `room`.
  Caller join(std::string name, std::string user, std::string room = "1000", bool allows_message = true,
              bool admitted = true) {
    const auto n = h.listener.incoming.size() + 1;
    RequestSpec invite;
    invite.call_id = "call-" + std::to_string(n) + "@198.51.100.7";
    invite.from_tag = "tag-" + std::to_string(n);
    if (allows_message) invite.headers = {"Allow: INVITE, ACK, BYE, MESSAGE"};
    Caller caller;
    caller.tag = h.establish(invite);
    caller.call = h.listener.incoming.back().handle;
    caller.call_id = invite.call_id;
    roster->members.push_back(ChatMember{.participant_id = 100 + n,
                                         .call = caller.call,
                                         .room_id = room,
                                         .display_name = std::move(name),
                                         .from_uri = "sip:" + user + "@example.com",
                                         .source = boost::asio::ip::make_address("198.51.100.7"),
                                         .admitted = admitted});
    return caller;
  }

  // A MESSAGE in `caller`'s dialog.
  void say(Caller& caller, std::string body, std::string content_type = "text/plain") {
    RequestSpec spec;
    spec.method = "MESSAGE";
    spec.call_id = caller.call_id;
    spec.from_tag = "tag-" + caller.call_id.substr(5, caller.call_id.find('@') - 5);
    spec.to_tag = caller.tag;
    spec.cseq = ++caller.cseq;
    spec.content_type = std::move(content_type);
    spec.body = std::move(body);
    h.deliver(spec);
  }

  // A MESSAGE outside any dialog, From sip:alice@example.com (the harness's caller), to `uri`.
  void say_to_room(std::string uri, std::string body, const sip::PeerAddress& from = sip::uatest::udp_peer()) {
    RequestSpec spec;
    spec.method = "MESSAGE";
    spec.uri = std::move(uri);
    spec.call_id = "im-" + std::to_string(++out_of_dialog) + "@198.51.100.7";
    spec.content_type = "text/plain";
    spec.body = std::move(body);
    h.deliver(spec, from);
  }

  [[nodiscard]] int last_message_status() const {
    const auto answers = h.sender.responses(0, "MESSAGE");
    return answers.empty() ? 0 : answers.back().status;
  }
  // MESSAGE requests Chorus sent into `caller`'s dialog.
  [[nodiscard]] std::vector<sip::SipMessage> delivered_to(const Caller& caller) const {
    std::vector<sip::SipMessage> out;
    for (const auto& request : h.sender.requests("MESSAGE"))
      if (request.call_id == caller.call_id) out.push_back(request);
    return out;
  }

  sip::uatest::UaHarness h;
  EventLog events;
  std::vector<Event> published;
  EventLog::Subscription subscription;
  TestRoster* roster = nullptr;
  std::unique_ptr<ChatService> chat;
  std::chrono::steady_clock::time_point steady = std::chrono::steady_clock::time_point{} + 1h;
  int out_of_dialog = 0;
};

TEST_F(ChatServiceTest, AMessageInADialogIsAnswered200AndReachesTheOthersThatAllowMessage) {
  Caller ann = join("Ann", "ann");
  Caller bob = join("Bob", "bob");
  Caller old_phone = join("Carl", "carl", "1000", /*allows_message=*/false);
  Caller elsewhere = join("Dora", "dora", "2000");
  say(ann, "hello room");
  EXPECT_EQ(last_message_status(), 200) << "RFC 3428 §7: the conference is the recipient, not a relay";
  const auto to_bob = delivered_to(bob);
  ASSERT_EQ(to_bob.size(), 1U);
  EXPECT_EQ(to_bob[0].body, "Ann: hello room");
  EXPECT_EQ(*to_bob[0].header("Content-Type"), "text/plain;charset=utf-8");
  EXPECT_EQ(to_bob[0].to.tag(), "tag-2") << "in Bob's dialog";
  EXPECT_TRUE(delivered_to(ann).empty()) << "not back to the sender";
  EXPECT_TRUE(delivered_to(old_phone).empty()) << "its Allow had no MESSAGE";
  EXPECT_TRUE(delivered_to(elsewhere).empty()) << "another room";
  h.answer(to_bob[0], 200);
  EXPECT_EQ(chat->counters().delivered.load(), 1U);
  const auto history = chat->history("1000");
  ASSERT_EQ(history.size(), 1U);
  EXPECT_EQ(history[0].text, "hello room");
  EXPECT_EQ(history[0].from.display_name, "Ann");
  EXPECT_EQ(history[0].from.participant_id, 101U);
  ASSERT_EQ(published.size(), 1U);
  EXPECT_EQ(published[0].type, kChatMessageEvent);
  EXPECT_EQ(published[0].data["text"], "hello room");
  EXPECT_EQ(published[0].data["from"]["display_name"], "Ann");
  EXPECT_EQ(published[0].data["origin"], "sip");
  EXPECT_EQ(published[0].data["room_id"], "1000");
}

TEST_F(ChatServiceTest, OutOfDialogFromAParticipantToTheRoomOrItsNumberIsItsMessage) {
  join("Alice", "alice");  // the harness's caller: sip:alice@example.com from 198.51.100.7
  Caller bob = join("Bob", "bob");
  say_to_room("sip:5551000@127.0.0.1", "by number");
  EXPECT_EQ(last_message_status(), 200);
  const auto answers = h.sender.responses(200, "MESSAGE");
  EXPECT_FALSE(answers.back().to.tag().empty()) << "outside a dialog we pick the To tag";
  ASSERT_EQ(delivered_to(bob).size(), 1U);
  EXPECT_EQ(delivered_to(bob)[0].body, "Alice: by number");
}

TEST_F(ChatServiceTest, AStrangerGets403AndNothingIsDelivered) {
  Caller bob = join("Bob", "bob");  // the only participant: Alice is in no call of the room
  say_to_room("sip:1000@127.0.0.1", "let me in");
  EXPECT_EQ(last_message_status(), 403);
  join("Alice", "alice", "2000");  // in another room's call: still a stranger to 1000
  say_to_room("sip:1000@127.0.0.1", "let me in");
  EXPECT_EQ(last_message_status(), 403);
  join("Alice", "alice");
  say_to_room("sip:1000@127.0.0.1", "spoofed", sip::uatest::udp_peer("203.0.113.9"));
  EXPECT_EQ(last_message_status(), 403) << "the From URI of a participant from another address";
  EXPECT_TRUE(delivered_to(bob).empty());
  EXPECT_TRUE(chat->history("1000").empty());
  EXPECT_TRUE(published.empty());
  EXPECT_EQ(chat->counters().refused[static_cast<std::size_t>(ChatRefusal::kNotParticipant)].load(), 3U);
}

TEST_F(ChatServiceTest, NoSuchRoomIs404AndATagOfNoDialogIs481) {
  join("Alice", "alice");
  say_to_room("sip:9999@127.0.0.1", "anyone?");
  EXPECT_EQ(last_message_status(), 404);
  RequestSpec spec;
  spec.method = "MESSAGE";
  spec.to_tag = "no-such-dialog";
  spec.content_type = "text/plain";
  spec.body = "hi";
  h.deliver(spec);
  EXPECT_EQ(last_message_status(), 481);
}

TEST_F(ChatServiceTest, ACallNotYetAdmittedCanNeitherSendNorReceive) {
  Caller ann = join("Ann", "ann");
  Caller pin = join("Pat", "pat", "1000", true, /*admitted=*/false);
  say(pin, "before my PIN");
  EXPECT_EQ(last_message_status(), 403);
  say(ann, "hello");
  EXPECT_EQ(last_message_status(), 200);
  EXPECT_TRUE(delivered_to(pin).empty());
}

TEST_F(ChatServiceTest, BodiesOverTheLimitAre413BadTextIs400OtherCharsetsAre415) {
  Caller ann = join("Ann", "ann");
  Caller bob = join("Bob", "bob");
  say(ann, std::string(4097, 'a'));
  EXPECT_EQ(last_message_status(), 413);
  say(ann, "caf\xE9");  // Latin-1, declared as the default UTF-8
  EXPECT_EQ(last_message_status(), 400);
  say(ann, "caf\xE9", "text/plain;charset=iso-8859-1");
  EXPECT_EQ(last_message_status(), 415);
  const auto refusals = h.sender.responses(415, "MESSAGE");     // kept: header_values views into it
  const auto accept = refusals.back().header_values("Accept");  // a list: split
  EXPECT_EQ(std::vector<std::string>(accept.begin(), accept.end()),
            (std::vector<std::string>{"text/plain", "message/cpim"}));
  say(ann, std::string(4096, 'a'), "text/plain; charset=\"UTF-8\"");
  EXPECT_EQ(last_message_status(), 200);
  EXPECT_EQ(delivered_to(bob).size(), 1U);
}

TEST_F(ChatServiceTest, ASenderOverItsRateGets503WithRetryAfterUntilItsBucketRefills) {
  Caller ann = join("Ann", "ann");
  for (int i = 0; i < 10; ++i) {
    say(ann, "burst " + std::to_string(i));
    ASSERT_EQ(last_message_status(), 200) << i;
  }
  say(ann, "one too many");
  EXPECT_EQ(last_message_status(), 503);
  EXPECT_EQ(*h.sender.responses(503, "MESSAGE").back().header("Retry-After"), "1");
  steady += 200ms;  // 5 per second: one more token
  say(ann, "later");
  EXPECT_EQ(last_message_status(), 200);
  EXPECT_EQ(chat->history("1000").size(), 11U);
}

TEST_F(ChatServiceTest, AParticipantThatSentCpimGetsCpimNamingTheSender) {
  Caller ann = join("Ann", "ann");
  Caller bob = join("Bob", "bob");
  say(bob, encode_cpim({"whoever", "sip:forged@example.com"}, {"", "sip:1000@192.0.2.1"}, {}, "cpim from Bob"),
      "message/cpim");
  EXPECT_EQ(last_message_status(), 200);
  ASSERT_EQ(delivered_to(ann).size(), 1U);
  EXPECT_EQ(delivered_to(ann)[0].body, "Bob: cpim from Bob") << "named by its call, not by what it wrote";
  say(ann, "hi Bob");
  const auto to_bob = delivered_to(bob);
  ASSERT_EQ(to_bob.size(), 1U);
  EXPECT_EQ(*to_bob[0].header("Content-Type"), "message/cpim");
  auto cpim = parse_cpim(to_bob[0].body);
  ASSERT_TRUE(cpim.has_value()) << cpim.error();
  EXPECT_EQ(cpim->from.name, "Ann");
  EXPECT_EQ(cpim->from.uri, "sip:ann@example.com");
  EXPECT_EQ(cpim->to.uri, "sip:1000@192.0.2.1");
  EXPECT_FALSE(cpim->date_time.empty());
  EXPECT_EQ(cpim->content, "hi Bob");
  say(bob, "not cpim", "message/cpim");
  EXPECT_EQ(last_message_status(), 400);
}

TEST_F(ChatServiceTest, RestPostsReachEveryParticipantAsTheNamedSender) {
  Caller ann = join("Ann", "ann");
  auto posted = chat->post("1000", "Operator", "the meeting ends in 5 minutes");
  ASSERT_TRUE(posted.has_value());
  EXPECT_FALSE(posted->from.participant_id.has_value());
  EXPECT_EQ(posted->from.uri, "sip:1000@192.0.2.1");
  ASSERT_EQ(delivered_to(ann).size(), 1U);
  EXPECT_EQ(delivered_to(ann)[0].body, "Operator: the meeting ends in 5 minutes");
  EXPECT_EQ(published.back().data["origin"], "api");
  EXPECT_TRUE(published.back().data["from"]["participant_id"].is_null());
  EXPECT_EQ(chat->post("2000", "x", "nobody there").error().refusal, ChatPostRefusal::kNoConference);
  EXPECT_EQ(chat->post("1000", "x", std::string(4097, 'a')).error().refusal, ChatPostRefusal::kTooLarge);
  EXPECT_EQ(chat->post("1000", "x", "").error().refusal, ChatPostRefusal::kBadText);
  EXPECT_EQ(chat->history("1000").size(), 1U);
}

TEST_F(ChatServiceTest, TheConferenceEndingDropsItsHistoryAndALeaverItsBucket) {
  Caller ann = join("Ann", "ann");
  say(ann, "hi");
  events.publish(event_type::kParticipantLeft, {{"room_id", "1000"}, {"participant_id", 101}});
  EXPECT_EQ(chat->rooms().buckets(), 0U);
  EXPECT_EQ(chat->history("1000").size(), 1U);
  events.publish(event_type::kConferenceEnded, {{"room_id", "1000"}}, "node-b");
  EXPECT_EQ(chat->history("1000").size(), 1U) << "another node's conference of that name is not ours";
  events.publish(event_type::kConferenceEnded, {{"room_id", "1000"}});
  EXPECT_TRUE(chat->history("1000").empty());
}

}  // namespace chat_service_test
}  // namespace chorus::conference
