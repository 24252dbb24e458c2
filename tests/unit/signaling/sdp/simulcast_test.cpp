// Parsers of a=rid (RFC 8851 §10) and a=simulcast (RFC 8853 §5.1): the forms browsers write, the
// RFCs' examples, and malformed values.
#include "signaling/sdp/simulcast.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace chorus::sdp {
namespace simulcast_test {

TEST(Rid, ReadsIdAndDirection) {
  auto rid = parse_rid("q send");
  ASSERT_TRUE(rid) << rid.error();
  EXPECT_EQ(rid->id, "q");
  EXPECT_EQ(rid->direction, RidDirection::kSend);
  EXPECT_TRUE(rid->payload_types.empty());
  EXPECT_EQ(rid->restrictions, "");
  EXPECT_EQ(parse_rid("hi-res_2 recv")->direction, RidDirection::kRecv);
}

TEST(Rid, ReadsPayloadTypesAndKeepsRestrictionsAsText) {
  // RFC 8851 §11 example.
  auto rid = parse_rid("1 send pt=97;max-width=1280;max-height=720");
  ASSERT_TRUE(rid) << rid.error();
  EXPECT_EQ(rid->payload_types, std::vector<int>{97});
  EXPECT_EQ(rid->restrictions, "max-width=1280;max-height=720");
  auto list = parse_rid("5 send pt=100,101,102");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->payload_types, (std::vector<int>{100, 101, 102}));
  auto spaced = parse_rid("h send max-br=1500000; max-fps=30");
  ASSERT_TRUE(spaced) << spaced.error();
  EXPECT_EQ(spaced->restrictions, "max-br=1500000; max-fps=30");
}

struct BadValue {
  const char* name;
  std::string_view value;
  std::string_view reason;
};

class RidRefuses : public ::testing::TestWithParam<BadValue> {};

TEST_P(RidRefuses, MalformedValue) {
  auto rid = parse_rid(GetParam().value);
  ASSERT_FALSE(rid);
  EXPECT_EQ(rid.error(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc8851, RidRefuses,
    ::testing::Values(BadValue{"Empty", "", "rid id is not 1-16 letters, digits, - or _"},
                      BadValue{"BadCharacter", "a.b send", "rid id is not 1-16 letters, digits, - or _"},
                      BadValue{"TooLong", "abcdefghijklmnopq send", "rid id is not 1-16 letters, digits, - or _"},
                      BadValue{"NoDirection", "q", "rid direction is neither send nor recv"},
                      BadValue{"BadDirection", "q sendrecv", "rid direction is neither send nor recv"},
                      BadValue{"EmptyPtList", "q send pt=", "rid pt= lists no payload type"},
                      BadValue{"PtNotNumber", "q send pt=vp8", "rid pt= entry is not a payload type"},
                      BadValue{"PtTooLarge", "q send pt=128", "rid pt= entry is not a payload type"},
                      BadValue{"EmptyRestriction", "q send max-width=1;;x=2", "rid restriction is malformed"},
                      BadValue{"RestrictionName", "q send max_width=1", "rid restriction is malformed"}),
    [](const ::testing::TestParamInfo<BadValue>& info) { return std::string(info.param.name); });

TEST(Rid, RefusesMoreThan32PayloadTypes) {
  std::string value = "q send pt=96";
  for (int i = 0; i < 32; ++i) value += ",96";
  EXPECT_EQ(parse_rid(value).error(), "rid pt= lists too many payload types");
}

std::vector<std::vector<std::string>> rids(const std::vector<SimulcastStreamView>& streams) {
  std::vector<std::vector<std::string>> out;
  for (const auto& stream : streams) {
    auto& alternatives = out.emplace_back();
    for (const auto& id : stream) {
      std::string text(id.paused ? "~" : "");
      alternatives.push_back(text.append(id.rid));
    }
  }
  return out;
}

using Rids = std::vector<std::vector<std::string>>;

TEST(Simulcast, ReadsChromesThreeLayers) {
  auto sc = parse_simulcast("send q;h;f");
  ASSERT_TRUE(sc) << sc.error();
  EXPECT_EQ(rids(sc->send), (Rids{{"q"}, {"h"}, {"f"}}));
  EXPECT_TRUE(sc->recv.empty());
}

TEST(Simulcast, ReadsAlternativesPausedAndBothDirections) {
  // RFC 8853 §5.1 examples.
  auto sc = parse_simulcast("send 1,2;3 recv 4");
  ASSERT_TRUE(sc) << sc.error();
  EXPECT_EQ(rids(sc->send), (Rids{{"1", "2"}, {"3"}}));
  EXPECT_EQ(rids(sc->recv), (Rids{{"4"}}));
  auto paused = parse_simulcast("recv ~a;b send c");
  ASSERT_TRUE(paused);
  EXPECT_EQ(rids(paused->recv), (Rids{{"~a"}, {"b"}}));
  EXPECT_EQ(rids(paused->send), (Rids{{"c"}}));
}

class SimulcastRefuses : public ::testing::TestWithParam<BadValue> {};

TEST_P(SimulcastRefuses, MalformedValue) {
  auto sc = parse_simulcast(GetParam().value);
  ASSERT_FALSE(sc);
  EXPECT_EQ(sc.error(), GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Rfc8853, SimulcastRefuses,
    ::testing::Values(BadValue{"Empty", "", "simulcast has no direction"},
                      BadValue{"UnknownDirection", "sendrecv a", "simulcast direction is neither send nor recv"},
                      BadValue{"LegacyForm", " send rid=1;2", "simulcast names a malformed rid"},
                      BadValue{"NoStreams", "send", "simulcast direction lists no stream"},
                      BadValue{"DirectionTwice", "send a recv b send c", "simulcast gives a direction twice"},
                      BadValue{"EmptyStream", "send a;;b", "simulcast names a malformed rid"},
                      BadValue{"EmptyAlternative", "send a,,b", "simulcast names a malformed rid"},
                      BadValue{"LonePause", "send ~", "simulcast names a malformed rid"},
                      BadValue{"RidTwice", "send a;b recv a", "simulcast names a rid twice"}),
    [](const ::testing::TestParamInfo<BadValue>& info) { return std::string(info.param.name); });

TEST(Simulcast, BoundsTheRidsItReads) {
  std::string value = "send r0";
  for (std::size_t i = 1; i < kMaxSimulcastIds; ++i) value.append(";r").append(std::to_string(i));
  ASSERT_TRUE(parse_simulcast(value));
  EXPECT_EQ(parse_simulcast(value + ";extra").error(), "simulcast names too many rids");
}

}  // namespace simulcast_test
}  // namespace chorus::sdp
