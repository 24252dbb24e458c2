// RFC 3261 §8.2 request checks, as a caller sees them through the UserAgent: each bad request gets
// the response that names the problem and no call is created; OPTIONS reports what we support.
#include "signaling/ua/request_checks.hpp"

#include <gtest/gtest.h>

#include "tests/unit/signaling/ua/user_agent_test_support.hpp"

namespace chorus::sip {
namespace request_checks_test {

using uatest::kCallerOffer;
using uatest::parse;
using uatest::RequestSpec;
using uatest::UaHarness;

std::vector<std::string> values(const SipMessage& m, std::string_view name) {
  std::vector<std::string> out;
  for (auto v : m.header_values(name)) out.emplace_back(v);
  return out;
}

RequestSpec invite_with_offer() {
  RequestSpec spec;
  spec.content_type = "application/sdp";
  spec.body = std::string(kCallerOffer);
  return spec;
}

// The single final response to the one request the test delivered (an INVITE also gets 100).
SipMessage only_response(const UaHarness& h) {
  std::vector<SipMessage> finals;
  for (auto& r : h.sender.responses())
    if (r.status >= 200) finals.push_back(r);
  EXPECT_EQ(finals.size(), 1u);
  return finals.empty() ? SipMessage{} : finals.front();
}

TEST(RequestChecks, UnknownMethodGets501WithAllow) {
  UaHarness h;
  RequestSpec spec;
  spec.method = "FROBNICATE";
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(values(r, "Allow"),
            (std::vector<std::string>{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE"}));
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(RequestChecks, RegisterGets405WithAllow) {
  UaHarness h;
  RequestSpec spec;
  spec.method = "REGISTER";
  spec.uri = "sip:127.0.0.1";
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 405);
  ASSERT_TRUE(r.has_header("Allow"));
  EXPECT_NE(*r.header("Allow"), "");
  EXPECT_FALSE(r.to.tag().empty());  // §8.2.6.2: a final response carries a To tag
}

TEST(RequestChecks, TelRequestUriGets416) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.uri = "tel:+15551234567";
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 416);
  EXPECT_EQ(h.ua.call_count(), 0u);
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(RequestChecks, UnknownSchemeRequestUriGets416) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.uri = "urn:service:sos";
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 416);
  EXPECT_EQ(h.ua.call_count(), 0u);
}

TEST(RequestChecks, UnknownRequireTagsGet420ListingOnlyThem) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.headers = {"Require: timer, 100rel", "Require: foo"};
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 420);
  EXPECT_EQ(values(r, "Unsupported"), (std::vector<std::string>{"100rel", "foo"}));
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(RequestChecks, RequireTimerIsAccepted) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.headers = {"Require: timer", "Session-Expires: 1800"};
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 200);
  EXPECT_EQ(h.listener.incoming.size(), 1u);
}

TEST(RequestChecks, NonSdpBodyGets415WithAccept) {
  UaHarness h;
  RequestSpec spec;
  spec.content_type = "text/plain";
  spec.body = "hello";
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 415);
  ASSERT_TRUE(r.has_header("Accept"));
  EXPECT_EQ(*r.header("Accept"), "application/sdp");
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(RequestChecks, CompressedBodyGets415WithAcceptEncoding) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.headers = {"Content-Encoding: gzip"};
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 415);
  ASSERT_TRUE(r.has_header("Accept-Encoding"));
  EXPECT_EQ(*r.header("Accept-Encoding"), "identity");
}

constexpr std::string_view kMultipartBody =
    "--unique-boundary-1\r\n"
    "Content-Type: application/resource-lists+xml\r\n"
    "\r\n"
    "<resource-lists/>\r\n"
    "--unique-boundary-1\r\n"
    "Content-Type: application/sdp\r\n"
    "\r\n"
    "v=0\r\n"
    "o=alice 1 1 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n"
    "\r\n"
    "--unique-boundary-1--\r\n";

constexpr std::string_view kMultipartSdpPart =
    "v=0\r\n"
    "o=alice 1 1 IN IP4 198.51.100.7\r\n"
    "s=-\r\n"
    "c=IN IP4 198.51.100.7\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0\r\n";

TEST(RequestChecks, MultipartMixedWithSdpPartIsAccepted) {
  UaHarness h;
  RequestSpec spec;
  spec.content_type = "multipart/mixed;boundary=\"unique-boundary-1\"";
  spec.body = std::string(kMultipartBody);
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 200);
  ASSERT_EQ(h.listener.offers.size(), 1u);
  ASSERT_TRUE(h.listener.offers[0].has_value());
  EXPECT_EQ(*h.listener.offers[0], kMultipartSdpPart);
}

TEST(RequestChecks, SdpBodyOfReturnsTheSdpPartOfMultipart) {
  RequestSpec spec;
  spec.content_type = "multipart/mixed; boundary=unique-boundary-1";
  spec.body = std::string(kMultipartBody);
  SipMessage m = parse(uatest::request_text(spec));
  auto sdp = sdp_body_of(m);
  ASSERT_TRUE(sdp.has_value());
  EXPECT_EQ(*sdp, kMultipartSdpPart);
}

TEST(RequestChecks, SdpBodyOfIgnoresMultipartWithoutSdp) {
  RequestSpec spec;
  spec.content_type = "multipart/mixed;boundary=b1";
  spec.body = "--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1--\r\n";
  SipMessage m = parse(uatest::request_text(spec));
  EXPECT_FALSE(sdp_body_of(m).has_value());
  auto rejection = check_request(m);
  ASSERT_TRUE(rejection.has_value());
  EXPECT_EQ(rejection->status, 415);
}

TEST(RequestChecks, AcceptWithoutSdpGets406) {
  UaHarness h;
  RequestSpec spec = invite_with_offer();
  spec.headers = {"Accept: text/plain, application/pidf+xml"};
  h.deliver(spec);
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 406);
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(RequestChecks, AcceptWildcardAdmitsSdp) {
  for (std::string accept : {"Accept: */*", "Accept: application/*", "Accept: text/plain, application/sdp;q=0.5"}) {
    RequestSpec spec = invite_with_offer();
    spec.headers = {accept};
    EXPECT_FALSE(check_request(parse(uatest::request_text(spec))).has_value()) << accept;
  }
}

TEST(RequestChecks, MediaTypeDropsParametersAndCase) {
  RequestSpec spec = invite_with_offer();
  spec.content_type = "Application/SDP ; charset=utf-8";
  SipMessage m = parse(uatest::request_text(spec));
  EXPECT_EQ(media_type_of(m), "application/sdp");
  EXPECT_TRUE(sdp_body_of(m).has_value());
}

TEST(UserAgent, OptionsOutOfDialogGets200WithCapabilities) {
  // Over TCP: the connection proved the caller's address (a bare UDP stranger gets a bare 200,
  // user_agent_limits_test.cpp).
  UaHarness h;
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.uri = "sip:anything@127.0.0.1";
  spec.transport = "TCP";
  h.deliver(spec, uatest::tcp_peer());
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(values(r, "Allow"),
            (std::vector<std::string>{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE"}));
  EXPECT_EQ(values(r, "Accept"), (std::vector<std::string>{"application/sdp"}));
  EXPECT_EQ(values(r, "Supported"), (std::vector<std::string>{"timer"}));
  EXPECT_FALSE(r.to.tag().empty());
  EXPECT_EQ(h.ua.call_count(), 0u);
  EXPECT_TRUE(h.listener.incoming.empty());
}

TEST(UserAgent, OptionsWhileDrainingGet503AndThen200Again) {
  // Issue 14: a node draining out of a cluster tells a probing proxy it is unavailable.
  UaHarness h;
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.uri = "sip:anything@127.0.0.1";
  spec.transport = "TCP";
  h.ua.set_options_unavailable(true);
  h.deliver(spec, uatest::tcp_peer());
  SipMessage r = only_response(h);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.reason, "Service Unavailable");
  EXPECT_TRUE(values(r, "Allow").empty());
  EXPECT_EQ(h.ua.call_count(), 0u);
  h.ua.set_options_unavailable(false);
  spec.call_id = "options-again";
  h.deliver(spec, uatest::tcp_peer());
  EXPECT_EQ(h.sender.last().status, 200);
}

TEST(RequestChecks, OptionsWithAcceptExcludingSdpStillGets200) {
  // Our 200 to OPTIONS has no body, so there is nothing its Accept could refuse (§11.2).
  UaHarness h;
  RequestSpec spec;
  spec.method = "OPTIONS";
  spec.uri = "sip:anything@127.0.0.1";
  spec.headers = {"Accept: text/plain"};
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 200);
}

TEST(RequestChecks, SupportedExtensionMatchesOptionTagsCaseInsensitively) {
  EXPECT_TRUE(is_supported_extension("timer"));
  EXPECT_TRUE(is_supported_extension("Timer"));
  EXPECT_FALSE(is_supported_extension("100rel"));
  EXPECT_FALSE(is_supported_extension("timer, 100rel"));
}

TEST(UserAgent, ByeOutsideADialogGets481) {
  UaHarness h;
  RequestSpec spec;
  spec.method = "BYE";
  h.deliver(spec);
  EXPECT_EQ(only_response(h).status, 481);
}

}  // namespace request_checks_test
}  // namespace chorus::sip
