// Micro benchmarks of the per-call signalling work: parsing a sipp INVITE, serialising a response,
// and answering its SDP offer. `build/bin/bench_sip_parse`; figures in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <string>

#include "signaling/message/message_parser.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"

namespace {

// The INVITE of sipp's built-in uac scenario, as it goes on the wire.
const std::string kSdp =
    "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const std::string kInvite =
    "INVITE sip:1000@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-12345-1-0\r\n"
    "From: sipp <sip:sipp@127.0.0.1:5061>;tag=12345SIPpTag001\r\n"
    "To: 1000 <sip:1000@127.0.0.1:5060>\r\n"
    "Call-ID: 1-12345@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: sip:sipp@127.0.0.1:5061\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: Performance Test\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: " +
    std::to_string(kSdp.size()) + "\r\n\r\n" + kSdp;

void BM_ParseInvite(benchmark::State& state) {
  for (auto _ : state) {
    auto message = chorus::sip::parse_datagram(kInvite);
    benchmark::DoNotOptimize(message);
  }
}
BENCHMARK(BM_ParseInvite);

void BM_ResponseRoundTrip(benchmark::State& state) {
  auto invite = chorus::sip::parse_datagram(kInvite);
  for (auto _ : state) {
    auto ok = chorus::sip::make_response(*invite, 200, "abcdef");
    ok.add_header("Contact", "<sip:chorus@127.0.0.1:5060>");
    std::string wire = ok.serialize();
    benchmark::DoNotOptimize(wire);
  }
}
BENCHMARK(BM_ResponseRoundTrip);

void BM_AnswerOffer(benchmark::State& state) {
  chorus::sdp::MediaPolicy policy;
  chorus::sdp::MediaPorts ports;
  ports.rtp_ports = {20000};
  chorus::sdp::OriginInfo origin;
  origin.session_id = 42;
  for (auto _ : state) {
    auto offer = chorus::sdp::parse_sdp(kSdp);
    auto plan = chorus::sdp::plan_answer(*offer, policy);
    auto answer = chorus::sdp::build_answer(*plan, {"127.0.0.1"}, ports, origin);
    std::string text = chorus::sdp::serialize_sdp(*answer);
    benchmark::DoNotOptimize(text);
  }
}
BENCHMARK(BM_AnswerOffer);

}  // namespace
