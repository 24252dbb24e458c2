// The RFC 4475 torture messages and RFC 5118 IPv6 messages, judged at the parser's level against
// ../shared/conformance/EXPECTED.tsv. Statuses that the UA decides above the parser (405, 415,
// 416, 420, 406, "not-400") only require the message to parse here.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "signaling/message/message_parser.hpp"

namespace chorus::sip {
namespace conformance_test {

const std::filesystem::path kConformanceDir = std::filesystem::path(CHORUS_SHARED_DIR) / "conformance";

struct Expectation {
  std::string file;
  std::string expect;
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Expectation> load_expectations() {
  std::vector<Expectation> rows;
  std::istringstream table(read_file(kConformanceDir / "EXPECTED.tsv"));
  std::string line;
  while (std::getline(table, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    Expectation row;
    std::getline(fields, row.file, '\t');
    std::getline(fields, row.expect, '\t');
    rows.push_back(row);
  }
  return rows;
}

// The "either" cases: what this parser chose (documented at the code that decides).
const std::map<std::string, bool> kEitherParses = {
    {"rfc4475/lwsstart.dat", true},             // runs of SP in the Request-Line accepted
    {"rfc4475/trws.dat", true},                 // trailing SP after SIP-Version accepted
    {"rfc4475/escruri.dat", true},              // URI headers in the Request-URI parsed (the UA ignores them)
    {"rfc4475/baddate.dat", true},              // Date is not interpreted
    {"rfc4475/regbadct.dat", true},             // addr-spec with ?headers read as a URI with headers
    {"rfc4475/badaspec.dat", true},             // spaces inside <> trimmed
    {"rfc5118/ipv6-bug-abnf-3-colons", false},  // RFC 5954: three colons is not an IPv6 address
};

class Conformance : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kConformanceDir / "EXPECTED.tsv")) {
      GTEST_SKIP() << "conformance messages not found at " << kConformanceDir << " (../shared is absent)";
    }
  }
};

TEST_F(Conformance, EveryMessageGetsTheParserLevelOutcome) {
  const auto rows = load_expectations();
  ASSERT_GE(rows.size(), 61u);
  for (const auto& row : rows) {
    SCOPED_TRACE(row.file + " expects " + row.expect);
    const std::string text = read_file(kConformanceDir / row.file);
    ASSERT_FALSE(text.empty());
    const auto result = parse_datagram(text);
    if (row.expect == "400" || row.expect == "505") {
      ASSERT_FALSE(result);
      EXPECT_EQ(result.error().status, std::stoi(row.expect)) << result.error().reason;
      EXPECT_TRUE(result.error().is_request);
      // The error response can be addressed and built.
      EXPECT_TRUE(result.error().have_response_headers);
      const SipMessage response = make_response(result.error().partial, result.error().status, "t1");
      EXPECT_FALSE(response.header_values("Via").empty());
      EXPECT_TRUE(response.has_header("CSeq"));
    } else if (row.expect == "400|501") {
      if (!result) {
        EXPECT_EQ(result.error().status, 400);
      }
    } else if (row.expect == "drop") {
      // Responses: parsed as a response or refused as one; either way the caller drops them.
      if (result) {
        EXPECT_FALSE(result->is_request);
      } else {
        EXPECT_FALSE(result.error().is_request) << result.error().reason;
      }
    } else if (row.expect == "either") {
      ASSERT_TRUE(kEitherParses.contains(row.file));
      EXPECT_EQ(result.has_value(), kEitherParses.at(row.file));
      if (!result) {
        EXPECT_EQ(result.error().status, 400);
      }
    } else {  // not-400 and the statuses the UA decides: the parser must accept
      ASSERT_TRUE(result) << result.error().status << " " << result.error().reason;
      EXPECT_TRUE(result->is_request);
      EXPECT_FALSE(result->vias.empty());
    }
  }
}

TEST_F(Conformance, SelectedMessagesParseToTheRightValues) {
  auto wsinv = parse_datagram(read_file(kConformanceDir / "rfc4475/wsinv.dat"));
  ASSERT_TRUE(wsinv);
  EXPECT_EQ(wsinv->max_forwards, 68);
  EXPECT_EQ(wsinv->cseq.number, 9u);
  ASSERT_EQ(wsinv->vias.size(), 3u);
  EXPECT_EQ(wsinv->vias[1].host, "spindle.example.com");
  EXPECT_EQ(wsinv->vias[2].branch(), "z9hG4bK30239");
  EXPECT_EQ(wsinv->from.display_name, "J Rosenberg \\\"");
  EXPECT_EQ(*wsinv->header("NewFangledHeader"), "newfangled value continued newfangled value");
  EXPECT_EQ(wsinv->body.size(), 150u);

  auto esc01 = parse_datagram(read_file(kConformanceDir / "rfc4475/esc01.dat"));
  ASSERT_TRUE(esc01);
  EXPECT_EQ(esc01->request_uri.user, "sips:user@example.com");
  EXPECT_EQ(esc01->to.uri.user, "user");
  EXPECT_EQ(esc01->from.uri.user, "I have spaces");

  auto longreq = parse_datagram(read_file(kConformanceDir / "rfc4475/longreq.dat"));
  ASSERT_TRUE(longreq);
  EXPECT_EQ(longreq->vias.size(), 34u);

  auto ambiguous = parse_datagram(read_file(kConformanceDir / "rfc5118/port-ambiguous"));
  ASSERT_TRUE(ambiguous);
  EXPECT_EQ(ambiguous->request_uri.host, "2001:db8::10:5070");
  EXPECT_FALSE(ambiguous->request_uri.port);

  auto mixed = parse_datagram(read_file(kConformanceDir / "rfc5118/mult-ip-in-header"));
  ASSERT_TRUE(mixed);
  ASSERT_EQ(mixed->vias.size(), 3u);
  EXPECT_EQ(mixed->vias[0].port, 6050);
  EXPECT_EQ(mixed->vias[2].host, "2001:db8::9:255");
}

TEST_F(Conformance, StreamFramingAgreesWithDatagramParsing) {
  for (const auto& row : load_expectations()) {
    SCOPED_TRACE(row.file);
    const std::string text = read_file(kConformanceDir / row.file);
    const auto datagram = parse_datagram(text);
    StreamFramer framer;
    ASSERT_TRUE(framer.feed(text));
    const auto item = framer.next();
    if (item.status == StreamFramer::Status::kMessage) {
      EXPECT_TRUE(datagram.has_value());
    } else if (item.status == StreamFramer::Status::kError) {
      // Refused on the stream: refused as a datagram too, or Content-Length is missing (inv2543).
      EXPECT_TRUE(!datagram.has_value() || !datagram->has_header("Content-Length")) << item.error->reason;
    }
  }
}

}  // namespace conformance_test
}  // namespace chorus::sip
