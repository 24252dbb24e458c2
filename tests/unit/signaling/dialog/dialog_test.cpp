// Dialog (RFC 3261 §12): UAS dialog state from an INVITE, in-dialog requests with loose and strict
// routing (§12.2.1.1, §16.12), the ACK for a 2xx (§13.2.2.4), CSeq ordering (§12.2.2), and where
// requests go (next_hop, address_of_uri).
#include "signaling/dialog/dialog.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "signaling/message/message_parser.hpp"

namespace chorus::sip {
namespace dialog_test {

SipMessage parse(std::string text) {
  std::string wire;
  for (char c : text) {
    if (c == '\n') wire.push_back('\r');
    wire.push_back(c);
  }
  auto parsed = parse_message(wire);
  if (!parsed) {
    ADD_FAILURE() << "does not parse: " << parsed.error().reason;
    return {};
  }
  return std::move(*parsed);
}

// Round trip through the wire form: what make_request builds is headers only, and the UA adds
// the Via before sending (so does this).
SipMessage on_the_wire(SipMessage m) {
  m.prepend_header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtest");
  auto parsed = parse_message(m.serialize());
  if (!parsed) {
    ADD_FAILURE() << "does not parse: " << parsed.error().reason << "\n" << m.serialize();
    return {};
  }
  return std::move(*parsed);
}

PeerAddress peer(TransportKind kind, std::string ip = "198.51.100.7", std::uint16_t port = 5060,
                 ConnectionId connection = 0) {
  return PeerAddress{kind, boost::asio::ip::make_address(ip), port, connection};
}

SipMessage invite(std::vector<std::string> extra, std::string contact = "<sip:alice@198.51.100.7:5062>",
                  std::uint32_t cseq = 4711) {
  std::string text =
      "INVITE sip:1000@chorus.example SIP/2.0\n"
      "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKdlg1\n"
      "Max-Forwards: 70\n"
      "From: \"Alice\" <sip:alice@example.com>;tag=a-tag\n"
      "To: <sip:1000@chorus.example>\n"
      "Call-ID: dialog-1@example.com\n"
      "CSeq: " +
      std::to_string(cseq) + " INVITE\n";
  if (!contact.empty()) text += "Contact: " + contact + "\n";
  for (const auto& h : extra) text += h + "\n";
  text += "Content-Length: 0\n\n";
  return parse(text);
}

std::vector<std::string> routes(const SipMessage& m) {
  std::vector<std::string> out;
  for (auto v : m.header_values("Route")) out.emplace_back(v);
  return out;
}

TEST(Dialog, FromRequestTakesIdRouteSetAndRemoteTarget) {
  const SipMessage request = invite(
      {"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>", "Record-Route: <sip:p3.example.com;lr>"});
  Dialog d = Dialog::from_request(request, "our-tag", peer(TransportKind::kUdp));
  EXPECT_EQ(d.id().call_id, "dialog-1@example.com");
  EXPECT_EQ(d.id().local_tag, "our-tag");
  EXPECT_EQ(d.id().remote_tag, "a-tag");
  EXPECT_EQ(d.role(), DialogRole::kUas);
  EXPECT_EQ(d.remote_target(), "sip:alice@198.51.100.7:5062");
  // §12.1.1: the UAS keeps the Record-Route values in the order they came.
  EXPECT_EQ(d.route_set(), (std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>",
                                                     "<sip:p3.example.com;lr>"}));
}

TEST(Dialog, IdKeyMatchesIncomingRequestsAndResponses) {
  Dialog d = Dialog::from_request(invite({}), "our-tag", peer(TransportKind::kUdp));
  const SipMessage bye = parse(
      "BYE sip:chorus@192.0.2.1 SIP/2.0\n"
      "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKdlg2\n"
      "From: <sip:alice@example.com>;tag=a-tag\n"
      "To: <sip:1000@chorus.example>;tag=our-tag\n"
      "Call-ID: dialog-1@example.com\n"
      "CSeq: 4712 BYE\n"
      "Content-Length: 0\n\n");
  EXPECT_EQ(DialogId::key_for_incoming(bye), d.id().key());
  const SipMessage response = parse(
      "SIP/2.0 200 OK\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours\n"
      "From: <sip:1000@chorus.example>;tag=our-tag\n"
      "To: <sip:alice@example.com>;tag=a-tag\n"
      "Call-ID: dialog-1@example.com\n"
      "CSeq: 12 BYE\n"
      "Content-Length: 0\n\n");
  EXPECT_EQ(DialogId::key_for_response(response), d.id().key());
}

TEST(Dialog, MakeRequestUsesLooseRouting) {
  Dialog d = Dialog::from_request(invite({"Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>"}), "our-tag",
                                  peer(TransportKind::kUdp));
  const std::uint32_t before = d.local_cseq();
  SipMessage bye = on_the_wire(d.make_request("BYE", "<sip:chorus@192.0.2.1:5060>"));
  // §12.2.1.1: Request-URI is the remote target, the whole route set goes into Route.
  EXPECT_EQ(bye.method, "BYE");
  EXPECT_EQ(bye.request_uri_text, "sip:alice@198.51.100.7:5062");
  EXPECT_EQ(routes(bye), (std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
  EXPECT_EQ(bye.from.tag(), "our-tag");
  EXPECT_EQ(bye.from.uri_text, "sip:1000@chorus.example");
  EXPECT_EQ(bye.to.tag(), "a-tag");
  EXPECT_EQ(bye.to.uri_text, "sip:alice@example.com");
  EXPECT_EQ(bye.call_id, "dialog-1@example.com");
  EXPECT_EQ(bye.cseq.method, "BYE");
  EXPECT_EQ(bye.cseq.number, before + 1);
  EXPECT_EQ(d.local_cseq(), before + 1);
  EXPECT_TRUE(bye.contacts.empty());  // BYE carries no Contact

  SipMessage update = on_the_wire(d.make_request("UPDATE", "<sip:chorus@192.0.2.1:5060>"));
  EXPECT_EQ(update.cseq.number, before + 2);
  ASSERT_EQ(update.contacts.size(), 1u);
  EXPECT_EQ(update.contacts[0].uri_text, "sip:chorus@192.0.2.1:5060");
}

TEST(Dialog, MakeRequestWithoutAContactSendsNoContactHeader) {
  Dialog d = Dialog::from_request(invite({}), "our-tag", peer(TransportKind::kUdp));
  const SipMessage info = d.make_request("INFO", {});
  // An empty "Contact:" is not SIP (RFC 3261 §20.10); JsSIP drops the whole request.
  EXPECT_EQ(info.serialize().find("Contact"), std::string::npos) << info.serialize();
  EXPECT_TRUE(on_the_wire(info).contacts.empty());
}

TEST(Dialog, StrictRouteGoesInRequestUriAndRemoteTargetLast) {
  Dialog d = Dialog::from_request(invite({"Record-Route: <sip:strict.example.com>, <sip:p2.example.com;lr>"}),
                                  "our-tag", peer(TransportKind::kUdp));
  SipMessage bye = on_the_wire(d.make_request("BYE", {}));
  // §12.2.1.1: a strict first route becomes the Request-URI; the remote target is the last Route.
  EXPECT_EQ(bye.request_uri_text, "sip:strict.example.com");
  EXPECT_EQ(routes(bye), (std::vector<std::string>{"<sip:p2.example.com;lr>", "<sip:alice@198.51.100.7:5062>"}));
}

TEST(Dialog, MakeAckHasInviteCSeqNumberAndAckMethod) {
  Dialog d =
      Dialog::from_request(invite({"Record-Route: <sip:p1.example.com;lr>"}), "our-tag", peer(TransportKind::kUdp));
  SipMessage reinvite = on_the_wire(d.make_request("INVITE", "<sip:chorus@192.0.2.1:5060>"));
  const std::uint32_t after_invite = d.local_cseq();
  SipMessage ack = on_the_wire(d.make_ack(reinvite.cseq.number, {}));
  EXPECT_EQ(ack.method, "ACK");
  EXPECT_EQ(ack.cseq.method, "ACK");
  EXPECT_EQ(ack.cseq.number, reinvite.cseq.number);
  EXPECT_EQ(ack.request_uri_text, reinvite.request_uri_text);
  EXPECT_EQ(routes(ack), routes(reinvite));
  EXPECT_TRUE(ack.contacts.empty());
  EXPECT_EQ(d.local_cseq(), after_invite) << "the ACK does not use up a sequence number";
}

TEST(Dialog, AcceptRemoteCSeqRejectsLower) {
  Dialog d = Dialog::from_request(invite({}, "<sip:alice@198.51.100.7>", 10), "t", peer(TransportKind::kUdp));
  EXPECT_FALSE(d.accept_remote_cseq(9));
  EXPECT_TRUE(d.accept_remote_cseq(10));  // equal: e.g. the ACK or CANCEL numbering is not out of order
  EXPECT_TRUE(d.accept_remote_cseq(11));
  EXPECT_FALSE(d.accept_remote_cseq(10));
  EXPECT_TRUE(d.accept_remote_cseq(1000));
}

TEST(Dialog, RefreshRemoteTargetTakesNewContact) {
  Dialog d = Dialog::from_request(invite({}), "t", peer(TransportKind::kUdp));
  d.refresh_remote_target(invite({}, "<sip:alice@203.0.113.5:5070>"));
  EXPECT_EQ(d.remote_target(), "sip:alice@203.0.113.5:5070");
  d.refresh_remote_target(invite({}, ""));  // no Contact: unchanged
  EXPECT_EQ(d.remote_target(), "sip:alice@203.0.113.5:5070");
}

TEST(Dialog, NextHopOverTcpIsTheFlow) {
  const PeerAddress flow = peer(TransportKind::kTcp, "198.51.100.7", 40123, 9);
  Dialog d = Dialog::from_request(invite({}, "<sip:alice@10.0.0.5:5060;transport=tcp>"), "t", flow);
  const PeerAddress hop = d.next_hop();
  EXPECT_EQ(hop.kind, TransportKind::kTcp);
  EXPECT_EQ(hop.connection, 9u);
  EXPECT_EQ(hop.port, 40123);
  EXPECT_EQ(hop.address.to_string(), "198.51.100.7");
}

TEST(Dialog, NextHopOverUdpIsTheContactAddress) {
  Dialog d = Dialog::from_request(invite({}, "<sip:alice@203.0.113.5:5070>"), "t", peer(TransportKind::kUdp));
  EXPECT_EQ(d.next_hop().to_string(), "udp:203.0.113.5:5070");
}

TEST(Dialog, NextHopOverUdpPrefersFirstRoute) {
  Dialog d = Dialog::from_request(invite({"Record-Route: <sip:192.0.2.77:5080;lr>"}, "<sip:alice@203.0.113.5:5070>"),
                                  "t", peer(TransportKind::kUdp));
  EXPECT_EQ(d.next_hop().to_string(), "udp:192.0.2.77:5080");
}

TEST(Dialog, NextHopFallsBackToFlowForHostnames) {
  const PeerAddress flow = peer(TransportKind::kUdp, "198.51.100.7", 5060);
  Dialog d = Dialog::from_request(invite({}, "<sip:alice@phone.example.com>"), "t", flow);
  EXPECT_EQ(d.next_hop().to_string(), "udp:198.51.100.7:5060");
}

TEST(Dialog, NextHopFallsBackToFlowWhenContactNamesAnotherTransport) {
  const PeerAddress flow = peer(TransportKind::kUdp, "198.51.100.7", 5060);
  Dialog d = Dialog::from_request(invite({}, "<sip:alice@203.0.113.5:5070;transport=tcp>"), "t", flow);
  EXPECT_EQ(d.next_hop().to_string(), "udp:198.51.100.7:5060");
}

std::optional<PeerAddress> resolve(std::string uri_text, TransportKind fallback = TransportKind::kUdp) {
  auto uri = parse_uri(uri_text);
  if (!uri) {
    ADD_FAILURE() << "bad URI " << uri_text;
    return std::nullopt;
  }
  return address_of_uri(*uri, fallback);
}

TEST(AddressOfUri, MapsTransportParamsAndDefaultPorts) {
  auto udp = resolve("sip:alice@203.0.113.5");
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->to_string(), "udp:203.0.113.5:5060");

  auto tcp = resolve("sip:alice@203.0.113.5:5072;transport=TCP");
  ASSERT_TRUE(tcp);
  EXPECT_EQ(tcp->kind, TransportKind::kTcp);
  EXPECT_EQ(tcp->port, 5072);

  auto tls = resolve("sip:alice@203.0.113.5;transport=tls");
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->kind, TransportKind::kTls);
  EXPECT_EQ(tls->port, 5061);

  auto fallback = resolve("sip:alice@203.0.113.5", TransportKind::kTcp);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->kind, TransportKind::kTcp);
}

TEST(AddressOfUri, SipsOverTcpMeansTls) {
  auto tls = resolve("sips:alice@203.0.113.5", TransportKind::kTcp);
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->kind, TransportKind::kTls);
  EXPECT_EQ(tls->port, 5061);
  auto explicit_tcp = resolve("sips:alice@203.0.113.5;transport=tcp");
  ASSERT_TRUE(explicit_tcp);
  EXPECT_EQ(explicit_tcp->kind, TransportKind::kTls);
}

TEST(AddressOfUri, Ipv6Literal) {
  auto v6 = resolve("sip:alice@[2001:db8::7]:5090");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address.to_string(), "2001:db8::7");
  EXPECT_EQ(v6->port, 5090);
}

TEST(AddressOfUri, HostnamesAreNotResolved) {
  EXPECT_FALSE(resolve("sip:alice@phone.example.com").has_value());
}

}  // namespace dialog_test
}  // namespace chorus::sip
