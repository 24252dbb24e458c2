// UserAgent: dial-out as a UAC (RFC 3261 §13.2). The INVITE goes through a client INVITE
// transaction (§17.1.1, which also ACKs non-2xx finals, §17.1.1.3); 1xx are noted; the 2xx makes a
// UAC dialog (§12.1.2), is ACKed end to end by the dialog (§13.2.2.4; on_stray_response re-sends
// that ACK for each retransmitted 2xx) and becomes an ordinary call; no final response within
// no_answer_timeout sends CANCEL (§9.1) and reports 408.
//
// Failover (RFC 3263 §4.3): the hops (preset, located, or a name's addresses) are tried in order;
// a 503, Timer B or a transport error sends a new INVITE to the next — a new transaction (new
// branch) with the same Call-ID, From tag and CSeq: §4.3 asks for a request "identical to the
// previous" but for the branch, and like a proxy's branches (§16.6) the attempts are one call to
// the callee, so the first 2xx makes the one dialog. Any other final response ends the dial; all
// hops failed, the last status is reported.
// Digest (§22.2, §22.3; signaling/auth): a 401/407 with a challenge for a realm not yet answered at
// this hop is answered by a new INVITE (same Call-ID and From tag, CSeq + 1, new branch); the same
// realm again is a refusal, unless stale=true (once). The 401/407 itself is ACKed by its transaction.
// Threading: control loop only. Dials are named by CallHandle across timers and callbacks.
#include <algorithm>
#include <array>
#include <boost/system/error_code.hpp>
#include <memory>

#include "common/log.hpp"
#include "signaling/transaction/transaction.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent.hpp"
#include "signaling/ua/user_agent_call.hpp"
#include "signaling/ua/user_agent_outgoing.hpp"

namespace chorus::sip {
namespace {

constexpr std::size_t kTagLength = 10;
constexpr std::size_t kCallIdLength = 20;

// §25.1 quoted-string: a display name with its quotes and backslashes escaped.
std::string quoted_display_name(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

// A name's addresses as hops: IPv4 first (the SIP sockets are usually IPv4), each family in the
// resolver's order.
std::vector<boost::asio::ip::address> ipv4_first(std::vector<boost::asio::ip::address> addresses) {
  std::ranges::stable_partition(addresses, [](const auto& address) { return address.is_v4(); });
  return addresses;
}

// Different challenges answered at one hop (a proxy's 407, then the callee's 401, ...), at most.
constexpr std::size_t kMaxChallengesPerHop = 4;

// RFC 3263 §4.3: a 503, a transaction timeout or a transport error sends the request to the next
// hop. The timeout and the transport error are the transaction layer's own 408/503 (nothing came
// off the wire: wire_size 0); a 408 after a provisional response is Timer C (someone is ringing
// there, §17.1.1.2) and a 408 a server sent is its verdict on the callee, so neither fails over.
bool is_failover(const SipMessage& response, bool provisional_seen) {
  const bool local = response.wire_size == 0;
  return response.status == 503 || (response.status == 408 && local && !provisional_seen);
}

// The extra headers of an OutgoingCallRequest: a token name, a one-line value, none the UA writes.
std::optional<std::string> check_extra_headers(const std::vector<Header>& headers) {
  static constexpr std::array<std::string_view, 13> kOwn{"Via",
                                                         "From",
                                                         "To",
                                                         "Call-ID",
                                                         "CSeq",
                                                         "Contact",
                                                         "Max-Forwards",
                                                         "Content-Type",
                                                         "Content-Length",
                                                         "Authorization",
                                                         "Proxy-Authorization",
                                                         "Content-Encoding",
                                                         "Allow"};
  for (const auto& header : headers) {
    if (!is_token(header.name)) return "bad header name: " + header.name;
    if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return "header " + header.name + " has a line break";
    const std::string canonical = canonical_header_name(header.name);
    for (std::string_view own : kOwn)
      if (iequals(canonical, own)) return "header " + header.name + " is the UA's own";
  }
  return std::nullopt;
}

}  // namespace

std::optional<DialTarget> dial_target(const SipUri& target, std::string& error) {
  if (!target.is_sip()) {
    error = "not a sip: or sips: URI";
    return std::nullopt;
  }
  if (target.host.empty()) {
    error = "the URI has no host";
    return std::nullopt;
  }
  DialTarget out;
  if (auto name = target.param_value("transport")) {
    auto kind = transport_from_name(*name);
    if (!kind || *kind == TransportKind::kWs || *kind == TransportKind::kWss) {
      error = "transport " + std::string(*name) + " cannot be dialled (udp, tcp or tls)";
      return std::nullopt;
    }
    out.hop.kind = *kind;
  }
  // §26.2.2: a SIPS URI is reached over TLS only.
  if (target.scheme == "sips") out.hop.kind = TransportKind::kTls;
  out.hop.port = target.port.value_or(out.hop.kind == TransportKind::kTls ? 5061 : 5060);
  std::string_view host = target.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  out.hop.address = boost::asio::ip::make_address(std::string(host), ec);
  // RFC 3263's NAPTR and SRV lookups are not done: a name is resolved as an A/AAAA name, later.
  if (ec) out.host_name = target.host;
  return out;
}

std::expected<OutgoingCallStarted, std::string> UserAgent::dial(const OutgoingCallRequest& request) {
  if (!transactions_) return std::unexpected("no transaction layer");
  if (shutting_down_) return std::unexpected("shutting down");
  if (calls_.size() + outgoing_.size() >= config_.max_calls) return std::unexpected("too many calls");
  auto uri = parse_uri(request.target);
  if (!uri) return std::unexpected("not a URI: " + uri.error());
  std::string error;
  auto target = dial_target(*uri, error);
  if (!target) return std::unexpected(error);
  if (auto bad = check_extra_headers(request.extra_headers)) return std::unexpected(*bad);
  const bool preset = !request.hops.empty();
  const bool named = !preset && !target->host_name.empty();
  if (named && locator_ == nullptr && resolver_ == nullptr)
    return std::unexpected("host names cannot be resolved (no resolver)");

  auto outgoing = std::make_unique<Outgoing>();
  const CallHandle handle = next_handle_++;
  outgoing->handle = handle;
  outgoing->request = request;
  outgoing->call_id = random_token(kCallIdLength);
  outgoing->resolving = named;
  Outgoing& dialled = *outgoing;
  if (!named) {
    std::vector<PeerAddress> hops;
    if (preset) {
      for (const auto& located : request.hops) hops.push_back(located.hop);
    } else {
      hops.push_back(target->hop);
    }
    // An IP literal or preset hops are tried at once; refused all, the dial is refused here.
    if (!start_hops(dialled, std::move(hops), error)) return std::unexpected(error);
  }
  OutgoingCallStarted started{handle, outgoing->call_id};
  outgoing_.emplace(handle, std::move(outgoing));
  // RFC 3263 §4.3 failover happens within this one bound: the whole dial, every hop.
  dialled.no_answer_timer =
      timers_.schedule(config_.no_answer_timeout, [this, handle] { cancel_outgoing(handle, 408, "no answer"); });
  if (!named) return started;
  CHORUS_LOG(kInfo, "sip", "locating dial-out target", {"call_id", started.call_id}, {"host", target->host_name});
  // Off the control loop and bounded in time (sip_locator.hpp, host_resolver.hpp).
  if (locator_ != nullptr) {
    locator_->locate(*uri, [this, alive = std::weak_ptr<int>(alive_), handle](LocateResult result) {
      if (alive.lock()) on_located(handle, std::move(result));
    });
  } else {
    resolver_->resolve(target->host_name, [this, alive = std::weak_ptr<int>(alive_), handle](ResolveResult result) {
      if (alive.lock()) on_resolved(handle, std::move(result));
    });
  }
  return started;
}

void UserAgent::on_located(CallHandle handle, LocateResult result) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;  // given up while locating (reported then)
  Outgoing& outgoing = *it->second;
  // RFC 3263 §4.3: no hop at all fails like a 503; no DNS answer in time is 504 (§21.5.5).
  if (!result) {
    fail_outgoing(handle, result.error().kind == ResolveError::Kind::kTimeout ? 504 : 503, result.error().detail);
    return;
  }
  if (result->empty()) {
    fail_outgoing(handle, 503, "the target was located at no address");
    return;
  }
  std::vector<PeerAddress> hops;
  for (const auto& located : *result) hops.push_back(located.hop);
  outgoing.resolving = false;
  std::string why;
  if (!start_hops(outgoing, std::move(hops), why))
    fail_outgoing(handle, 403, "the target resolves to a refused address: " + why);
}

void UserAgent::on_resolved(CallHandle handle, ResolveResult result) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;  // given up while resolving (reported then)
  Outgoing& outgoing = *it->second;
  if (!result) {
    fail_outgoing(handle, result.error().kind == ResolveError::Kind::kTimeout ? 504 : 503, result.error().detail);
    return;
  }
  if (result->empty()) {
    fail_outgoing(handle, 503, "the target's name resolved to no address");
    return;
  }
  // Each address is a hop (RFC 3263 §4.3 walks A/AAAA records too), IPv4 first: the SIP sockets
  // are usually IPv4. Port and transport are the URI's (dial_target).
  std::string error;
  auto target = dial_target(*parse_uri(outgoing.request.target), error);  // dial() checked both
  std::vector<PeerAddress> hops;
  for (const auto& address : ipv4_first(*result)) {
    PeerAddress hop = target->hop;
    hop.address = address;
    hops.push_back(hop);
  }
  outgoing.resolving = false;
  std::string why;
  if (!start_hops(outgoing, std::move(hops), why))
    fail_outgoing(handle, 403, "the target resolves to a refused address: " + why);
}

bool UserAgent::start_hops(Outgoing& outgoing, std::vector<PeerAddress> hops, std::string& why) {
  outgoing.hops = std::move(hops);
  outgoing.next_hop = 0;
  return try_next_hop(outgoing, &why);
}

bool UserAgent::try_next_hop(Outgoing& outgoing, std::string* why) {
  while (outgoing.next_hop < outgoing.hops.size()) {
    const PeerAddress hop = outgoing.hops[outgoing.next_hop++];
    // The egress policy (issue 12) holds for every hop, not only the first.
    if (outgoing.request.check_address) {
      if (auto refused = outgoing.request.check_address(hop.address)) {
        CHORUS_LOG(kInfo, "sip", "dial-out hop refused", {"call_id", outgoing.call_id}, {"peer", hop.to_string()},
                   {"reason", *refused});
        if (why != nullptr && why->empty()) *why = *refused;
        continue;
      }
    }
    // RFC 3263 §4.3: the next hop gets a new transaction (a new branch); challenges answered at
    // the previous hop are not carried over (another server, other nonces).
    outgoing.hop = hop;
    outgoing.answered.clear();
    outgoing.stale_retry_used = false;
    if (send_invite(outgoing)) return true;
    if (why != nullptr) *why = "the INVITE could not be built";
    return false;
  }
  return false;
}

void UserAgent::fail_outgoing(CallHandle handle, int status, std::string_view reason) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;
  std::unique_ptr<Outgoing> done = std::move(it->second);
  outgoing_.erase(it);
  timers_.cancel(done->no_answer_timer);
  CHORUS_LOG(kInfo, "sip", "dial-out failed", {"call_id", done->call_id}, {"target", done->request.target},
             {"status", status}, {"reason", reason});
  listener_.on_outgoing_failed(handle, status, reason);
}

bool UserAgent::send_invite(Outgoing& outgoing) {
  const OutgoingCallRequest& request = outgoing.request;
  const PeerAddress& hop = outgoing.hop;
  // §8.1.1: Request-URI and To are the target; From is the room at our address with a tag chosen
  // once per dial; the dial's Call-ID; our Contact; the offer in the body (RFC 3264 §5).
  SipMessage invite;
  invite.is_request = true;
  invite.method = "INVITE";
  invite.request_uri_text = request.target;
  auto uri = parse_uri(request.target);
  if (!uri) return false;
  invite.request_uri = *uri;
  if (outgoing.from.empty()) {
    const std::string host = request.from_host.empty() ? sender_.via_sent_by(hop.kind) : request.from_host;
    outgoing.from = (request.from_display.empty() ? std::string() : quoted_display_name(request.from_display) + " ") +
                    "<sip:" + request.from_user + "@" + host + ">;tag=" + random_token(kTagLength);
  }
  invite.add_header("Max-Forwards", "70");
  invite.add_header("From", outgoing.from);
  invite.add_header("To", "<" + request.target + ">");
  invite.add_header("Call-ID", outgoing.call_id);
  invite.add_header("CSeq", std::to_string(outgoing.cseq) + " INVITE");
  invite.add_header("Contact", contact_for(hop.kind));
  // No "Supported: timer": the callee then refreshes the session itself (RFC 4028 §9, refresher=uas).
  invite.add_header("Allow", allowed_methods());
  invite.add_header("Accept", std::string(kAcceptedBodies));
  invite.add_header("User-Agent", config_.server_name);
  for (const auto& header : request.extra_headers) invite.add_header(header.name, header.value);
  // §22.3: every challenge answered so far is answered again in the re-sent request.
  if (request.credentials) {
    for (const auto& answered : outgoing.answered) {
      invite.add_header(std::string(digest_response_header_name(answered.challenge)),
                        digest_response_header(answered.challenge, *request.credentials, "INVITE", request.target,
                                               answered.nonce_count));
    }
  }
  invite.add_header("Content-Type", "application/sdp");
  invite.body = request.sdp_offer;
  stamp_via(invite, hop);
  if (!complete_typed_fields(invite)) return false;
  outgoing.invite = invite;
  outgoing.provisional_seen = false;
  const CallHandle handle = outgoing.handle;
  const std::uint64_t attempt = ++outgoing.attempt;
  CHORUS_LOG(kInfo, "sip", "dialling", {"call_id", outgoing.call_id}, {"target", request.target},
             {"peer", hop.to_string()}, {"cseq", outgoing.cseq});
  // A transport failure comes back as a 503 from a zero-delay timer, never from inside this call.
  transactions_->send_request(std::move(invite), hop, [this, handle, attempt](const SipMessage& response) {
    on_outgoing_response(handle, attempt, response);
  });
  return true;
}

void UserAgent::on_outgoing_response(CallHandle handle, std::uint64_t attempt, const SipMessage& response) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;
  Outgoing& outgoing = *it->second;
  if (attempt != outgoing.attempt) return;  // an INVITE this dial has moved on from
  if (is_provisional(response.status)) {
    // 180/183 and the like: the callee is being alerted. §9.1: a CANCEL waits for one of these.
    outgoing.provisional_seen = true;
    if (outgoing.cancel_wanted && !outgoing.cancel_sent) send_cancel(outgoing);
    return;
  }
  if (is_success(response.status)) {
    on_outgoing_answered(handle, response);
    return;
  }
  // The transaction ACKed this final response itself (§17.1.1.3), so a new INVITE may follow.
  if (!outgoing.cancel_wanted) {
    if ((response.status == 401 || response.status == 407) && answer_challenge(outgoing, response)) return;
    if (is_failover(response, outgoing.provisional_seen)) {
      CHORUS_LOG(kInfo, "sip", "dial-out hop failed, trying the next", {"call_id", outgoing.call_id},
                 {"peer", outgoing.hop.to_string()}, {"status", response.status});
      if (try_next_hop(outgoing)) return;
    }
  }
  std::unique_ptr<Outgoing> done = std::move(it->second);
  outgoing_.erase(it);
  timers_.cancel(done->no_answer_timer);
  int status = response.status;
  std::string reason = response.reason.empty() ? std::string(default_reason(status)) : response.reason;
  if (done->cancel_wanted) {  // the 487 (or whatever came) answers our CANCEL; report why we sent it
    status = done->fail_status;
    reason = done->fail_reason;
  }
  CHORUS_LOG(kInfo, "sip", "dial-out failed", {"call_id", done->invite.call_id},
             {"target", done->invite.request_uri_text}, {"status", status}, {"reason", reason});
  listener_.on_outgoing_failed(handle, status, reason);
}

bool UserAgent::answer_challenge(Outgoing& outgoing, const SipMessage& response) {
  if (!outgoing.request.credentials) return false;
  auto challenge = pick_challenge(response);
  if (!challenge) {
    CHORUS_LOG(kInfo, "sip", "dial-out challenge not usable", {"call_id", outgoing.call_id},
               {"status", response.status});
    return false;
  }
  const std::string realm = challenge->realm;
  auto same = std::ranges::find_if(outgoing.answered, [&](const Outgoing::Answered& a) {
    return a.challenge.realm == challenge->realm && a.challenge.proxy == challenge->proxy;
  });
  if (same != outgoing.answered.end()) {
    // §22.2/22.3: answered already, so the credentials were refused — unless only the nonce had
    // expired (stale=true, RFC 2617 §3.2.1), which earns one more try.
    if (!challenge->stale || outgoing.stale_retry_used) return false;
    outgoing.stale_retry_used = true;
    *same = Outgoing::Answered{std::move(*challenge), 1};
  } else {
    if (outgoing.answered.size() >= kMaxChallengesPerHop) return false;
    outgoing.answered.push_back(Outgoing::Answered{std::move(*challenge), 1});
  }
  // §8.1.3.5: the same Call-ID, From tag and To, the CSeq one higher, a new branch (a new
  // transaction, whose CANCEL then matches it: send_cancel copies the INVITE now in flight).
  ++outgoing.cseq;
  CHORUS_LOG(kInfo, "sip", "dial-out challenged, sending credentials", {"call_id", outgoing.call_id},
             {"status", response.status}, {"realm", realm});
  return send_invite(outgoing);
}

void UserAgent::on_outgoing_answered(CallHandle handle, const SipMessage& response) {
  auto it = outgoing_.find(handle);
  std::unique_ptr<Outgoing> outgoing = std::move(it->second);
  outgoing_.erase(it);
  timers_.cancel(outgoing->no_answer_timer);

  auto call = std::make_unique<Call>();
  call->handle = handle;
  call->dialog = Dialog::from_response(outgoing->invite, response, outgoing->hop);
  call->phase = Call::Phase::kConfirmed;
  call->credentials = outgoing->request.credentials;  // §22: our in-dialog requests may be challenged too
  for (auto allow : response.header_values("Allow")) {
    if (!call->peer_allow.empty()) call->peer_allow += ",";
    call->peer_allow += allow;
  }
  // §13.2.2.4: the ACK for a 2xx is built by the dialog (Request-URI from the Contact, the route
  // set, the To tag, the INVITE's CSeq number) and sent outside the transaction; it is kept so a
  // retransmitted 2xx gets it again (on_stray_response).
  const std::uint32_t cseq = outgoing->invite.cseq.number;
  SipMessage ack = call->dialog.make_ack(cseq, {});
  const PeerAddress hop = call->dialog.next_hop();
  stamp_via(ack, hop);
  transactions_->send_stateless(ack, hop);
  call->last_ack = std::move(ack);
  call->last_ack_cseq = cseq;

  if (outgoing->cancel_wanted) {
    // §9.1: the 2xx crossed our CANCEL. The call is ACKed and at once ended with BYE (§15.1.1).
    send_in_dialog(*call, call->dialog.make_request("BYE", {}), [](const SipMessage&) {});
    CHORUS_LOG(kInfo, "sip", "dial-out answered after being given up, sent BYE", {"call_id", outgoing->invite.call_id},
               {"reason", outgoing->fail_reason});
    listener_.on_outgoing_failed(handle, outgoing->fail_status, outgoing->fail_reason);
    return;
  }
  calls_by_dialog_.emplace(call->dialog.id().key(), handle);
  calls_.emplace(handle, std::move(call));
  CHORUS_LOG(kInfo, "sip", "dial-out answered", {"call_id", outgoing->invite.call_id},
             {"target", outgoing->invite.request_uri_text});
  if (!listener_.on_outgoing_answered(handle, sdp_body_of(response))) end_call(handle, "answer not acceptable", true);
}

void UserAgent::cancel_outgoing(CallHandle handle, int fail_status, std::string_view reason) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;
  Outgoing& outgoing = *it->second;
  timers_.cancel(outgoing.no_answer_timer);
  outgoing.no_answer_timer = TimerQueue::kNoTimer;
  if (outgoing.cancel_wanted) return;
  if (outgoing.resolving) {
    // Nothing was sent yet: no CANCEL. The failure is reported from a zero-delay timer, as the
    // caller (hang_up, shutdown) may be iterating its own state; the DNS answer is then dropped.
    std::unique_ptr<Outgoing> done = std::move(it->second);
    outgoing_.erase(it);
    timers_.schedule(Millis{0}, [this, handle, fail_status, why = std::string(reason)] {
      listener_.on_outgoing_failed(handle, fail_status, why);
    });
    return;
  }
  outgoing.cancel_wanted = true;
  outgoing.fail_status = fail_status;
  outgoing.fail_reason = std::string(reason);
  // §9.1: no CANCEL before a provisional response; until one comes, Timer B bounds the wait.
  if (outgoing.provisional_seen) send_cancel(outgoing);
}

void UserAgent::send_cancel(Outgoing& outgoing) {
  // §9.1: the CANCEL copies the INVITE's Request-URI, Call-ID, To, From, CSeq number, Route and
  // top Via (so its branch matches the INVITE's); its own client transaction answers it.
  const SipMessage& invite = outgoing.invite;
  SipMessage cancel;
  cancel.is_request = true;
  cancel.method = "CANCEL";
  cancel.request_uri_text = invite.request_uri_text;
  cancel.request_uri = invite.request_uri;
  if (const std::string* via = invite.header("Via")) cancel.add_header("Via", *via);
  for (auto route : invite.header_values("Route")) cancel.add_header("Route", std::string(route));
  cancel.add_header("Max-Forwards", "70");
  for (const char* name : {"From", "To", "Call-ID"})
    if (const std::string* value = invite.header(name)) cancel.add_header(name, *value);
  cancel.add_header("CSeq", std::to_string(invite.cseq.number) + " CANCEL");
  outgoing.cancel_sent = true;
  CHORUS_LOG(kInfo, "sip", "cancelling dial-out", {"call_id", invite.call_id}, {"reason", outgoing.fail_reason});
  transactions_->send_request(std::move(cancel), outgoing.hop, [](const SipMessage&) {});
}

}  // namespace chorus::sip
