#include "conference/trunks/trunk_dial_out.hpp"

#include <boost/asio/ip/address.hpp>

#include "conference/trunks/number_normalization.hpp"
#include "signaling/message/sip_uri.hpp"

namespace chorus::conference {
namespace {

sip::TransportKind transport_kind(const TrunkTarget& target) {
  if (target.transport == TrunkTransport::kTcp) return sip::TransportKind::kTcp;
  if (target.transport == TrunkTransport::kTls) return sip::TransportKind::kTls;
  return sip::TransportKind::kUdp;
}

std::string host_part(const TrunkTarget& target) {
  std::string host = sip::bracket_host(target.host);
  if (target.port) host += ":" + std::to_string(*target.port);
  return host;
}

// The user part to dial: a number normalised with the trunk's numbering, or a SIP URI's user.
std::expected<std::string, std::string> called_user(const Trunk& trunk, std::string_view to) {
  if (to.starts_with("sip:") || to.starts_with("sips:")) {
    auto uri = sip::parse_uri(to);
    if (!uri || uri->user.empty()) return std::unexpected(std::string("a SIP URI with a user part"));
    if (!looks_like_number(uri->user)) return uri->user;
    to = uri->user;
    auto number = normalize_number(to, trunk.numbering);
    if (!number) return std::unexpected(std::string(to_string(number.error())));
    return *number;
  }
  auto number = normalize_number(to, trunk.numbering);
  if (!number) return std::unexpected(std::string(to_string(number.error())));
  return *number;
}

}  // namespace

std::expected<void, std::string> prepare_trunk_call(const Trunk& trunk, std::string_view to,
                                                    sip::OutgoingCallRequest& call) {
  if (trunk.targets.empty()) return std::unexpected(std::string("the trunk has no targets"));
  auto user = called_user(trunk, to);
  if (!user) return std::unexpected(user.error());
  const TrunkTarget& first = trunk.targets.front();
  call.target = "sip:" + *user + "@" + host_part(first);
  if (first.transport && *first.transport != TrunkTransport::kUdp) {
    call.target += ";transport=" + std::string(to_string(*first.transport));
  }
  // Preset hops when every target is an IP literal; a name is left to the UA's locator/resolver.
  std::vector<sip::LocatedHop> hops;
  for (const TrunkTarget& target : trunk.targets) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(target.host, ec);
    if (ec) {
      hops.clear();
      break;
    }
    const std::uint16_t port = target.port.value_or(target.transport == TrunkTransport::kTls ? 5061 : 5060);
    hops.push_back({sip::PeerAddress{transport_kind(target), address, port, 0}, target.host});
  }
  call.hops = std::move(hops);
  call.check_address = {};  // the administrator's targets (see the header)
  if (trunk.outbound) {
    call.credentials =
        sip::DigestCredentials{.username = trunk.outbound->username, .password = trunk.outbound->password};
  }
  call.from_host = sip::bracket_host(first.host);
  if (!trunk.caller_id.empty()) {
    // RFC 3325 §9.1: the identity the trunk asserts for us; the From user says the same.
    if (trunk.caller_id.starts_with("sip:") || trunk.caller_id.starts_with("sips:") ||
        trunk.caller_id.starts_with("tel:")) {
      call.extra_headers.push_back({"P-Asserted-Identity", "<" + trunk.caller_id + ">"});
      if (auto uri = sip::parse_uri(trunk.caller_id); uri && !uri->user.empty()) call.from_user = uri->user;
      if (trunk.caller_id.starts_with("tel:")) call.from_user = trunk.caller_id.substr(4);
    } else {
      call.extra_headers.push_back({"P-Asserted-Identity", "<sip:" + trunk.caller_id + "@" + call.from_host + ">"});
      call.from_user = trunk.caller_id;
    }
  }
  return {};
}

}  // namespace chorus::conference
