#include "signaling/transaction/transaction.hpp"

#include <utility>

#include "common/log.hpp"
#include "signaling/transport/via_routing.hpp"

namespace chorus::sip {

ServerTransaction::ServerTransaction(const TransactionContext& context, TransactionId id, const PeerAddress& source)
    : context_(context), id_(id), source_(source) {}

bool ServerTransaction::send(const SipMessage& response) {
  if (context_.sender.send_response(response, source_)) return true;
  CHORUS_LOG(kWarn, "sip", "server transaction transport failure", {"peer", source_.to_string()},
             {"status", response.status});
  return false;
}

void ServerTransaction::terminate(bool timed_out) {
  if (terminated_) return;
  terminated_ = true;
  context_.owner.on_terminated(*this, timed_out);
}

ClientTransaction::ClientTransaction(const TransactionContext& context, TransactionId id, SipMessage request,
                                     const PeerAddress& destination, ResponseCallback on_response)
    : context_(context),
      request_(std::move(request)),
      id_(id),
      destination_(destination),
      on_response_(std::move(on_response)),
      failure_timer_(context.timers) {}

bool ClientTransaction::sent_by_matches(const Via& via) const {
  if (request_.vias.empty()) return false;
  const Via& ours = request_.vias.front();
  return via.port == ours.port && iequals(via.host, ours.host);
}

bool ClientTransaction::came_from_destination(const PeerAddress& source) const {
  return response_source_matches(destination_, source);
}

bool response_source_matches(const PeerAddress& destination, const PeerAddress& source) {
  // A response on the very connection the request was written to (an in-dialog request to a TCP or
  // WebSocket caller goes back over the caller's own connection, whose port is ephemeral).
  if (is_reliable(destination.kind) && destination.connection != 0 && source.connection == destination.connection)
    return true;
  // Otherwise the same transport from the destination's IP and port: over UDP anyone can write a
  // datagram to our port (RFC 3261 §17.1.3 matches on the branch only, and a branch leaks to every
  // hop and to whoever sees one message); over TCP/TLS the connection the transport opened or reused
  // to that IP and port, whose peer address cannot be forged.
  return source.kind == destination.kind && source.port == destination.port &&
         normalize_address(source.address) == normalize_address(destination.address);
}

void ClientTransaction::report(const SipMessage& response) {
  if (response.status >= 200) final_seen_ = true;
  if (on_response_) on_response_(response);
}

void ClientTransaction::report_local(int status) {
  SipMessage response = make_response(request_, status);
  // The TU reads typed fields of responses, as the parser fills them for received ones.
  response.vias = request_.vias;
  response.from = request_.from;
  response.to = request_.to;
  response.call_id = request_.call_id;
  response.cseq = request_.cseq;
  report(response);
}

void ClientTransaction::report_transport_failure_later() {
  // RFC 3261 §17.1.4: a transport failure is a 503 to the TU; deferred so the TU has its id first.
  failure_timer_.start(Millis{0}, [this] {
    if (terminated()) return;
    report_local(503);
    terminate();
  });
}

void ClientTransaction::terminate() {
  if (terminated_) return;
  terminated_ = true;
  context_.owner.on_terminated(*this);
}

bool complete_typed_fields(SipMessage& message) {
  if (message.vias.empty()) {
    for (std::string_view value : message.header_values("Via")) {
      auto via = parse_via(value);
      if (!via) return false;
      message.vias.push_back(std::move(*via));
    }
    if (message.vias.empty()) return false;
  }
  if (message.cseq.method.empty()) {
    const std::string* value = message.header("CSeq");
    if (value == nullptr) return false;
    auto cseq = parse_cseq(*value);
    if (!cseq) return false;
    message.cseq = std::move(*cseq);
  }
  if (message.call_id.empty()) {
    if (const std::string* value = message.header("Call-ID")) message.call_id = *value;
  }
  if (message.from.uri_text.empty()) {
    if (const std::string* value = message.header("From")) {
      if (auto from = parse_name_addr(*value)) message.from = std::move(*from);
    }
  }
  if (message.to.uri_text.empty()) {
    if (const std::string* value = message.header("To")) {
      if (auto to = parse_name_addr(*value)) message.to = std::move(*to);
    }
  }
  return true;
}

std::string to_tag_of(const SipMessage& message) {
  if (!message.to.uri_text.empty()) return message.to.tag();
  const std::string* value = message.header("To");
  if (value == nullptr) return {};
  auto to = parse_name_addr(*value);
  return to ? to->tag() : std::string();
}

std::string_view branch_of(const Via& via) {
  const GenericParam* branch = find_param(via.params, "branch");
  return branch != nullptr ? std::string_view(branch->value) : std::string_view();
}

}  // namespace chorus::sip
