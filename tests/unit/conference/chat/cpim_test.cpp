// message/cpim (RFC 3862) as chat carries it: what we write reads back, the RFC's own example
// reads, and malformed bodies are refused with a reason.
#include <gtest/gtest.h>

#include "conference/chat/cpim.hpp"

namespace chorus::conference {
namespace cpim_test {

const auto kAt = std::chrono::sys_days{std::chrono::year{2026} / 12 / 5} + std::chrono::hours(23) +
                 std::chrono::minutes(1) + std::chrono::seconds(2);

TEST(Cpim, WhatWeEncodeHasTheRfcLayoutAndReadsBack) {
  const std::string body = encode_cpim({"Ann \"the\" Bee", "sip:ann@example.com"}, {"1000", "sip:1000@192.0.2.1:5060"},
                                       kAt, "caf\xC3\xA9\r\nsecond line");
  EXPECT_EQ(body,
            "From: \"Ann \\\"the\\\" Bee\" <sip:ann@example.com>\r\n"
            "To: \"1000\" <sip:1000@192.0.2.1:5060>\r\n"
            "DateTime: 2026-12-05T23:01:02Z\r\n"
            "\r\n"
            "Content-Type: text/plain;charset=utf-8\r\n"
            "\r\n"
            "caf\xC3\xA9\r\nsecond line");
  auto parsed = parse_cpim(body);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->from.name, "Ann \"the\" Bee");
  EXPECT_EQ(parsed->from.uri, "sip:ann@example.com");
  EXPECT_EQ(parsed->to.uri, "sip:1000@192.0.2.1:5060");
  EXPECT_EQ(parsed->date_time, "2026-12-05T23:01:02Z");
  EXPECT_EQ(parsed->content_type, "text/plain");
  EXPECT_EQ(parsed->charset, "utf-8");
  EXPECT_EQ(parsed->content, "caf\xC3\xA9\r\nsecond line");
}

TEST(Cpim, ReadsTheRfc3862ExampleWithTokensNamespacesAndBareLineFeeds) {
  // RFC 3862 §6, with the namespace extension header, written with LF line ends.
  auto parsed = parse_cpim(
      "From: MR SANDERS <im:piglet@100akerwood.com>\n"
      "To: Depressed Donkey <im:eeyore@100akerwood.com>\n"
      "DateTime: 2000-12-13T13:40:00-08:00\n"
      "Subject: the weather will be fine today\n"
      "NS: MyFeatures <mid:MessageFeatures@id.foo.com>\n"
      "MyFeatures.VitalMessageOption: Confirmation-requested\n"
      "\n"
      "Content-type: text/plain\n"
      "Content-ID: <1234567890@foo.com>\n"
      "\n"
      "Here is the text of my message.");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->from.name, "MR SANDERS");
  EXPECT_EQ(parsed->from.uri, "im:piglet@100akerwood.com");
  EXPECT_EQ(parsed->to.name, "Depressed Donkey");
  EXPECT_EQ(parsed->content_type, "text/plain");
  EXPECT_TRUE(parsed->charset.empty());
  EXPECT_EQ(parsed->content, "Here is the text of my message.");
}

TEST(Cpim, MalformedBodiesAreRefusedWithAReason) {
  EXPECT_FALSE(parse_cpim("From: <sip:a@b>\r\nno empty line").has_value());
  EXPECT_FALSE(parse_cpim("From: <sip:a@b>\r\n\r\nContent-Type: text/plain\r\nno second empty line").has_value());
  EXPECT_FALSE(parse_cpim("From: <sip:a@b>\r\n\r\nContent-ID: <x>\r\n\r\nhi").has_value()) << "no Content-Type";
  EXPECT_FALSE(parse_cpim("From: nobody\r\n\r\nContent-Type: text/plain\r\n\r\nhi").has_value())
      << "From without <URI>";
  EXPECT_FALSE(parse_cpim("not a header\r\n\r\nContent-Type: text/plain\r\n\r\nhi").has_value());
  std::string many;
  for (std::size_t i = 0; i <= kMaxCpimHeaders; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  EXPECT_FALSE(parse_cpim(many + "\r\nContent-Type: text/plain\r\n\r\nhi").has_value());
}

}  // namespace cpim_test
}  // namespace chorus::conference
