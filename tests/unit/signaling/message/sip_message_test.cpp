// SipMessage header access, wire form, reason phrases and responses (RFC 3261 §7, §8.2.6, §21).
#include "signaling/message/sip_message.hpp"

#include <gtest/gtest.h>

#include "signaling/message/message_parser.hpp"

namespace chorus::sip {
namespace sip_message_test {

SipMessage sample_request() {
  SipMessage m;
  m.method = "OPTIONS";
  m.request_uri_text = "sip:conf@example.com";
  m.add_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
  m.add_header("Via", "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb");
  m.add_header("From", "<sip:alice@example.com>;tag=f1");
  m.add_header("To", "<sip:conf@example.com>");
  m.add_header("call-id", "abc@192.0.2.1");
  m.add_header("CSeq", "7 OPTIONS");
  m.add_header("Max-Forwards", "70");
  m.add_header("Content-Length", "999");  // replaced on the wire
  return m;
}

TEST(SipMessage, HeaderLookupIsCaseInsensitiveAndKnowsCompactForms) {
  SipMessage m = sample_request();
  ASSERT_NE(m.header("CALL-ID"), nullptr);
  EXPECT_EQ(*m.header("i"), "abc@192.0.2.1");
  EXPECT_EQ(m.headers[4].name, "Call-ID");  // canonicalised when added
  EXPECT_EQ(m.header_values("v").size(), 2u);
  EXPECT_FALSE(m.has_header("Route"));
}

TEST(SipMessage, SetPrependAndRemoveKeepOrder) {
  SipMessage m = sample_request();
  m.prepend_header("Via", "SIP/2.0/UDP new.example.com;branch=z9hG4bKc");
  auto vias = m.header_values("Via");
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP new.example.com;branch=z9hG4bKc");
  EXPECT_EQ(m.headers[0].name, "Via");

  m.set_header("Via", "SIP/2.0/UDP only.example.com");
  EXPECT_EQ(m.header_values("Via").size(), 1u);
  EXPECT_EQ(m.headers[0].value, "SIP/2.0/UDP only.example.com");

  m.set_header("Subject", "new");
  EXPECT_EQ(m.headers.back().name, "Subject");
  m.remove_header("subject");
  EXPECT_FALSE(m.has_header("Subject"));

  m.prepend_header("Record-Route", "<sip:p1;lr>");  // none yet: goes at the end
  EXPECT_EQ(m.headers.back().name, "Record-Route");
}

TEST(SipMessage, SerializeWritesStartLineHeadersAndContentLength) {
  SipMessage m = sample_request();
  m.body = "hello";
  EXPECT_EQ(m.serialize(),
            "OPTIONS sip:conf@example.com SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa\r\n"
            "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb\r\n"
            "From: <sip:alice@example.com>;tag=f1\r\n"
            "To: <sip:conf@example.com>\r\n"
            "Call-ID: abc@192.0.2.1\r\n"
            "CSeq: 7 OPTIONS\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "hello");
  auto parsed = parse_datagram(m.serialize());
  ASSERT_TRUE(parsed) << parsed.error().reason;
  EXPECT_EQ(parsed->body, "hello");
}

TEST(SipMessage, SerializeResponseAndUriFallback) {
  SipMessage r;
  r.is_request = false;
  r.status = 486;
  r.reason = "Busy Here";
  EXPECT_EQ(r.serialize(), "SIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n\r\n");

  SipMessage q;
  q.method = "BYE";
  q.request_uri = *parse_uri("sip:bob@[2001:db8::1]:5070");
  EXPECT_EQ(q.serialize().substr(0, 40), "BYE sip:bob@[2001:db8::1]:5070 SIP/2.0\r\n");
}

TEST(MakeResponse, CopiesViasFromToCallIdCSeqAndAddsTag) {
  auto request = parse_datagram(sample_request().serialize());
  ASSERT_TRUE(request) << request.error().reason;
  SipMessage response = make_response(*request, 200, "t9");
  EXPECT_FALSE(response.is_request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.reason, "OK");
  auto vias = response.header_values("Via");
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa");
  EXPECT_EQ(vias[1], "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKb");
  EXPECT_EQ(*response.header("From"), "<sip:alice@example.com>;tag=f1");
  EXPECT_EQ(*response.header("To"), "<sip:conf@example.com>;tag=t9");
  EXPECT_EQ(response.to.tag(), "t9");
  EXPECT_EQ(*response.header("Call-ID"), "abc@192.0.2.1");
  EXPECT_EQ(*response.header("CSeq"), "7 OPTIONS");
  EXPECT_EQ(response.cseq.method, "OPTIONS");
  EXPECT_FALSE(response.has_header("Max-Forwards"));
  auto reparsed = parse_datagram(response.serialize());
  ASSERT_TRUE(reparsed) << reparsed.error().reason;
  EXPECT_EQ(reparsed->to.tag(), "t9");
}

TEST(MakeResponse, KeepsAnExistingToTagAndCustomReason) {
  SipMessage request = sample_request();
  request.set_header("To", "<sip:conf@example.com>;tag=old");
  SipMessage response = make_response(request, 480, "new", "Room Closed");
  EXPECT_EQ(*response.header("To"), "<sip:conf@example.com>;tag=old");
  EXPECT_EQ(response.reason, "Room Closed");
}

TEST(MakeResponse, CarriesReceivedAndRportAddedToTheTopVia) {
  // §18.2.1 / RFC 3581: the transport edits the typed top Via; the response must echo the edit.
  auto request = parse_datagram(sample_request().serialize());
  ASSERT_TRUE(request);
  request->vias[0].params.push_back(GenericParam{"received", "198.51.100.7", true});
  request->vias[0].params.push_back(GenericParam{"rport", "40000", true});
  SipMessage response = make_response(*request, 100);
  EXPECT_EQ(response.header_values("Via")[0],
            "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;received=198.51.100.7;rport=40000");
  EXPECT_EQ(response.reason, "Trying");
}

TEST(CanonicalHeaderName, MapsCompactAndCase) {
  EXPECT_EQ(canonical_header_name("v"), "Via");
  EXPECT_EQ(canonical_header_name("I"), "Call-ID");
  EXPECT_EQ(canonical_header_name("call-id"), "Call-ID");
  EXPECT_EQ(canonical_header_name("CSEQ"), "CSeq");
  EXPECT_EQ(canonical_header_name("www-authenticate"), "WWW-Authenticate");
  EXPECT_EQ(canonical_header_name("r"), "Refer-To");
  EXPECT_EQ(canonical_header_name("b"), "Referred-By");
  EXPECT_EQ(canonical_header_name("X-Custom"), "X-Custom");
  EXPECT_EQ(canonical_header_name("q"), "q");
}

TEST(IsListHeader, ListsButNotCredentialsOrDates) {
  for (std::string_view h : {"Via", "Contact", "Route", "Record-Route", "Allow", "Supported", "Require",
                             "Proxy-Require", "Unsupported", "Accept", "Accept-Encoding", "Accept-Language"}) {
    EXPECT_TRUE(is_list_header(h)) << h;
  }
  for (std::string_view h : {"WWW-Authenticate", "Authorization", "Proxy-Authenticate", "Proxy-Authorization", "Date",
                             "From", "To", "Call-ID", "CSeq", "Subject", "X-Unknown"}) {
    EXPECT_FALSE(is_list_header(h)) << h;
  }
}

TEST(DefaultReason, CoversRfc3261AndExtensionCodes) {
  EXPECT_EQ(default_reason(100), "Trying");
  EXPECT_EQ(default_reason(183), "Session Progress");
  EXPECT_EQ(default_reason(200), "OK");
  EXPECT_EQ(default_reason(302), "Moved Temporarily");
  EXPECT_EQ(default_reason(400), "Bad Request");
  EXPECT_EQ(default_reason(416), "Unsupported URI Scheme");
  EXPECT_EQ(default_reason(420), "Bad Extension");
  EXPECT_EQ(default_reason(422), "Session Interval Too Small");
  EXPECT_EQ(default_reason(481), "Call/Transaction Does Not Exist");
  EXPECT_EQ(default_reason(489), "Bad Event");
  EXPECT_EQ(default_reason(491), "Request Pending");
  EXPECT_EQ(default_reason(505), "Version Not Supported");
  EXPECT_EQ(default_reason(513), "Message Too Large");
  EXPECT_EQ(default_reason(603), "Decline");
  EXPECT_EQ(default_reason(499), "Request Failure");
  for (int code : {180, 181, 182, 300, 301, 305, 380, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413, 414, 415,
                   421, 423, 480, 482, 483, 484, 485, 486, 487, 488, 493, 500, 501, 502, 503, 504, 600, 604, 606}) {
    EXPECT_NE(default_reason(code), default_reason(code / 100 * 100 + 99)) << code;
  }
}

}  // namespace sip_message_test
}  // namespace chorus::sip
