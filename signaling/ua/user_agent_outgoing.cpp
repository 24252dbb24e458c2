// UserAgent: dial-out as a UAC (RFC 3261 §13.2). The INVITE goes through a client INVITE
// transaction (§17.1.1, which also ACKs non-2xx finals, §17.1.1.3); 1xx are noted; the 2xx makes a
// UAC dialog (§12.1.2), is ACKed end to end by the dialog (§13.2.2.4; on_stray_response re-sends
// that ACK for each retransmitted 2xx) and becomes an ordinary call; no final response within
// no_answer_timeout sends CANCEL (§9.1) and reports 408.
// Threading: control loop only. Dials are named by CallHandle across timers and callbacks.
#include <netdb.h>
#include <sys/socket.h>

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

// getaddrinfo for a host name, IPv4 first (the SIP sockets are usually IPv4); nullopt when unknown.
std::optional<boost::asio::ip::address> resolve_host(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* results = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &results) != 0 || results == nullptr) return std::nullopt;
  std::optional<boost::asio::ip::address> v4;
  std::optional<boost::asio::ip::address> v6;
  for (const addrinfo* r = results; r != nullptr; r = r->ai_next) {
    if (r->ai_family == AF_INET && !v4) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(r->ai_addr);
      v4 = boost::asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
    } else if (r->ai_family == AF_INET6 && !v6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(r->ai_addr);
      boost::asio::ip::address_v6::bytes_type bytes;
      std::copy(std::begin(in6->sin6_addr.s6_addr), std::end(in6->sin6_addr.s6_addr), bytes.begin());
      v6 = boost::asio::ip::address_v6(bytes);
    }
  }
  ::freeaddrinfo(results);
  return v4 ? v4 : v6;
}

}  // namespace

std::optional<PeerAddress> resolve_target(const SipUri& target, std::string& error) {
  if (!target.is_sip()) {
    error = "not a sip: or sips: URI";
    return std::nullopt;
  }
  if (target.host.empty()) {
    error = "the URI has no host";
    return std::nullopt;
  }
  PeerAddress out;
  if (auto name = target.param_value("transport")) {
    auto kind = transport_from_name(*name);
    if (!kind || *kind == TransportKind::kWs || *kind == TransportKind::kWss) {
      error = "transport " + std::string(*name) + " cannot be dialled (udp, tcp or tls)";
      return std::nullopt;
    }
    out.kind = *kind;
  }
  // §26.2.2: a SIPS URI is reached over TLS only.
  if (target.scheme == "sips") out.kind = TransportKind::kTls;
  out.port = target.port.value_or(out.kind == TransportKind::kTls ? 5061 : 5060);
  boost::system::error_code ec;
  out.address = boost::asio::ip::make_address(target.host, ec);
  if (ec) {
    // RFC 3263's NAPTR and SRV lookups are not done: the host is resolved as an A/AAAA name.
    auto resolved = resolve_host(target.host);
    if (!resolved) {
      error = "host " + target.host + " does not resolve";
      return std::nullopt;
    }
    out.address = *resolved;
  }
  return out;
}

std::expected<OutgoingCallStarted, std::string> UserAgent::dial(const OutgoingCallRequest& request) {
  if (!transactions_) return std::unexpected("no transaction layer");
  if (shutting_down_) return std::unexpected("shutting down");
  if (calls_.size() + outgoing_.size() >= config_.max_calls) return std::unexpected("too many calls");
  auto uri = parse_uri(request.target);
  if (!uri) return std::unexpected("not a URI: " + uri.error());
  std::string error;
  auto hop = resolve_target(*uri, error);
  if (!hop) return std::unexpected(error);

  // §8.1.1: Request-URI and To are the target; From is the room at our address with a fresh tag;
  // a new Call-ID; CSeq 1; our Contact; the offer in the body (RFC 3264 §5).
  SipMessage invite;
  invite.is_request = true;
  invite.method = "INVITE";
  invite.request_uri_text = request.target;
  invite.request_uri = *uri;
  invite.add_header("Max-Forwards", "70");
  invite.add_header("From", (request.from_display.empty() ? std::string() : quoted(request.from_display) + " ") +
                                "<sip:" + request.from_user + "@" + sender_.via_sent_by(hop->kind) +
                                ">;tag=" + random_token(kTagLength));
  invite.add_header("To", "<" + request.target + ">");
  invite.add_header("Call-ID", random_token(kCallIdLength));
  invite.add_header("CSeq", "1 INVITE");
  invite.add_header("Contact", contact_for(hop->kind));
  // No "Supported: timer": the callee then refreshes the session itself (RFC 4028 §9, refresher=uas).
  invite.add_header("Allow", std::string(kAllowedMethods));
  invite.add_header("Accept", std::string(kAcceptedBodies));
  invite.add_header("User-Agent", config_.server_name);
  invite.add_header("Content-Type", "application/sdp");
  invite.body = request.sdp_offer;
  stamp_via(invite, *hop);
  if (!complete_typed_fields(invite)) return std::unexpected("the INVITE could not be built for " + request.target);

  auto outgoing = std::make_unique<Outgoing>();
  const CallHandle handle = next_handle_++;
  outgoing->handle = handle;
  outgoing->invite = invite;
  outgoing->hop = *hop;
  outgoing->no_answer_timer =
      timers_.schedule(config_.no_answer_timeout, [this, handle] { cancel_outgoing(handle, 408, "no answer"); });
  OutgoingCallStarted started{handle, invite.call_id};
  outgoing_.emplace(handle, std::move(outgoing));
  CHORUS_LOG(kInfo, "sip", "dialling", {"call_id", started.call_id}, {"target", request.target},
             {"peer", hop->to_string()});
  // A transport failure comes back as a 503 from a zero-delay timer, never from inside this call.
  transactions_->send_request(std::move(invite), *hop,
                              [this, handle](const SipMessage& response) { on_outgoing_response(handle, response); });
  return started;
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
