// StreamFramer (RFC 3261 §18.3 framing by Content-Length, §7.5 and RFC 5626 §3.5.1 keep-alives).
#include "signaling/message/message_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chorus::sip {
namespace stream_framer_test {

std::string message(std::string_view call_id, std::string_view body) {
  std::string m =
      "MESSAGE sip:room@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-";
  m += call_id;
  m += "\r\nMax-Forwards: 70\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:room@example.com>\r\nCall-ID: ";
  m += call_id;
  m += "\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: ";
  m += std::to_string(body.size());
  m += "\r\n\r\n";
  m += body;
  return m;
}

// Drains every complete message.
std::vector<StreamFramer::Item> drain(StreamFramer& framer) {
  std::vector<StreamFramer::Item> items;
  while (true) {
    auto item = framer.next();
    if (item.status == StreamFramer::Status::kNeedMore) return items;
    const bool stop = item.status == StreamFramer::Status::kFatal;
    items.push_back(std::move(item));
    if (stop) return items;
  }
}

TEST(StreamFramer, OneMessageInOneFeed) {
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(message("a", "hello")));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].status, StreamFramer::Status::kMessage);
  EXPECT_EQ(items[0].message->call_id, "a");
  EXPECT_EQ(items[0].message->body, "hello");
  EXPECT_EQ(framer.buffered(), 0u);
}

TEST(StreamFramer, SeveralMessagesInOneFeed) {
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(message("a", "1") + message("b", "") + message("c", "333")));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].message->call_id, "a");
  EXPECT_EQ(items[1].message->body, "");
  EXPECT_EQ(items[2].message->body, "333");
}

TEST(StreamFramer, MessagesSplitAtEveryByteBoundary) {
  const std::string stream = message("a", "body-one") + "\r\n\r\n" + message("b", "two");
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    StreamFramer framer;
    std::vector<StreamFramer::Item> items;
    ASSERT_TRUE(framer.feed(std::string_view(stream).substr(0, cut)));
    for (auto& item : drain(framer)) items.push_back(std::move(item));
    ASSERT_TRUE(framer.feed(std::string_view(stream).substr(cut)));
    for (auto& item : drain(framer)) items.push_back(std::move(item));
    ASSERT_EQ(items.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(items[0].message->body, "body-one") << cut;
    EXPECT_EQ(items[1].message->body, "two") << cut;
  }
}

TEST(StreamFramer, OneByteAtATime) {
  const std::string stream = message("a", "x") + message("b", "yy");
  StreamFramer framer;
  std::vector<StreamFramer::Item> items;
  for (char c : stream) {
    ASSERT_TRUE(framer.feed(std::string_view(&c, 1)));
    for (auto& item : drain(framer)) items.push_back(std::move(item));
  }
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].message->body, "yy");
}

TEST(StreamFramer, SkipsAndCountsKeepAlives) {
  StreamFramer framer;
  ASSERT_TRUE(framer.feed("\r\n\r\n"));
  EXPECT_TRUE(drain(framer).empty());
  EXPECT_EQ(framer.take_pings(), 1u);
  EXPECT_EQ(framer.take_pings(), 0u);
  ASSERT_TRUE(framer.feed("\r\n"));
  EXPECT_TRUE(drain(framer).empty());
  ASSERT_TRUE(framer.feed("\r\n" + message("a", "")));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, StreamFramer::Status::kMessage);
  EXPECT_EQ(framer.take_pings(), 1u);
}

TEST(StreamFramer, ToleratesBareLineFeeds) {
  std::string m = message("a", "hi");
  std::string bare;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r' && i + 1 < m.size() && m[i + 1] == '\n' && i < m.find("\r\n\r\n") + 3) continue;
    bare.push_back(m[i]);
  }
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(bare));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 1u);
  ASSERT_EQ(items[0].status, StreamFramer::Status::kMessage);
  EXPECT_EQ(items[0].message->body, "hi");
}

TEST(StreamFramer, BadMessageWithGoodFramingKeepsTheStream) {
  std::string bad = message("a", "");
  bad.replace(bad.find("CSeq: 1 MESSAGE"), 15, "CSeq: 1 INVITE!");
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(bad + message("b", "")));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].status, StreamFramer::Status::kError);
  EXPECT_EQ(items[0].error->status, 400);
  EXPECT_TRUE(items[0].error->have_response_headers);
  EXPECT_EQ(items[1].status, StreamFramer::Status::kMessage);
}

TEST(StreamFramer, MissingContentLengthIsAnErrorThenFatal) {
  std::string m = message("a", "");
  m.erase(m.find("Content-Length: 0\r\n"), 19);
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(m));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].status, StreamFramer::Status::kError);
  EXPECT_EQ(items[0].error->reason, "Missing Content-Length header");
  EXPECT_TRUE(items[0].error->have_response_headers);
  EXPECT_EQ(items[1].status, StreamFramer::Status::kFatal);
  EXPECT_FALSE(framer.feed("more"));
}

TEST(StreamFramer, NegativeOrDuplicateContentLengthIsFatal) {
  for (std::string_view replacement : {"Content-Length: -999", "Content-Length: 5\r\nl: 13"}) {
    std::string m = message("a", "");
    m.replace(m.find("Content-Length: 0"), 17, replacement);
    StreamFramer framer;
    ASSERT_TRUE(framer.feed(m));
    auto items = drain(framer);
    ASSERT_EQ(items.size(), 2u) << replacement;
    EXPECT_EQ(items[0].error->status, 400);
    EXPECT_EQ(items[1].status, StreamFramer::Status::kFatal);
  }
}

TEST(StreamFramer, WaitsForALongBody) {
  std::string m = message("a", "");
  m.replace(m.find("Content-Length: 0"), 17, "Content-Length: 9999");
  StreamFramer framer;
  ASSERT_TRUE(framer.feed(m));
  EXPECT_TRUE(drain(framer).empty());  // RFC 4475 §3.1.2.2 over TCP: wait (the transport times out)
  ASSERT_TRUE(framer.feed(std::string(9999, 'x')));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].message->body.size(), 9999u);
}

TEST(StreamFramer, BufferStaysBoundedWithoutAWholeMessage) {
  ParseLimits limits;
  limits.max_message_bytes = 4096;
  StreamFramer framer(limits);
  const std::string chunk(1000, 'a');
  bool accepted = true;
  int feeds = 0;
  while (accepted && feeds < 100) {
    accepted = framer.feed(chunk);
    ++feeds;
    EXPECT_LE(framer.buffered(), limits.max_message_bytes);
    drain(framer);
  }
  EXPECT_FALSE(accepted);
  EXPECT_EQ(feeds, 5);
  EXPECT_EQ(framer.next().status, StreamFramer::Status::kFatal);
}

TEST(StreamFramer, ContentLengthPastTheLimitIs513) {
  ParseLimits limits;
  limits.max_message_bytes = 2048;
  std::string m = message("a", "");
  m.replace(m.find("Content-Length: 0"), 17, "Content-Length: 4000");
  StreamFramer framer(limits);
  ASSERT_TRUE(framer.feed(m));
  auto items = drain(framer);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].error->status, 513);
  EXPECT_EQ(items[1].status, StreamFramer::Status::kFatal);
}

TEST(StreamFramer, AcceptsAFeedPastTheLimitWhenItCompletesMessages) {
  ParseLimits limits;
  limits.max_message_bytes = 1024;
  std::string many;
  while (many.size() < 1500) many += message(std::to_string(many.size()), "x");
  StreamFramer framer(limits);
  ASSERT_TRUE(framer.feed(many));
  auto items = drain(framer);
  EXPECT_GE(items.size(), 3u);
  for (const auto& item : items) EXPECT_EQ(item.status, StreamFramer::Status::kMessage);
}

}  // namespace stream_framer_test
}  // namespace chorus::sip
