#include "signaling/dialog/dialog.hpp"

#include <boost/system/error_code.hpp>
#include "common/random.hpp"

namespace chorus::sip {
namespace {

std::string without_tag_text(const NameAddr& addr) {
  NameAddr copy = addr;
  std::erase_if(copy.params, [](const GenericParam& p) { return p.name == "tag"; });
  return copy.to_string();
}

std::string with_tag(const std::string& uri_text, const std::string& tag) {
  return tag.empty() ? uri_text : uri_text + ";tag=" + tag;
}

}  // namespace

std::string DialogId::key_for_incoming(const SipMessage& request) {
  return request.call_id + '\n' + request.to.tag() + '\n' + request.from.tag();
}

std::string DialogId::key_for_response(const SipMessage& response) {
  return response.call_id + '\n' + response.from.tag() + '\n' + response.to.tag();
}

Dialog Dialog::from_request(const SipMessage& request, std::string local_tag, const PeerAddress& source) {
  Dialog d;
  d.role_ = DialogRole::kUas;
  d.id_ = DialogId{request.call_id, std::move(local_tag), request.from.tag()};
  d.local_uri_ = without_tag_text(request.to);
  d.remote_uri_ = without_tag_text(request.from);
  d.remote_target_ = request.contacts.empty() ? request.from.uri_text : request.contacts.front().uri_text;
  for (auto rr : request.header_values("Record-Route")) d.route_set_.emplace_back(rr);
  d.remote_cseq_ = request.cseq.number;
  // §12.1.1 leaves the UAS's first CSeq free; a small random start makes stale requests obvious.
  d.local_cseq_ = static_cast<std::uint32_t>(random_u64() % 10000) + 1;
  d.flow_ = source;
  return d;
}

bool Dialog::accept_remote_cseq(std::uint32_t cseq) {
  if (remote_cseq_ && cseq < *remote_cseq_) return false;
  remote_cseq_ = cseq;
  return true;
}

void Dialog::refresh_remote_target(const SipMessage& request) {
  if (!request.contacts.empty() && !request.contacts.front().wildcard)
    remote_target_ = request.contacts.front().uri_text;
}

SipMessage Dialog::make_request(std::string_view method, std::string_view contact) {
  SipMessage m;
  m.is_request = true;
  m.method = std::string(method);
  ++local_cseq_;
  // §12.2.1.1 with loose routing (RFC 3261 §16.12): Request-URI is the remote target and the
  // route set goes into Route. A strict router (no ;lr) gets the remote target appended instead.
  bool strict = false;
  if (!route_set_.empty()) {
    auto first = parse_name_addr(route_set_.front());
    strict = first && !first->uri.has_param("lr");
  }
  if (strict) {
    auto first = parse_name_addr(route_set_.front());
    m.request_uri_text = first->uri_text;
    for (std::size_t i = 1; i < route_set_.size(); ++i) m.add_header("Route", route_set_[i]);
    m.add_header("Route", "<" + remote_target_ + ">");
  } else {
    m.request_uri_text = remote_target_;
    for (const auto& r : route_set_) m.add_header("Route", r);
  }
  m.add_header("Max-Forwards", "70");
  m.add_header("From", with_tag(local_uri_, id_.local_tag));
  m.add_header("To", with_tag(remote_uri_, id_.remote_tag));
  m.add_header("Call-ID", id_.call_id);
  m.add_header("CSeq", std::to_string(local_cseq_) + " " + m.method);
  // RFC 3261 §20.10: a Contact has a value. A caller with none (an INFO, which cannot establish a
  // dialog and so needs no Contact, §8.1.1.8) sends no header rather than an empty one, which
  // strict parsers (JsSIP) reject with the whole request.
  if (!contact.empty() && method != "BYE" && method != "CANCEL" && method != "ACK")
    m.add_header("Contact", std::string(contact));
  return m;
}

SipMessage Dialog::make_ack(std::uint32_t invite_cseq, std::string_view contact) const {
  Dialog copy = *this;
  copy.local_cseq_ = invite_cseq - 1;
  SipMessage ack = copy.make_request("ACK", contact);
  ack.set_header("CSeq", std::to_string(invite_cseq) + " ACK");
  return ack;
}

PeerAddress Dialog::next_hop() const {
  if (is_reliable(flow_.kind)) return flow_;
  std::string target = remote_target_;
  if (!route_set_.empty()) {
    if (auto first = parse_name_addr(route_set_.front())) target = first->uri_text;
  }
  if (auto uri = parse_uri(target)) {
    if (auto addr = address_of_uri(*uri, flow_.kind); addr && addr->kind == flow_.kind) return *addr;
  }
  return flow_;
}

std::optional<PeerAddress> address_of_uri(const SipUri& uri, TransportKind fallback_kind) {
  if (!uri.is_sip()) return std::nullopt;
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(uri.host, ec);
  if (ec) return std::nullopt;
  PeerAddress out;
  out.address = ip;
  out.kind = fallback_kind;
  if (auto t = uri.param_value("transport")) {
    if (auto k = transport_from_name(*t)) out.kind = *k;
  }
  if (uri.scheme == "sips" && out.kind == TransportKind::kTcp) out.kind = TransportKind::kTls;
  out.port = uri.port.value_or(out.kind == TransportKind::kTls ? 5061 : 5060);
  return out;
}

}  // namespace chorus::sip
