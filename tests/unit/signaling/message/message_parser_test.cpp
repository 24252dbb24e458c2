// Message parsing (RFC 3261 §7, §8.2, §18.3): start lines, folding, compact forms, list splitting,
// the checks that make a 400/505/513, and the limits on what one message may cost.
#include "signaling/message/message_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::sip {
namespace message_parser_test {

// Test text is written with "\n"; the wire uses CRLF.
std::string crlf(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\n"
    "Max-Forwards: 70\n"
    "To: Bob <sip:bob@biloxi.example.com>\n"
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com\n"
    "CSeq: 314159 INVITE\n"
    "Contact: <sip:alice@pc33.atlanta.example.com>\n"
    "Content-Type: application/sdp\n"
    "Content-Length: 4\n"
    "\n"
    "v=0\n";

// kInvite with `header` lines replacing the line that starts with `prefix` (or added when empty).
std::string with_header(std::string_view prefix, std::string_view replacement) {
  std::string text(kInvite);
  if (!prefix.empty()) {
    const std::size_t at = text.find(std::string("\n") + std::string(prefix));
    const std::size_t end = text.find('\n', at + 1);
    text.replace(at + 1, end - at, std::string(replacement));
  } else {
    text.insert(text.find('\n') + 1, std::string(replacement));
  }
  return crlf(text);
}

ParseError expect_error(const std::string& text) {
  auto result = parse_datagram(text);
  EXPECT_FALSE(result) << "parsed: " << text;
  return result ? ParseError{} : result.error();
}

TEST(MessageParser, ParsesRequestAndTypedFields) {
  auto msg = parse_datagram(crlf(kInvite));
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_TRUE(msg->is_request);
  EXPECT_EQ(msg->method, "INVITE");
  EXPECT_EQ(msg->request_uri_text, "sip:bob@biloxi.example.com");
  EXPECT_EQ(msg->request_uri.user, "bob");
  EXPECT_EQ(msg->version, "SIP/2.0");
  ASSERT_EQ(msg->vias.size(), 1u);
  EXPECT_EQ(msg->top_branch(), "z9hG4bK776asdhds");
  EXPECT_EQ(msg->from.tag(), "1928301774");
  EXPECT_EQ(msg->from.display_name, "Alice");
  EXPECT_EQ(msg->to.uri.host, "biloxi.example.com");
  EXPECT_EQ(msg->call_id, "a84b4c76e66710@pc33.atlanta.example.com");
  EXPECT_EQ(msg->cseq.number, 314159u);
  EXPECT_EQ(msg->cseq_method(), "INVITE");
  EXPECT_EQ(msg->max_forwards, 70);
  ASSERT_EQ(msg->contacts.size(), 1u);
  EXPECT_EQ(msg->body, "v=0\r");
  EXPECT_EQ(*msg->header("content-type"), "application/sdp");
}

TEST(MessageParser, ParsesResponse) {
  auto msg =
      parse_datagram(crlf("SIP/2.0 180 Ringing\n"
                          "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\n"
                          "To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf\n"
                          "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\n"
                          "Call-ID: a84b4c76e66710\n"
                          "CSeq: 314159 INVITE\n"
                          "Content-Length: 0\n\n"));
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_FALSE(msg->is_request);
  EXPECT_EQ(msg->status, 180);
  EXPECT_EQ(msg->reason, "Ringing");
  EXPECT_EQ(msg->to.tag(), "a6c85cf");
}

TEST(MessageParser, ResponseWithEmptyOrUnusualReason) {
  const std::string tail =
      "Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe\nCall-ID: x\nCSeq: 35 INVITE\n"
      "From: <sip:user@example.com>;tag=39ansfi3\nTo: <sip:user@example.edu>;tag=902jndnke3\n"
      "Content-Length: 0\n\n";
  auto empty = parse_datagram(crlf("SIP/2.0 100 \n" + tail));  // RFC 4475 §3.1.1.13
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->reason, "");
  auto odd = parse_datagram(crlf("SIP/2.0 200 = 2**3 * 5**2 \xd0\xbd\xd0\xbe\n" + tail));  // §3.1.1.12
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->reason, "= 2**3 * 5**2 \xd0\xbd\xd0\xbe");
}

TEST(MessageParser, RefusesBadStatusCodeAsResponse) {
  const std::string tail =
      "Via: SIP/2.0/UDP h;branch=z9hG4bK2\nCall-ID: x\nCSeq: 1 INVITE\nFrom: <sip:a@b>;tag=1\n"
      "To: <sip:c@d>\nContent-Length: 0\n\n";
  for (std::string_view line : {"SIP/2.0 4294967301 better not break the receiver", "SIP/2.0 99 Low", "SIP/2.0 700 X",
                                "SIP/2.0 20 OK", "SIP/2.0 2000 OK"}) {
    auto r = parse_datagram(crlf(std::string(line) + "\n" + tail));
    ASSERT_FALSE(r) << line;
    EXPECT_FALSE(r.error().is_request);
    EXPECT_FALSE(r.error().have_response_headers);
  }
}

TEST(MessageParser, UnfoldsContinuationLines) {
  auto msg = parse_datagram(with_header("Call-ID", "Call-ID: abc\nSubject: first\n  second\n\tthird\n"));
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_EQ(*msg->header("Subject"), "first second third");
  auto cseq = parse_datagram(with_header("CSeq", "cseq: 0009\n  INVITE\n"));
  ASSERT_TRUE(cseq) << cseq.error().reason;
  EXPECT_EQ(cseq->cseq.number, 9u);
}

TEST(MessageParser, FoldedValueStartingOnTheNextLine) {
  auto msg = parse_datagram(with_header("Contact", "Contact:\n  <sip:cal%6Cer@host5.example.net>\n"));
  ASSERT_TRUE(msg) << msg.error().reason;
  ASSERT_EQ(msg->contacts.size(), 1u);
  EXPECT_EQ(msg->contacts[0].uri.user, "caller");
}

TEST(MessageParser, MapsCompactAndAnyCaseNames) {
  auto msg =
      parse_datagram(crlf("OPTIONS sip:x@example.com SIP/2.0\n"
                          "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\n"
                          "VIA : SIP/2.0/TCP b.example.com;branch=z9hG4bK2\n"
                          "f: <sip:a@example.com>;tag=1\n"
                          "t: <sip:x@example.com>\n"
                          "i: cid\n"
                          "cseq: 1 OPTIONS\n"
                          "MaX-fOrWaRdS: 0068\n"
                          "m: <sip:a@host>\n"
                          "k: timer\n"
                          "c: text/plain\n"
                          "s: hello\n"
                          "o: presence\n"
                          "u: dialog\n"
                          "x: 1800\n"
                          "l: 2\n\nhi"));
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_EQ(msg->vias.size(), 2u);
  EXPECT_EQ(msg->call_id, "cid");
  EXPECT_EQ(msg->max_forwards, 68);
  EXPECT_EQ(msg->body, "hi");
  EXPECT_EQ(msg->headers[0].name, "Via");
  EXPECT_EQ(msg->headers[1].name, "Via");
  for (std::string_view name : {"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Contact", "Supported", "Content-Type",
                                "Subject", "Event", "Allow-Events", "Session-Expires", "Content-Length"}) {
    EXPECT_TRUE(msg->has_header(name)) << name;
  }
}

TEST(MessageParser, SplitsListHeadersButNotAuthOrDate) {
  auto msg = parse_datagram(with_header("Contact",
                                        "Contact: <sip:a@h1>, \"Doe, J\" <sip:b@h2>\nAllow: INVITE, ACK,BYE\n"
                                        "Accept: application/sdp, application/pkcs7-mime,\n        multipart/mixed\n"
                                        "Authorization: Digest username=\"bob\", realm=\"x\", nonce=\"1\"\n"
                                        "Date: Sat, 13 Nov 2010 23:29:00 GMT\n"
                                        "Via: SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2\n"));
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_EQ(msg->contacts.size(), 2u);
  EXPECT_EQ(msg->contacts[1].display_name, "Doe, J");
  EXPECT_EQ(msg->header_values("Allow").size(), 3u);
  EXPECT_EQ(msg->header_values("Accept").size(), 3u);
  EXPECT_EQ(msg->header_values("Authorization").size(), 1u);
  EXPECT_EQ(msg->header_values("Date").size(), 1u);
  EXPECT_EQ(msg->vias.size(), 3u);
}

TEST(MessageParser, ToleratesBareLineFeedsAndLeadingBlankLines) {
  std::string text = "\r\n\r\n" + std::string(kInvite);  // §7.5
  auto msg = parse_datagram(text);
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_EQ(msg->body, "v=0\n");
}

TEST(MessageParser, ExtraSpacesInRequestLineAreTolerated) {
  // RFC 4475 §3.1.2.9 lwsstart and §3.1.2.10 trws: "either"; we accept.
  std::string text = crlf(kInvite);
  text.replace(0, text.find('\r'), "INVITE  sip:bob@biloxi.example.com  SIP/2.0  ");
  EXPECT_TRUE(parse_datagram(text));
}

TEST(MessageParser, UnknownRequestUriSchemeParses) {
  std::string text = crlf(kInvite);
  text.replace(0, text.find('\r'), "INVITE nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0");
  auto msg = parse_datagram(text);
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->request_uri.scheme, "nobodyknowsthisscheme");  // the UA answers 416
}

TEST(MessageParser, DatagramIgnoresOctetsPastContentLength) {
  auto msg = parse_datagram(crlf(std::string(kInvite) + "INVITE sip:x SIP/2.0\n"));  // §18.3, dblreq
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->body, "v=0\r");
}

TEST(MessageParser, MissingContentLengthTakesTheRestOfTheDatagram) {
  auto msg = parse_datagram(with_header("Content-Length", "X-Other: 1\n"));
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->body, "v=0\r\n");
}

TEST(MessageParser, MissingMaxForwardsIsTolerated) {
  auto msg = parse_datagram(with_header("Max-Forwards", ""));  // RFC 4475 §3.4.1 inv2543
  ASSERT_TRUE(msg) << msg.error().reason;
  EXPECT_FALSE(msg->max_forwards);
}

struct BadCase {
  std::string_view prefix;       // line to replace ("" = insert after the start line)
  std::string_view replacement;  // new lines
  int status;
  std::string_view reason;
};

TEST(MessageParser, EachValidationErrorNamesTheHeader) {
  const BadCase cases[] = {
      {"To", "", 400, "Missing To header"},
      {"From", "", 400, "Missing From header"},
      {"Call-ID", "", 400, "Missing Call-ID header"},
      {"CSeq", "", 400, "Missing CSeq header"},
      {"Via", "", 400, "Missing Via header"},
      {"To", "To: <sip:a@b>\nTo: <sip:c@d>\n", 400, "Multiple To headers"},
      {"From", "From: <sip:a@b>;tag=1\nf: <sip:c@d>;tag=2\n", 400, "Multiple From headers"},
      {"Call-ID", "Call-ID: a\ni: b\n", 400, "Multiple Call-ID headers"},
      {"CSeq", "CSeq: 1 INVITE\nCSeq: 2 INVITE\n", 400, "Multiple CSeq headers"},
      {"Content-Length", "Content-Length: 4\nl: 4\n", 400, "Multiple Content-Length headers"},
      {"Max-Forwards", "Max-Forwards: 70\nMax-Forwards: 5\n", 400, "Multiple Max-Forwards headers"},
      {"CSeq", "CSeq: 1 OPTIONS\n", 400, "Bad CSeq header: method does not match the Request-Line"},
      {"CSeq", "CSeq: 36893488147419103232 INVITE\n", 400, "Bad CSeq header"},
      {"Max-Forwards", "Max-Forwards: 300\n", 400, "Bad Max-Forwards header"},
      {"Max-Forwards", "Max-Forwards: -1\n", 400, "Bad Max-Forwards header"},
      {"Content-Length", "Content-Length: -999\n", 400, "Bad Content-Length header"},
      {"Content-Length", "Content-Length: 99999999999999999999\n", 400, "Bad Content-Length header"},
      {"Content-Length", "Content-Length: 9999\n", 400, "Bad Content-Length header: longer than the message"},
      {"To", "To: \"Mr. J. User <sip:j.user@example.com>\n", 400, "Bad To header"},
      {"From", "From: Bell, Alexander <sip:a.g.bell@example.com>;tag=43\n", 400, "Bad From header"},
      {"To", "To: *\n", 400, "Bad To header"},
      {"Via", "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n", 400, "Bad Via header"},
      {"Contact", "Contact: \"Joe\" <sip:joe@example.org>;;;;\n", 400, "Bad Contact header"},
      {"Call-ID", "Call-ID: two words\n", 400, "Bad Call-ID header"},
      {"", "Route: <sip:a@b\n", 400, "Bad Route header"},
      {"", "Record-Route: nonsense\n", 400, "Bad Record-Route header"},
      {"", "No colon here\n", 400, "Malformed header line"},
      {"", "Bad Name: x\n", 400, "Malformed header line"},
  };
  for (const auto& c : cases) {
    const ParseError error = expect_error(with_header(c.prefix, c.replacement));
    EXPECT_EQ(error.status, c.status) << c.replacement;
    EXPECT_EQ(error.reason, c.reason) << c.replacement;
    EXPECT_TRUE(error.is_request);
  }
}

TEST(MessageParser, RequestLineErrors) {
  const std::pair<std::string_view, int> cases[] = {
      {"INVITE <sip:user@example.com> SIP/2.0", 400},      // RFC 4475 §3.1.2.7 ltgtruri
      {"INVITE sip:user@example.com; lr SIP/2.0", 400},    // §3.1.2.8 lwsruri
      {"REGISTER sip:2001:db8::10 SIP/2.0", 400},          // RFC 5118 §4.4
      {"INVITE sip:bob@biloxi.example.com SIP/7.0", 505},  // §3.1.2.16 badvers
      {"INVITE sip:bob@biloxi.example.com HTTP/1.1", 400}, {"INVITE sip:bob@biloxi.example.com", 400},
      {"INV ITE sip:bob@biloxi.example.com SIP/2.0", 400}, {"INV(TE sip:bob@biloxi.example.com SIP/2.0", 400},
  };
  for (const auto& [line, status] : cases) {
    std::string text = crlf(kInvite);
    text.replace(0, text.find('\r'), line);
    const ParseError error = expect_error(text);
    EXPECT_EQ(error.status, status) << line;
    EXPECT_TRUE(error.have_response_headers) << line;
  }
}

TEST(MessageParser, ErrorKeepsHeadersForTheResponse) {
  const ParseError error = expect_error(with_header("CSeq", "CSeq: 99999999999 INVITE\n"));
  ASSERT_TRUE(error.have_response_headers);
  ASSERT_EQ(error.partial.vias.size(), 1u);
  EXPECT_EQ(error.partial.vias[0].branch(), "z9hG4bK776asdhds");
  EXPECT_EQ(error.partial.call_id, "a84b4c76e66710@pc33.atlanta.example.com");
  SipMessage response = make_response(error.partial, error.status, "srv1");
  const std::string wire = response.serialize();
  EXPECT_NE(wire.find("SIP/2.0 400 Bad Request\r\n"), std::string::npos);
  EXPECT_NE(wire.find("CSeq: 99999999999 INVITE\r\n"), std::string::npos);
  EXPECT_NE(wire.find("Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\n"), std::string::npos);
  EXPECT_NE(wire.find(";tag=srv1"), std::string::npos);
}

TEST(MessageParser, BadViaStillGivesAnAddressForThe400) {
  const ParseError error = expect_error(with_header("Via", "Via: SIP/2.0/UDP 192.0.2.15:5070;;,;,,\n"));
  ASSERT_TRUE(error.have_response_headers);
  EXPECT_EQ(error.partial.vias.front().host, "192.0.2.15");
  EXPECT_EQ(error.partial.vias.front().port, 5070);
}

TEST(MessageParser, MissingEmptyLineIsRefused) {
  std::string text = crlf(kInvite);
  text.resize(text.find("\r\n\r\n") + 2);
  EXPECT_EQ(expect_error(text).reason, "Missing empty line after headers");
  EXPECT_EQ(expect_error("").reason, "Empty message");
  EXPECT_EQ(expect_error("\r\n\r\n").reason, "Empty message");
}

TEST(MessageParser, MessageOverTheSizeLimitIs513) {
  std::string text = crlf(kInvite);
  text.insert(text.find("Max-Forwards"), "X-Pad: " + std::string(200, 'a') + "\r\n");
  ParseLimits limits;
  limits.max_message_bytes = text.size() - 1;
  auto r = parse_datagram(text, limits);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 513);
  EXPECT_TRUE(r.error().have_response_headers);  // the head was still read, up to the limit
  std::string big(70 * 1024, 'x');
  auto huge = parse_datagram(crlf(kInvite) + big);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().status, 513);
}

TEST(MessageParser, TooManyHeadersIs400) {
  std::string extra;
  for (int i = 0; i < 201; ++i) extra += "X-H: " + std::to_string(i) + "\n";
  const ParseError error = expect_error(with_header("", extra));
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.reason, "Too many headers");
  std::string fine;
  for (int i = 0; i < 150; ++i) fine += "X-H: " + std::to_string(i) + "\n";
  EXPECT_TRUE(parse_datagram(with_header("", fine)));
}

TEST(MessageParser, ListElementsCountTowardsTheHeaderLimit) {
  std::string allow = "Allow: INVITE";
  for (int i = 0; i < 250; ++i) allow += ",ACK";
  const ParseError error = expect_error(with_header("", allow + "\n"));
  EXPECT_EQ(error.reason, "Too many headers");
  EXPECT_LE(error.partial.headers.size(), ParseLimits{}.max_headers);
}

TEST(MessageParser, OverlongLineIs400) {
  const ParseError error = expect_error(with_header("", "X-Long: " + std::string(9000, 'a') + "\n"));
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.reason, "Line too long");
  EXPECT_TRUE(parse_datagram(with_header("", "X-Long: " + std::string(8000, 'a') + "\n")));
}

TEST(MessageParser, RoundTripKeepsTypedFields) {
  const std::string inputs[] = {
      crlf(kInvite),
      with_header("Via",
                  "v: SIP  / 2.0 / UDP [2001:db8::1]:5060 ; branch = z9hG4bKx ; rport, "
                  "SIP/2.0/TCP b.example.com;received=192.0.2.1\n"),
      with_header("Contact", "m: \"Quoted \\\"x\\\"\" <sip:a%20b@h;lr>;q=0.5, <sip:c@d>\n"),
  };
  for (const auto& input : inputs) {
    auto first = parse_datagram(input);
    ASSERT_TRUE(first) << first.error().reason;
    auto second = parse_message(first->serialize());
    ASSERT_TRUE(second) << second.error().reason << "\n" << first->serialize();
    EXPECT_EQ(second->method, first->method);
    EXPECT_EQ(second->request_uri.to_string(), first->request_uri.to_string());
    ASSERT_EQ(second->vias.size(), first->vias.size());
    for (std::size_t i = 0; i < first->vias.size(); ++i) {
      EXPECT_EQ(second->vias[i].to_string(), first->vias[i].to_string());
    }
    EXPECT_EQ(second->from.to_string(), first->from.to_string());
    EXPECT_EQ(second->to.to_string(), first->to.to_string());
    EXPECT_EQ(second->call_id, first->call_id);
    EXPECT_EQ(second->cseq.number, first->cseq.number);
    EXPECT_EQ(second->cseq.method, first->cseq.method);
    EXPECT_EQ(second->max_forwards, first->max_forwards);
    ASSERT_EQ(second->contacts.size(), first->contacts.size());
    for (std::size_t i = 0; i < first->contacts.size(); ++i) {
      EXPECT_EQ(second->contacts[i].to_string(), first->contacts[i].to_string());
    }
    EXPECT_EQ(second->body, first->body);
    EXPECT_EQ(second->headers.size(), first->headers.size());
  }
}

}  // namespace message_parser_test
}  // namespace chorus::sip
