// conference-info documents (RFC 4575 §5): the full state, partial state between two rosters
// (changed users whole, gone users deleted, versions as given), escaping of caller text, URIs kept
// valid, and the size bound; XmlWriter's nesting.
#include "conference/roster/conference_info.hpp"

#include <gtest/gtest.h>

#include "conference/roster/xml_writer.hpp"

namespace chorus::conference {
namespace conference_info_test {

RosterUser user(std::string entity, std::string name, std::uint64_t id, bool muted = false, bool talking = false) {
  RosterUser u;
  u.entity = std::move(entity);
  u.display_text = std::move(name);
  u.roles = {"participant"};
  RosterEndpoint endpoint;
  endpoint.entity = "urn:chorus:participant:" + std::to_string(id);
  endpoint.status = muted ? "muted-via-focus" : "connected";
  endpoint.joining_method = "dialed-in";
  endpoint.joined_at = "2026-12-06T00:00:00Z";
  endpoint.media.push_back(RosterMedia{"0", "audio", muted ? "recvonly" : "sendrecv", talking});
  endpoint.media.push_back(RosterMedia{"1", "video", "sendrecv", std::nullopt});
  u.endpoints.push_back(std::move(endpoint));
  return u;
}

ConferenceInfo room(std::vector<RosterUser> users) {
  ConferenceInfo info;
  info.entity = "sip:1000@192.0.2.1:5060";
  info.display_text = "Weekly sync";
  info.maximum_user_count = 100;
  info.users = std::move(users);
  return info;
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

TEST(ConferenceInfo, TheFullStateDescribesTheRoomAndEveryUser) {
  const std::string xml = write_full(room({user("sip:alice@example.com", "Alice", 1, false, true)}), 7);
  EXPECT_TRUE(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<conference-info "));
  EXPECT_TRUE(has(xml, "xmlns=\"urn:ietf:params:xml:ns:conference-info\""));
  EXPECT_TRUE(has(xml, "xmlns:chorus=\"urn:chorus:params:xml:ns:conference-info-ext\""));
  EXPECT_TRUE(has(xml, "entity=\"sip:1000@192.0.2.1:5060\" state=\"full\" version=\"7\""));
  EXPECT_TRUE(has(xml,
                  "<conference-description><display-text>Weekly sync</display-text>"
                  "<maximum-user-count>100</maximum-user-count></conference-description>"));
  EXPECT_TRUE(has(xml,
                  "<conference-state><user-count>1</user-count><active>true</active><locked>false</locked>"
                  "</conference-state>"));
  EXPECT_TRUE(has(xml,
                  "<users><user entity=\"sip:alice@example.com\" state=\"full\"><display-text>Alice</display-text>"
                  "<roles><entry>participant</entry></roles>"));
  EXPECT_TRUE(has(xml,
                  "<endpoint entity=\"urn:chorus:participant:1\"><status>connected</status>"
                  "<joining-method>dialed-in</joining-method><joining-info><when>2026-12-06T00:00:00Z</when>"
                  "</joining-info>"));
  EXPECT_TRUE(has(xml,
                  "<media id=\"0\"><type>audio</type><status>sendrecv</status>"
                  "<chorus:talking>true</chorus:talking></media>"));
  EXPECT_TRUE(has(xml, "<media id=\"1\"><type>video</type><status>sendrecv</status></media>"));
  EXPECT_TRUE(xml.ends_with("</users></conference-info>"));
}

TEST(ConferenceInfo, AnEmptyRoomIsInactiveWithNoUsers) {
  const std::string xml = write_full(room({}), 1);
  EXPECT_TRUE(has(xml, "<user-count>0</user-count><active>false</active>"));
  EXPECT_TRUE(has(xml, "<users/>"));
}

TEST(ConferenceInfo, CallerTextIsEscapedAndCannotBreakTheDocument) {
  RosterUser mallory = user("sip:mallory@example.com", "</display-text><x a=\"1\">&'\x01\xff", 9);
  const std::string xml = write_full(room({mallory}), 1);
  EXPECT_TRUE(has(xml,
                  "<display-text>&lt;/display-text&gt;&lt;x a=&quot;1&quot;&gt;&amp;&apos;\xEF\xBF\xBD\xEF\xBF\xBD"
                  "</display-text>"))
      << "a control character and ill-formed UTF-8 become U+FFFD (XML 1.0 §2.2)";
  EXPECT_FALSE(has(xml, "<x "));
}

TEST(ConferenceInfo, EntityUrisArePercentEncodedWhereRfc3986DoesNotAllowACharacter) {
  EXPECT_EQ(uri_for_xml("sip:alice@example.com;transport=tcp"), "sip:alice@example.com;transport=tcp");
  EXPECT_EQ(uri_for_xml("sip:a b\"<>@x\xE2\x80\xA6"), "sip:a%20b%22%3C%3E@x%E2%80%A6");
  const std::string xml = write_full(room({user("sip:\"quoted\"@example.com", "Q", 2)}), 1);
  EXPECT_TRUE(has(xml, "<user entity=\"sip:%22quoted%22@example.com\""));
}

TEST(ConferenceInfo, APartialStateCarriesChangedUsersWholeAndGoneUsersDeleted) {
  const ConferenceInfo before =
      room({user("sip:alice@example.com", "Alice", 1), user("sip:bob@example.com", "Bob", 2)});
  const ConferenceInfo after =
      room({user("sip:alice@example.com", "Alice", 1, true), user("sip:carol@example.com", "Carol", 3)});
  const auto xml = write_partial(before, after, 4);
  ASSERT_TRUE(xml.has_value());
  EXPECT_TRUE(has(*xml, "state=\"partial\" version=\"4\""));
  EXPECT_FALSE(has(*xml, "<conference-description>")) << "unchanged: left out";
  EXPECT_FALSE(has(*xml, "<conference-state>")) << "two users before and after";
  EXPECT_TRUE(has(*xml, "<users state=\"partial\">"));
  EXPECT_TRUE(has(*xml, "<user entity=\"sip:alice@example.com\" state=\"full\">"));
  EXPECT_TRUE(has(*xml, "<status>muted-via-focus</status>"));
  EXPECT_TRUE(has(*xml, "<user entity=\"sip:carol@example.com\" state=\"full\">"));
  EXPECT_TRUE(has(*xml, "<user entity=\"sip:bob@example.com\" state=\"deleted\"/>"));
  EXPECT_FALSE(has(*xml, "<display-text>Bob</display-text>"));
}

TEST(ConferenceInfo, APartialStateNamesTheRoomStateAndDescriptionOnlyWhenTheyChanged) {
  const ConferenceInfo before = room({user("sip:alice@example.com", "Alice", 1)});
  ConferenceInfo after = room({});
  after.display_text = "Renamed";
  const auto xml = write_partial(before, after, 2);
  ASSERT_TRUE(xml.has_value());
  EXPECT_TRUE(has(*xml, "<display-text>Renamed</display-text>"));
  EXPECT_TRUE(has(*xml, "<user-count>0</user-count><active>false</active>"));
  EXPECT_TRUE(has(*xml, "<user entity=\"sip:alice@example.com\" state=\"deleted\"/>"));
}

TEST(ConferenceInfo, NothingChangedIsNoDocument) {
  const ConferenceInfo same = room({user("sip:alice@example.com", "Alice", 1)});
  EXPECT_FALSE(write_partial(same, same, 3).has_value());
}

TEST(ConferenceInfo, ADocumentOverItsBoundIsNotWritten) {
  std::vector<RosterUser> many;
  for (int i = 0; i < 50; ++i) many.push_back(user("sip:u" + std::to_string(i) + "@example.com", "User", i));
  EXPECT_TRUE(write_full(room(many), 1, 2048).empty());
  EXPECT_FALSE(write_full(room(many), 1).empty());
}

TEST(XmlWriter, NestsClosesAndEscapesAttributes) {
  XmlWriter xml;
  xml.open("a").attribute("x", "1\t<2>\n").open("b").close().element("c", "t&t");
  EXPECT_EQ(xml.finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1&#9;&lt;2&gt;&#10;\"><b/><c>t&amp;t</c></a>");
}

}  // namespace conference_info_test
}  // namespace chorus::conference
