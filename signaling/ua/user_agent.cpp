// UserAgent: dispatch, responses and new calls. Their 2xx/ACK handshake is in user_agent_ack.cpp,
// in-dialog requests in user_agent_dialog.cpp, session refresh in user_agent_refresh.cpp.
#include "signaling/ua/user_agent.hpp"

#include <algorithm>

#include "common/ascii.hpp"
#include "common/log.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/user_agent_call.hpp"
#include "signaling/ua/user_agent_outgoing.hpp"

namespace chorus::sip {

UserAgent::UserAgent(TimerQueue& timers, MessageSender& sender, CallListener& listener, UserAgentConfig config)
    : timers_(timers), sender_(sender), listener_(listener), config_(std::move(config)) {}

UserAgent::~UserAgent() {
  for (auto& [handle, call] : calls_) {
    timers_.cancel(call->retransmit_timer);
    timers_.cancel(call->ack_timer);
    timers_.cancel(call->session_timer);
    timers_.cancel(call->early_timer);
  }
  for (auto& [handle, outgoing] : outgoing_) timers_.cancel(outgoing->no_answer_timer);
}

UserAgent::Call* UserAgent::find_call(const std::string& dialog_key) {
  auto it = calls_by_dialog_.find(dialog_key);
  return it == calls_by_dialog_.end() ? nullptr : find_call(it->second);
}

UserAgent::Call* UserAgent::find_call(CallHandle handle) {
  auto it = calls_.find(handle);
  return it == calls_.end() ? nullptr : it->second.get();
}

std::string UserAgent::contact_for(TransportKind kind) const {
  std::string contact = "<sip:" + config_.contact_user + "@" + sender_.via_sent_by(kind);
  if (kind != TransportKind::kUdp) contact += ";transport=" + ascii_lowercase(transport_name(kind));
  return contact + ">";
}

void UserAgent::add_capabilities(SipMessage& message) const {
  message.add_header("Allow", extensions_.allow);
  std::string accepted(kAcceptedBodies);  // §11.2: SDP, and what the registered methods take
  for (const auto& [method, types] : extensions_.accepted_bodies)
    for (const auto& type : types)
      if (accepted.find(type) == std::string::npos) accepted += ", " + type;
  message.add_header("Accept", accepted);
  message.add_header("Supported", std::string(kSupportedExtensions));
}

SipMessage UserAgent::response_for(const SipMessage& request, int status, std::string_view to_tag,
                                   std::string_view reason) const {
  SipMessage response = make_response(request, status, to_tag, reason);
  // Error responses carry only what RFC 3261 requires: they go to whoever the request claims to
  // be, so every optional byte in them is a byte of amplification (issue 12).
  if (status < 300) response.add_header("Server", config_.server_name);
  return response;
}

void UserAgent::respond(TransactionId id, const SipMessage& request, int status, std::string_view reason,
                        const std::vector<Header>& extra, std::string_view to_tag) {
  SipMessage response =
      response_for(request, status, to_tag.empty() && status > 100 ? random_token(8) : to_tag, reason);
  for (const auto& h : extra) response.add_header(h.name, h.value);
  transactions_->respond(id, response);
}

void UserAgent::on_request(TransactionId id, const SipMessage& request, const PeerAddress& source) {
  if (auto rejection = check_request(request, extensions_)) {
    CHORUS_LOG(kDebug, "sip", "request rejected", {"call_id", request.call_id}, {"method", request.method},
               {"status", rejection->status}, {"reason", rejection->reason});
    respond(id, request, rejection->status, rejection->reason, rejection->headers);
    return;
  }
  if (!request.to.tag().empty()) {
    Call* call = find_call(DialogId::key_for_incoming(request));
    if (!call && dispatch_to_handler(id, request, source, std::nullopt, request.to.tag())) return;
    if (!call) {  // §12.2.2: a mid-dialog request for a dialog we do not have
      respond(id, request, 481, "Call/Transaction Does Not Exist");
      return;
    }
    if (call->phase == Call::Phase::kEarly) {
      on_early_request(id, request, *call);
      return;
    }
    on_in_dialog_request(id, request, source, *call);
    return;
  }
  if (request.method == "INVITE") {
    on_new_invite(id, request, source);
  } else if (dispatch_to_handler(id, request, source, std::nullopt, {})) {
    // a registered method (method_handler.hpp)
  } else if (request.method == "OPTIONS" && options_unavailable_) {
    // Draining (set_options_unavailable): no Retry-After, so the answer stays no bigger than a 200.
    respond(id, request, 503, "Service Unavailable");
  } else if (request.method == "OPTIONS") {
    // §11.2: capabilities, whatever the Request-URI user (probes and keep-alives use it). They
    // SHOULD be there, not MUST: a UDP source that has not proved its address gets a bare 200,
    // so a spoofed OPTIONS is answered with no more bytes than it carried.
    SipMessage response = response_for(request, 200, random_token(8));
    if (verified(source)) {
      add_capabilities(response);
    } else {
      response.remove_header("Server");
    }
    transactions_->respond(id, response);
  } else {
    respond(id, request, 481, "Call/Transaction Does Not Exist");  // BYE, UPDATE, INFO outside a dialog
  }
}

void UserAgent::on_new_invite(TransactionId id, const SipMessage& invite, const PeerAddress& source) {
  // A dial still ringing holds its slot too (dial() counts both): its answer must not take us past.
  if (shutting_down_ || calls_.size() + outgoing_.size() >= config_.max_calls) {
    respond(id, invite, 503, shutting_down_ ? "Shutting Down" : "Too Many Calls", {{"Retry-After", "30"}});
    return;
  }
  if (over_source_limit(source)) {
    bump(counters_.calls_refused_per_source);
    CHORUS_LOG(kDebug, "security", "sip_source_call_limit", {"source", source.address.to_string()},
               {"calls", calls_from(source.address)}, {"max_calls_per_source", config_.max_calls_per_source});
    respond(id, invite, 486, "Busy Here");
    return;
  }
  const SessionTimerOutcome session = negotiate_session_timer(invite, config_.session_timer);
  if (session.too_small) {  // RFC 4028 §9
    respond(id, invite, 422, "Session Interval Too Small", session.response_headers());
    return;
  }
  std::optional<std::string> offer = sdp_body_of(invite);

  auto call = std::make_unique<Call>();
  call->handle = next_handle_++;
  call->dialog = Dialog::from_request(invite, random_token(10), source);
  for (auto allow : invite.header_values("Allow")) {
    if (!call->peer_allow.empty()) call->peer_allow += ",";
    call->peer_allow += allow;
  }

  CallInfo info;
  info.handle = call->handle;
  info.call_id = invite.call_id;
  info.request_user = invite.request_uri.user;
  info.from_uri = invite.from.uri_text;
  info.from_display = invite.from.display_name;
  if (const auto* ua = invite.header("User-Agent")) info.user_agent = *ua;
  info.source = source;
  info.recv_info = recv_info_packages(invite);

  CallDecision decision = listener_.on_incoming_call(info, invite, offer);
  const std::string& to_tag = call->dialog.id().local_tag;
  if (decision.status == 183 && offer && !decision.sdp.empty()) {
    answer_early(id, invite, source, std::move(call), std::move(decision));
    return;
  }
  if (decision.status < 200 || decision.status >= 300) {
    const int status = decision.status < 200 ? 500 : decision.status;
    CHORUS_LOG(kInfo, "sip", "call rejected", {"call_id", invite.call_id}, {"user", info.request_user},
               {"status", status}, {"reason", decision.reason});
    respond(id, invite, status, decision.reason, decision.extra_headers, to_tag);
    return;
  }

  SipMessage ok = response_for(invite, 200, to_tag);
  // §12.1.1: the dialog-creating response copies the Record-Route values of the request.
  for (auto rr : invite.header_values("Record-Route")) ok.add_header("Record-Route", std::string(rr));
  ok.add_header("Contact", contact_for(source.kind));
  add_capabilities(ok);
  for (const auto& h : session.response_headers()) ok.add_header(h.name, h.value);
  for (const auto& h : decision.extra_headers) ok.add_header(h.name, h.value);
  ok.add_header("Content-Type", "application/sdp");
  ok.body = std::move(decision.sdp);

  Call& ref = *call;
  count_source(ref, source);
  ref.answer_expected_in_ack = !offer.has_value();
  ref.session = session;
  calls_by_dialog_.emplace(ref.dialog.id().key(), ref.handle);
  calls_.emplace(ref.handle, std::move(call));
  CHORUS_LOG(kInfo, "sip", "call answered", {"call_id", invite.call_id}, {"user", info.request_user},
             {"from", info.from_uri}, {"transport", transport_name(source.kind)});
  send_invite_2xx(id, ref, std::move(ok), source, invite.wire_size);
}

void UserAgent::on_cancel(TransactionId invite, const SipMessage& cancel) {
  // The transaction layer has answered the CANCEL 200 (§9.2). Only an early call's INVITE is still
  // pending (every other INVITE is answered as it arrives): it gets 487 and the call ends.
  if (Call* call = find_early_call(invite)) {
    finish_early(call->handle, 487, "Request Terminated", {}, "CANCEL from caller");
    return;
  }
  CHORUS_LOG(kDebug, "sip", "CANCEL after the final response", {"call_id", cancel.call_id});
}

void UserAgent::on_server_transaction_ended(TransactionId id, bool) {
  // An early call's INVITE transaction ends before its final response only when the transport
  // failed (§17.2.4): nothing more can be sent, the call is over.
  if (Call* call = find_early_call(id)) finish_early(call->handle, 0, {}, {}, "transport failure");
}

void UserAgent::on_stray_response(const SipMessage& response, const PeerAddress&) {
  // §13.2.2.4: a retransmitted 2xx to our re-INVITE gets the same ACK again.
  if (response.status < 200 || response.status >= 300 || response.cseq.method != "INVITE") return;
  Call* call = find_call(DialogId::key_for_response(response));
  if (call && call->last_ack && call->last_ack_cseq == response.cseq.number)
    transactions_->send_stateless(*call->last_ack, call->dialog.next_hop());
}

bool UserAgent::hang_up(CallHandle handle, std::string_view reason) {
  if (outgoing_.contains(handle)) {  // a dial still ringing: CANCEL it (§9.1)
    cancel_outgoing(handle, 487, reason);
    return true;
  }
  if (!find_call(handle)) return false;
  end_call(handle, reason, true);
  return true;
}

void UserAgent::shutdown() {
  shutting_down_ = true;
  std::vector<CallHandle> handles;
  handles.reserve(calls_.size());
  for (const auto& [handle, call] : calls_) handles.push_back(handle);
  for (CallHandle handle : handles) {
    const Call* call = find_call(handle);
    if (call && call->phase == Call::Phase::kEarly)
      finish_early(handle, 503, "Shutting Down", {{"Retry-After", "30"}}, "server shutting down");
    else
      end_call(handle, "server shutting down", true);
  }
  handles.clear();
  for (const auto& [handle, outgoing] : outgoing_) handles.push_back(handle);
  for (CallHandle handle : handles) cancel_outgoing(handle, 487, "server shutting down");
}

void UserAgent::end_call(CallHandle handle, std::string_view reason, bool send_bye) {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return;
  if (it->second->phase == Call::Phase::kEarly) {  // §15: no BYE before the 2xx; a final response
    finish_early(handle, send_bye ? 480 : 0, "Temporarily Unavailable", {}, reason);
    return;
  }
  std::unique_ptr<Call> call = std::move(it->second);
  calls_.erase(it);
  calls_by_dialog_.erase(call->dialog.id().key());
  release_source(*call);
  forget_unacked_2xx(*call);
  timers_.cancel(call->session_timer);
  // A dialog whose 2xx was never ACKed by a UDP source that has not proved its address gets no BYE:
  // the INVITE may have been forged, and a BYE with its Timer E retransmissions would be one more
  // reflection at the forged address (issue 12). §13.3.1.4's BYE is a SHOULD.
  if (send_bye && call->phase == Call::Phase::kWaitingAck && !verified(call->unacked_source)) {
    send_bye = false;
    CHORUS_LOG(kInfo, "security", "call ended without BYE: its source never proved its address",
               {"call_id", call->dialog.id().call_id}, {"source", call->unacked_source.to_string()});
  }
  if (send_bye) {
    SipMessage bye = call->dialog.make_request("BYE", {});
    send_in_dialog(*call, std::move(bye), [](const SipMessage&) {});
  }
  CHORUS_LOG(kInfo, "sip", "call ended", {"call_id", call->dialog.id().call_id}, {"reason", reason});
  listener_.on_call_ended(handle, reason);
}

void UserAgent::add_method_handler(std::string method, std::vector<std::string> accepted_bodies,
                                   MethodHandler& handler) {
  if (!extensions_.accepted_bodies.contains(method)) extensions_.allow += ", " + method;
  extensions_.accepted_bodies[method] = std::move(accepted_bodies);
  method_handlers_[std::move(method)] = &handler;
}

bool UserAgent::dispatch_to_handler(TransactionId id, const SipMessage& request, const PeerAddress& source,
                                    std::optional<CallHandle> call, std::string_view to_tag) {
  auto handler = method_handlers_.find(request.method);
  if (handler == method_handlers_.end()) return false;
  handler->second->on_method_request(MethodRequest{id, request, source, call, std::string(to_tag)});
  return true;
}

void UserAgent::send_response(TransactionId id, const SipMessage& response) {
  transactions_->respond(id, response);
}

void UserAgent::send_request(SipMessage request, const PeerAddress& hop, ResponseCallback on_response) {
  stamp_via(request, hop);
  transactions_->send_request(std::move(request), hop, std::move(on_response));
}

bool UserAgent::send_in_call(CallHandle handle, std::string_view method, const std::vector<Header>& headers,
                             std::string_view content_type, std::string body, ResponseCallback on_response) {
  Call* call = find_call(handle);
  if (call == nullptr || call->phase == Call::Phase::kEarly) return false;
  SipMessage request = call->dialog.make_request(std::string(method), {});
  for (const auto& header : headers) request.add_header(header.name, header.value);
  if (!body.empty()) {
    request.add_header("Content-Type", std::string(content_type));
    request.body = std::move(body);
  }
  send_in_dialog(*call, std::move(request), on_response ? std::move(on_response) : [](const SipMessage&) {});
  return true;
}

bool UserAgent::peer_allows(CallHandle handle, std::string_view method) const {
  auto it = calls_.find(handle);
  if (it == calls_.end()) return false;
  return std::ranges::any_of(split_header_list(it->second->peer_allow),
                             [&](std::string_view allowed) { return iequals(trim(allowed), method); });
}

void UserAgent::send_in_dialog(Call& call, SipMessage request, ResponseCallback on_response) {
  const PeerAddress hop = call.dialog.next_hop();
  if (call.credentials && request.method != "ACK")
    on_response = answer_dialog_challenges(call, request, std::move(on_response));
  stamp_via(request, hop);
  if (request.method == "ACK") {
    transactions_->send_stateless(request, hop);
    return;
  }
  transactions_->send_request(std::move(request), hop, std::move(on_response));
}

}  // namespace chorus::sip

namespace chorus::sip {

bool UserAgent::over_source_limit(const PeerAddress& source) const {
  if (config_.max_calls_per_source == 0 || any_contains(config_.trusted_sources, source.address)) return false;
  return calls_from(source.address) >= config_.max_calls_per_source;
}

std::size_t UserAgent::calls_from(const boost::asio::ip::address& source) const {
  auto it = calls_per_source_.find(source);
  return it == calls_per_source_.end() ? 0 : it->second;
}

void UserAgent::count_source(Call& call, const PeerAddress& source) {
  if (any_contains(config_.trusted_sources, source.address)) return;
  call.counted_source = source.address;
  ++calls_per_source_[source.address];
}

void UserAgent::release_source(Call& call) {
  if (!call.counted_source) return;
  if (auto it = calls_per_source_.find(*call.counted_source); it != calls_per_source_.end() && --it->second == 0)
    calls_per_source_.erase(it);
  call.counted_source.reset();
}

bool UserAgent::verified(const PeerAddress& source) const {
  // A stream transport's handshake proved the address already; a trusted source is known.
  return is_reliable(source.kind) || any_contains(config_.trusted_sources, source.address) ||
         verified_sources_.contains(source.address);
}

void UserAgent::remember_verified(const PeerAddress& source) {
  if (is_reliable(source.kind) || config_.max_verified_sources == 0) return;
  if (!verified_sources_.contains(source.address) && verified_sources_.size() >= config_.max_verified_sources) {
    // Full: forget the source verified longest ago (a scan, but only when a new source is added).
    auto oldest = std::ranges::min_element(verified_sources_, {}, [](const auto& entry) { return entry.second; });
    verified_sources_.erase(oldest);
  }
  verified_sources_[source.address] = ++verified_stamp_;
}

void UserAgent::stamp_via(SipMessage& request, const PeerAddress& hop) const {
  request.prepend_header("Via", "SIP/2.0/" + std::string(transport_name(hop.kind)) + " " +
                                    sender_.via_sent_by(hop.kind) + ";branch=" + TransactionLayer::new_branch() +
                                    ";rport");
}

}  // namespace chorus::sip
