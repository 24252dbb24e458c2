// libFuzzer target for the SIP stack with state: a sequence of datagrams through the real
// TransactionLayer, UserAgent and dialogs (signaling/transaction, signaling/ua, signaling/dialog),
// the way the UDP transport delivers them, with a fake clock moved between datagrams so the RFC 3261
// §17 timers (A–K), the 2xx retransmission and ACK wait (§13.3.1.4), early media and session
// timers (RFC 4028) fire. Not only the parser: transaction matching, CANCEL, ACK, BYE and re-INVITE
// inside dialogs, dial-out as a UAC, and the stateless and capacity refusals of issue 12.
//
//   make fuzz-build && build-fuzz/bin/sip_stack_fuzz -dict=fuzz/sip_stack_fuzz.dict fuzz/seeds/sip_stack_fuzz
//
// Input: records, each starting at a line "@@<ops>" (the first may omit it); after the ops line
// comes one datagram, up to the next line starting with "@@". The ops run first, in order:
//   '0'..'9'  advance the clock 2^d · 16 ms (16 ms .. 8.2 s); 'T' 32 s (64·T1); 'S' 15 min
//   'a'..'d'  the datagram's source: UDP 198.51.100.7:5060, UDP 203.0.113.9:5062, TCP, loopback UDP
//   'h' / 'H' the room hangs up its newest / oldest call (BYE)      'i' sends INFO in the newest call
//   'r'       the room ends its newest early call (480 after 183)   'o' dials out to the current source
//   'f'       the next message the stack sends fails in the transport (a synchronous send error)
//   'x'       shutdown (503 to new INVITEs, every call hung up)
//   'R' + 3 digits: the current source answers the last request the stack sent with that status
// In the datagram, "$totag" becomes the To tag of our last response to an INVITE (the dialog's
// local tag), and "$branch", "$callid", "$fromtag" the top Via branch, Call-ID and From tag of the
// last request we sent, so in-dialog requests and responses can name state the fuzzer cannot guess.
//
// The "conference" behind the UA is a CallListener that answers like ConferenceService, by room:
// 1000 negotiates the offer with the real signaling/sdp offer/answer (video enabled), or offers
// when the INVITE has none; 2000 answers 183 early media and ends it with 480 three seconds later
// (a meeting that has not started); 3000 is full (486); 4000 wants a 4-digit PIN by INFO and
// hangs up after a wrong one; others are unknown (404). It defers its own calls into the UA (hang
// up, reject) to after the datagram, as the real one posts them to the control loop.
//
// Besides crashes, leaks and UB it checks:
//   - everything the stack sends serialises to SIP that parses again;
//   - the CallListener contract: on_call_ended exactly once for each call accepted (2xx/183) or
//     answered on dial-out, never for another; a dial ends once, answered or failed; no callback
//     for a call that has ended;
//   - bounds: calls ≤ max_calls, server transactions ≤ max_server_transactions at every step;
//   - after shutdown and at most 20 · 64·T1 of fake time, nothing is left: no call, dial, server or client
//     transaction, and no timer.
// State is bounded by construction: a fresh stack per input, at most kMaxRecords records.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "common/timer_queue.hpp"
#include "fuzz/fuzz_check.hpp"
#include "signaling/message/message_parser.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/sdp_parser.hpp"
#include "signaling/sdp/sdp_serializer.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/address_range.hpp"
#include "signaling/transport/message_sink.hpp"
#include "signaling/transport/via_routing.hpp"
#include "signaling/ua/call_listener.hpp"
#include "signaling/ua/user_agent.hpp"

namespace {

using namespace chorus;
using namespace chorus::sip;

constexpr std::size_t kMaxRecords = 64;
constexpr std::size_t kMaxCalls = 6;
constexpr std::size_t kMaxCallsPerSource = 3;
constexpr std::size_t kMaxServerTransactions = 12;

using chorus::fuzz::check;

// Our messages echo the request's headers one per line, so they may exceed the ingress limits.
ParseLimits relaxed_limits() {
  ParseLimits limits;
  limits.max_message_bytes = 1 << 22;
  limits.max_headers = 1 << 20;
  limits.max_line_bytes = 1 << 22;
  return limits;
}

PeerAddress peer(std::size_t index) {
  using boost::asio::ip::make_address;
  switch (index) {
    case 1:
      return PeerAddress{TransportKind::kUdp, make_address("203.0.113.9"), 5062, 0};
    case 2:
      return PeerAddress{TransportKind::kTcp, make_address("198.51.100.7"), 40123, 7};
    case 3:
      return PeerAddress{TransportKind::kUdp, make_address("127.0.0.1"), 5070, 0};
    default:
      return PeerAddress{TransportKind::kUdp, make_address("198.51.100.7"), 5060, 0};
  }
}

// The transport as the transaction layer sees it: every message is serialised (and must parse
// back), the last request is remembered for the "$…" substitutions and 'R', the rest discarded.
class WireSender final : public MessageSender {
 public:
  bool send_request(const SipMessage& request, const PeerAddress& destination) override {
    // Messages built for sending carry their headers only: keep the parsed form for "$…".
    last_request_ = wire_form(request);
    last_destination_ = destination;
    return !take_failure();
  }
  bool send_response(const SipMessage& response, const PeerAddress& /*source*/) override {
    if (answering_bad_message_) {
      // RFC 4475 §3.3.1: the 400 to a malformed request copies what could be read, which may
      // itself be malformed (an empty Call-ID); it need only be text.
      (void)response.serialize();
    } else {
      const SipMessage sent = wire_form(response);
      if (sent.cseq.method == "INVITE" && sent.status > 100 && !sent.to.tag().empty())
        dialog_tag_ = std::string(sent.to.tag());
    }
    return !take_failure();
  }
  [[nodiscard]] std::string via_sent_by(TransportKind /*kind*/) const override { return "192.0.2.1:5060"; }

  void fail_next() { fail_next_ = true; }
  void set_answering_bad_message(bool on) { answering_bad_message_ = on; }
  [[nodiscard]] const std::optional<SipMessage>& last_request() const { return last_request_; }
  [[nodiscard]] const PeerAddress& last_destination() const { return last_destination_; }
  [[nodiscard]] const std::string& dialog_tag() const { return dialog_tag_; }

 private:
  // Everything we send must be SIP that parses again; returns it as the peer reads it.
  static SipMessage wire_form(const SipMessage& message) {
    auto parsed = parse_message(message.serialize(), relaxed_limits());
    check(parsed.has_value());
    check(parsed->is_request == message.is_request && parsed->status == message.status);
    return std::move(*parsed);
  }
  bool take_failure() { return std::exchange(fail_next_, false); }

  std::optional<SipMessage> last_request_;
  PeerAddress last_destination_ = peer(0);
  std::string dialog_tag_;
  bool fail_next_ = false;
  bool answering_bad_message_ = false;
};

// What the room said about one call, to hold the UA to the CallListener contract.
struct CallRecord {
  bool accepted = false;  // 2xx or 183 given (or a dial answered): on_call_ended is owed
  bool ended = false;
  bool dialing = false;  // a dial-out with no outcome yet
  bool early = false;
  std::string room;
  std::string pin;
  std::optional<sdp::SessionDescription> our_offer;  // sent in a 2xx (or a dial's INVITE); the ACK answers it
};

// A conference-like CallListener (see the file comment). Calls into the UA are deferred.
class Room final : public CallListener {
 public:
  Room(TimerQueue& timers, std::vector<std::function<void()>>& posted) : timers_(timers), posted_(posted) {}
  void attach(UserAgent& ua) { ua_ = &ua; }

  CallDecision on_incoming_call(const CallInfo& call, const SipMessage& /*invite*/,
                                const std::optional<std::string>& offer) override {
    check(!calls_.contains(call.handle));
    const std::string& room = call.request_user;
    if (room == "3000") return {486, "Room Full", {}, {}};
    if (room != "1000" && room != "2000" && room != "4000") return {404, "Room Not Found", {}, {}};
    CallRecord record;
    record.room = room;
    CallDecision decision{200, {}, {}, {}};
    if (offer) {
      auto answer = answer_offer(*offer);
      if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
      decision.sdp = std::move(*answer);
    } else {
      if (room == "2000") return {480, "Not Started", {}, {}};  // early media needs the caller's offer
      auto ours = our_offer();
      record.our_offer = ours;
      decision.sdp = sdp::serialize_sdp(ours);
    }
    if (room == "2000") {
      // The "meeting not started" prompt plays over early media, then the call ends with 480.
      decision.status = 183;
      record.early = true;
      const CallHandle handle = call.handle;
      timers_.schedule(Millis{3000}, [this, handle] { reject_early(handle); });
    }
    record.accepted = true;
    calls_.emplace(call.handle, std::move(record));
    order_.push_back(call.handle);
    return decision;
  }

  bool on_remote_answer(CallHandle call, std::string_view sdp_text) override {
    CallRecord& record = live(call);
    if (!record.our_offer) return true;
    auto answer = sdp::parse_sdp(sdp_text);
    if (!answer) return false;
    auto streams = sdp::accept_answer(*record.our_offer, *answer);
    record.our_offer.reset();
    return streams.has_value();
  }

  OfferDecision on_remote_offer(CallHandle call, std::string_view sdp_text) override {
    (void)live(call);
    auto answer = answer_offer(sdp_text);
    if (!answer) return {answer.error().sip_status, answer.error().reason, {}, {}};
    return {200, {}, std::move(*answer), {}};
  }

  std::string on_offer_requested(CallHandle call) override {
    CallRecord& record = live(call);
    record.our_offer = our_offer();
    return sdp::serialize_sdp(*record.our_offer);
  }

  void on_dtmf(CallHandle call, char digit, int /*duration_ms*/) override {
    CallRecord& record = live(call);
    if (record.room != "4000" || record.pin.size() >= 4) return;
    record.pin.push_back(digit);
    if (record.pin.size() == 4 && record.pin != "1234") post_hang_up(call);
  }

  void on_picture_fast_update(CallHandle call) override { (void)live(call); }

  void on_call_ended(CallHandle call, std::string_view /*reason*/) override {
    auto it = calls_.find(call);
    check(it != calls_.end() && it->second.accepted && !it->second.ended);
    it->second.ended = true;
  }

  bool on_outgoing_answered(CallHandle call, const std::optional<std::string>& sdp_text) override {
    auto it = calls_.find(call);
    check(it != calls_.end() && it->second.dialing && !it->second.ended);
    it->second.dialing = false;
    it->second.accepted = true;  // true or false, on_call_ended follows
    if (!sdp_text || !it->second.our_offer) return false;
    auto answer = sdp::parse_sdp(*sdp_text);
    if (!answer) return false;
    const bool ok = sdp::accept_answer(*it->second.our_offer, *answer).has_value();
    it->second.our_offer.reset();
    return ok;
  }

  void on_outgoing_failed(CallHandle call, int status, std::string_view /*reason*/) override {
    auto it = calls_.find(call);
    check(it != calls_.end() && it->second.dialing && status >= 300 && status <= 699);
    it->second.dialing = false;
    it->second.ended = true;
  }

  // Dial-out (conference/dial_out.cpp): the room's offer to the current source.
  void dial(const PeerAddress& target) {
    OutgoingCallRequest request;
    const std::string scheme = target.kind == TransportKind::kUdp ? "" : ";transport=tcp";
    request.target = "sip:callee@" + target.address.to_string() + ":" + std::to_string(target.port) + scheme;
    request.from_user = "1000";
    request.from_display = "Room 1000";
    auto offer = our_offer();
    request.sdp_offer = sdp::serialize_sdp(offer);
    auto started = ua_->dial(request);
    if (!started) return;
    check(!calls_.contains(started->handle));
    CallRecord record;
    record.dialing = true;
    record.room = "1000";
    record.our_offer = std::move(offer);
    calls_.emplace(started->handle, std::move(record));
    order_.push_back(started->handle);
  }

  // The newest (or oldest) call the room still has.
  [[nodiscard]] std::optional<CallHandle> pick(bool newest, bool early_only) const {
    std::optional<CallHandle> found;
    for (CallHandle handle : order_) {
      const CallRecord& record = calls_.at(handle);
      if (!record.accepted || record.ended || (early_only && !record.early)) continue;
      found = handle;
      if (!newest) break;
    }
    return found;
  }

  void post_hang_up(CallHandle call) {
    posted_.emplace_back([this, call] { (void)ua_->hang_up(call, "room hung up"); });
  }

  void reject_early(CallHandle call) {
    (void)ua_->reject_after_early_media(call, 480, "Meeting Not Started",
                                        {{"Warning", "399 chorus \"meeting not started\""}});
  }

  // After the drain, every call the UA was given ended, and every dial has its outcome.
  void check_all_ended() const {
    for (const auto& [handle, record] : calls_) check(!record.dialing && (!record.accepted || record.ended));
  }

 private:
  CallRecord& live(CallHandle call) {
    auto it = calls_.find(call);
    check(it != calls_.end() && it->second.accepted && !it->second.ended);
    return it->second;
  }

  static sdp::MediaPolicy policy() {
    sdp::MediaPolicy policy;
    policy.video.enabled = true;
    policy.video.max_receive_streams = 2;
    policy.video.max_send_streams = 3;
    return policy;
  }

  // ConferenceService::answer_offer without the media: parse, plan, ports, build, serialise.
  std::expected<std::string, sdp::NegotiationError> answer_offer(std::string_view offer_text) {
    auto offer = sdp::parse_sdp(offer_text, sdp::kVideoSdpLimits);
    if (!offer) return std::unexpected(sdp::NegotiationError{400, 399, "Bad SDP"});
    auto plan = sdp::plan_answer(*offer, policy());
    if (!plan) return std::unexpected(plan.error());
    sdp::MediaPorts ports;
    for (std::size_t i = 0; i < plan->ports_needed(); ++i)
      ports.rtp_ports.push_back(static_cast<std::uint16_t>(20000 + 2 * i));
    auto answer = sdp::build_answer(*plan, sdp::LocalMediaAddress{"192.0.2.1"}, ports, next_origin());
    check(answer.has_value());  // enough ports and an address: it cannot fail
    return sdp::serialize_sdp(*answer);
  }

  sdp::SessionDescription our_offer() {
    sdp::MediaPorts ports;
    ports.rtp_ports.push_back(30000);
    auto offer = sdp::build_offer(sdp::MediaPolicy{}, sdp::LocalMediaAddress{"192.0.2.1"}, ports, next_origin());
    check(offer.has_value());
    return std::move(*offer);
  }

  sdp::OriginInfo next_origin() {
    sdp::OriginInfo origin;
    origin.session_id = 42;
    origin.session_version = ++version_;
    return origin;
  }

  TimerQueue& timers_;
  std::vector<std::function<void()>>& posted_;
  UserAgent* ua_ = nullptr;
  std::map<CallHandle, CallRecord> calls_;
  std::vector<CallHandle> order_;
  std::uint64_t version_ = 0;
};

// One fuzz input's stack: the layers chorusd wires, over the fakes above.
struct Stack {
  Stack() : room(timers, posted), ua(timers, sender, room, ua_config()) {
    ua.attach(transactions);
    room.attach(ua);
  }

  static UserAgentConfig ua_config() {
    UserAgentConfig config;
    config.max_calls = kMaxCalls;
    config.max_calls_per_source = kMaxCallsPerSource;
    config.max_verified_sources = 4;
    config.trusted_sources.push_back(*parse_address_range("127.0.0.0/8"));
    config.no_answer_timeout = Millis{20'000};
    config.early_media_timeout = Millis{10'000};
    return config;
  }

  // What TransportLayer::on_datagram does after the source limiter (transport_layer.cpp).
  void deliver(std::string_view bytes, const PeerAddress& source) {
    if (bytes.find_first_not_of("\r\n") == std::string_view::npos) return;  // keepalive
    if (static_cast<unsigned char>(bytes.front()) < 4) return;              // STUN, RFC 7983 §7
    auto parsed = parse_datagram(bytes);
    if (!parsed) {
      ParseError error = std::move(parsed.error());
      if (error.is_request && error.partial.is_request) (void)stamp_top_via(error.partial, source.address, source.port);
      sender.set_answering_bad_message(true);
      transactions.on_bad_message(error, source);
      sender.set_answering_bad_message(false);
      return;
    }
    if (parsed->is_request) (void)stamp_top_via(*parsed, source.address, source.port);
    transactions.on_message(std::move(*parsed), source);
  }

  // 'R': the peer's answer to the last request we sent, built as a UA would (Via, tags, CSeq).
  void answer_last_request(int status) {
    const auto& request = sender.last_request();
    if (!request || request->method == "ACK" || status < 100 || status > 699) return;
    SipMessage response = make_response(*request, status, status > 100 ? "callee-tag" : "");
    if (request->method == "INVITE" && status >= 200 && status < 300) {
      response.add_header("Contact", "<sip:callee@198.51.100.7:5060>");
      response.add_header("Content-Type", "application/sdp");
      response.body =
          "v=0\r\no=callee 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
          "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    }
    deliver(response.serialize(), sender.last_destination());
  }

  void run_posted() {
    // Posted work may post more (a hang-up's BYE fails, the room reacts): bounded rounds.
    for (int round = 0; round < 4 && !posted.empty(); ++round) {
      auto work = std::exchange(posted, {});
      for (auto& fn : work) fn();
    }
    posted.clear();
  }

  void check_bounds() const {
    check(ua.call_count() <= kMaxCalls);
    check(transactions.server_count() <= kMaxServerTransactions);
  }

  ManualTimerQueue timers;
  WireSender sender;
  std::vector<std::function<void()>> posted;
  Room room;
  UserAgent ua;
  TransactionLayer transactions{timers, sender, ua, TimerConfig{}, ServerLimits{kMaxServerTransactions}};
};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

std::string substitute(std::string_view datagram, const WireSender& sender) {
  std::string text(datagram);
  if (text.find('$') == std::string::npos) return text;
  replace_all(text, "$totag", sender.dialog_tag());
  if (const auto& request = sender.last_request()) {
    const auto via = top_via(*request);
    replace_all(text, "$branch", via ? std::string(via->branch()) : std::string());
    replace_all(text, "$callid", request->call_id);
    replace_all(text, "$fromtag", request->from.tag());
  }
  return text;
}

// Runs the ops line of one record; returns the source the datagram comes from.
std::size_t run_ops(Stack& stack, std::string_view ops, std::size_t source) {
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const char op = ops[i];
    if (op >= '0' && op <= '9') {
      stack.timers.advance(Millis{16LL << (op - '0')});
    } else if (op >= 'a' && op <= 'd') {
      source = static_cast<std::size_t>(op - 'a');
    } else if (op == 'T') {
      stack.timers.advance(Millis{32'000});
    } else if (op == 'S') {
      stack.timers.advance(Millis{15 * 60'000});
    } else if (op == 'h' || op == 'H') {
      if (auto call = stack.room.pick(op == 'h', false)) stack.room.post_hang_up(*call);
    } else if (op == 'r') {
      if (auto call = stack.room.pick(true, true)) stack.room.reject_early(*call);
    } else if (op == 'i') {
      if (auto call = stack.room.pick(true, false))
        (void)stack.ua.send_info(*call, "chorus-video-slots", "application/vnd.chorus.video-slots+json", "{}");
    } else if (op == 'o') {
      stack.room.dial(peer(source));
    } else if (op == 'f') {
      stack.sender.fail_next();
    } else if (op == 'x') {
      stack.ua.shutdown();
    } else if (op == 'R') {
      int status = 0;
      for (std::size_t k = 0; k < 3 && i + 1 < ops.size() && ops[i + 1] >= '0' && ops[i + 1] <= '9'; ++k, ++i)
        status = status * 10 + (ops[i + 1] - '0');
      stack.answer_last_request(status);
    }
    stack.run_posted();
    stack.check_bounds();
  }
  return source;
}

// Splits the input at lines starting with "@@" into (ops, datagram) records.
std::vector<std::pair<std::string_view, std::string_view>> split_records(std::string_view input) {
  std::vector<std::pair<std::string_view, std::string_view>> records;
  std::size_t start = 0;
  while (start <= input.size() && records.size() < kMaxRecords) {
    std::size_t end = input.find("\n@@", start);
    std::string_view record =
        input.substr(start, end == std::string_view::npos ? std::string_view::npos : end + 1 - start);
    std::string_view ops;
    if (record.starts_with("@@")) {
      const std::size_t line_end = record.find('\n');
      ops = record.substr(2, line_end == std::string_view::npos ? std::string_view::npos : line_end - 2);
      record = line_end == std::string_view::npos ? std::string_view{} : record.substr(line_end + 1);
    }
    records.emplace_back(ops, record);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return records;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  chorus::set_log_level(chorus::LogLevel::kOff);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Stack stack;
  std::size_t source = 0;
  for (const auto& [ops, datagram] : split_records(input)) {
    source = run_ops(stack, ops, source);
    if (!datagram.empty()) stack.deliver(substitute(datagram, stack.sender), peer(source));
    stack.run_posted();
    stack.check_bounds();
  }
  // Drain: stop, then let every timer run out (Timer F/H/J/K, the no-answer CANCEL, Timer D).
  stack.ua.shutdown();
  stack.run_posted();
  for (int step = 0; step < 20 && stack.timers.pending() > 0; ++step) {
    stack.timers.advance(Millis{32'000});
    stack.run_posted();
  }
  // SIP_STACK_FUZZ_DEBUG=1 when reproducing an artifact: what was left behind.
  if (std::getenv("SIP_STACK_FUZZ_DEBUG") != nullptr)
    std::fprintf(stderr, "calls %zu dialing %zu servers %zu clients %zu timers %zu\n", stack.ua.call_count(),
                 stack.ua.dialing_count(), stack.transactions.server_count(), stack.transactions.client_count(),
                 stack.timers.pending());
  check(stack.ua.call_count() == 0 && stack.ua.dialing_count() == 0);
  check(stack.transactions.server_count() == 0 && stack.transactions.client_count() == 0);
  check(stack.timers.pending() == 0);
  stack.room.check_all_ended();
  return 0;
}
