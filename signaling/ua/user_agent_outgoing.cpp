// UserAgent: dial-out as a UAC (RFC 3261 §13.2). The INVITE goes through a client INVITE
// transaction (§17.1.1, which also ACKs non-2xx finals, §17.1.1.3); 1xx are noted; the 2xx makes a
// UAC dialog (§12.1.2), is ACKed end to end by the dialog (§13.2.2.4; on_stray_response re-sends
// that ACK for each retransmitted 2xx) and becomes an ordinary call; no final response within
// no_answer_timeout sends CANCEL (§9.1) and reports 408.
// Threading: control loop only. Dials are named by CallHandle across timers and callbacks.
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
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c != '\r' && c != '\n') out += c;
  }
  return out + "\"";
}

// The address the INVITE goes to among a name's: the first IPv4 one (the SIP sockets are usually
// IPv4), else the first.
boost::asio::ip::address preferred(const std::vector<boost::asio::ip::address>& addresses) {
  for (const auto& address : addresses)
    if (address.is_v4()) return address;
  return addresses.front();
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
  const bool named = !target->host_name.empty();
  if (named && resolver_ == nullptr) return std::unexpected("host names cannot be resolved (no resolver)");
  if (!named && request.check_address)
    if (auto refused = request.check_address(target->hop.address)) return std::unexpected(*refused);

  auto outgoing = std::make_unique<Outgoing>();
  const CallHandle handle = next_handle_++;
  outgoing->handle = handle;
  outgoing->request = request;
  outgoing->call_id = random_token(kCallIdLength);
  outgoing->hop = target->hop;
  outgoing->resolving = named;
  Outgoing& dialled = *outgoing;
  OutgoingCallStarted started{handle, outgoing->call_id};
  outgoing_.emplace(handle, std::move(outgoing));
  if (!named && !send_invite(dialled)) {
    outgoing_.erase(handle);
    return std::unexpected("the INVITE could not be built for " + request.target);
  }
  dialled.no_answer_timer =
      timers_.schedule(config_.no_answer_timeout, [this, handle] { cancel_outgoing(handle, 408, "no answer"); });
  if (named) {
    CHORUS_LOG(kInfo, "sip", "resolving dial-out target", {"call_id", started.call_id}, {"host", target->host_name});
    // Off the control loop and bounded in time (host_resolver.hpp); the answer comes back here.
    resolver_->resolve(target->host_name, [this, alive = std::weak_ptr<int>(alive_), handle](ResolveResult result) {
      if (alive.lock()) on_resolved(handle, std::move(result));
    });
  }
  return started;
}

void UserAgent::on_resolved(CallHandle handle, ResolveResult result) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;  // given up while resolving (reported then)
  Outgoing& outgoing = *it->second;
  if (!result) {
    // RFC 3263 §4.3: a target that cannot be resolved fails like a 503; no answer in time is 504
    // (Server Time-out: an external server — DNS — did not answer, RFC 3261 §21.5.5).
    fail_outgoing(handle, result.error().kind == ResolveError::Kind::kTimeout ? 504 : 503, result.error().detail);
    return;
  }
  if (result->empty()) {
    fail_outgoing(handle, 503, "the target's name resolved to no address");
    return;
  }
  const boost::asio::ip::address address = preferred(*result);
  if (outgoing.request.check_address) {
    if (auto refused = outgoing.request.check_address(address)) {
      fail_outgoing(handle, 403, "the target resolves to a refused address: " + *refused);
      return;
    }
  }
  outgoing.hop.address = address;
  outgoing.resolving = false;
  if (!send_invite(outgoing)) fail_outgoing(handle, 500, "the INVITE could not be built");
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
  // §8.1.1: Request-URI and To are the target; From is the room at our address with a fresh tag;
  // a new Call-ID; CSeq 1; our Contact; the offer in the body (RFC 3264 §5).
  SipMessage invite;
  invite.is_request = true;
  invite.method = "INVITE";
  invite.request_uri_text = request.target;
  auto uri = parse_uri(request.target);
  if (!uri) return false;
  invite.request_uri = *uri;
  invite.add_header("Max-Forwards", "70");
  invite.add_header("From", (request.from_display.empty() ? std::string() : quoted(request.from_display) + " ") +
                                "<sip:" + request.from_user + "@" + sender_.via_sent_by(hop.kind) +
                                ">;tag=" + random_token(kTagLength));
  invite.add_header("To", "<" + request.target + ">");
  invite.add_header("Call-ID", outgoing.call_id);
  invite.add_header("CSeq", "1 INVITE");
  invite.add_header("Contact", contact_for(hop.kind));
  // No "Supported: timer": the callee then refreshes the session itself (RFC 4028 §9, refresher=uas).
  invite.add_header("Allow", std::string(kAllowedMethods));
  invite.add_header("Accept", std::string(kAcceptedBodies));
  invite.add_header("User-Agent", config_.server_name);
  invite.add_header("Content-Type", "application/sdp");
  invite.body = request.sdp_offer;
  stamp_via(invite, hop);
  if (!complete_typed_fields(invite)) return false;
  outgoing.invite = invite;
  const CallHandle handle = outgoing.handle;
  CHORUS_LOG(kInfo, "sip", "dialling", {"call_id", outgoing.call_id}, {"target", request.target},
             {"peer", hop.to_string()});
  // A transport failure comes back as a 503 from a zero-delay timer, never from inside this call.
  transactions_->send_request(std::move(invite), hop,
                              [this, handle](const SipMessage& response) { on_outgoing_response(handle, response); });
  return true;
}

void UserAgent::on_outgoing_response(CallHandle handle, const SipMessage& response) {
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;
  Outgoing& outgoing = *it->second;
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

void UserAgent::on_outgoing_answered(CallHandle handle, const SipMessage& response) {
  auto it = outgoing_.find(handle);
  std::unique_ptr<Outgoing> outgoing = std::move(it->second);
  outgoing_.erase(it);
  timers_.cancel(outgoing->no_answer_timer);

  auto call = std::make_unique<Call>();
  call->handle = handle;
  call->dialog = Dialog::from_response(outgoing->invite, response, outgoing->hop);
  call->phase = Call::Phase::kConfirmed;
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
