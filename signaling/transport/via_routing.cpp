#include "signaling/transport/via_routing.hpp"

#include <charconv>

namespace chorus::sip {

namespace {

GenericParam* find_mutable_param(std::vector<GenericParam>& params, std::string_view name) {
  for (auto& param : params) {
    if (iequals(param.name, name)) return &param;
  }
  return nullptr;
}

void set_param(std::vector<GenericParam>& params, std::string_view name, std::string value) {
  if (GenericParam* existing = find_mutable_param(params, name)) {
    existing->value = std::move(value);
    existing->has_value = true;
    return;
  }
  params.push_back(GenericParam{std::string(name), std::move(value), true});
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// The `received` parameter as an address; a malformed value is treated as absent.
std::optional<boost::asio::ip::address> received_address(const Via& via) {
  const GenericParam* received = find_param(via.params, "received");
  if (received == nullptr || !received->has_value) return std::nullopt;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(received->value, ec);
  if (ec) return std::nullopt;
  return normalize_address(address);
}

std::expected<boost::asio::ip::address, std::string> host_or_received(const Via& via) {
  if (auto received = received_address(via)) return *received;
  if (auto host = literal_host_address(via.host)) return *host;
  return std::unexpected("sent-by host '" + via.host + "' is not an IP literal and there is no received");
}

}  // namespace

boost::asio::ip::address normalize_address(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

std::optional<boost::asio::ip::address> literal_host_address(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (iequals(host, "localhost")) return boost::asio::ip::address_v4::loopback();
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return normalize_address(address);
}

std::uint16_t default_sip_port(TransportKind kind) {
  return kind == TransportKind::kTls ? 5061 : 5060;
}

std::optional<Via> top_via(const SipMessage& message) {
  if (!message.vias.empty()) return message.vias.front();
  const std::string* value = message.header("Via");
  if (value == nullptr) return std::nullopt;
  // A Via header built for sending holds one value; if someone joined several, take the first.
  const auto parts = split_header_list(*value);
  if (parts.empty()) return std::nullopt;
  auto via = parse_via(parts.front());
  if (!via) return std::nullopt;
  return std::move(*via);
}

bool stamp_top_via(SipMessage& request, const boost::asio::ip::address& source_ip, std::uint16_t source_port) {
  if (request.vias.empty()) return false;
  Via& via = request.vias.front();
  const auto source = normalize_address(source_ip);
  const GenericParam* rport = find_param(via.params, "rport");
  const auto host = literal_host_address(via.host);
  // "localhost" is a name, not the literal the sender saw itself as: only a literal may match.
  const bool host_is_source = host.has_value() && !iequals(via.host, "localhost") && *host == source;
  // RFC 3581 §4: with rport, received is added even when it equals the sent-by host.
  if (!host_is_source || rport != nullptr) {
    set_param(via.params, "received", source.to_string());
  } else {
    // §18.2.1 adds received only when the host differs; one the sender wrote itself is a lie.
    std::erase_if(via.params, [](const GenericParam& p) { return iequals(p.name, "received"); });
  }
  if (rport != nullptr) set_param(via.params, "rport", std::to_string(source_port));

  for (auto& header : request.headers) {
    if (iequals(header.name, "Via")) {
      header.value = via.to_string();
      break;
    }
  }
  return true;
}

std::expected<ResponseRoute, std::string> response_route(const Via& via, const PeerAddress& source) {
  ResponseRoute route;
  route.kind = source.kind;
  if (is_reliable(source.kind)) {
    // §18.2.2: reconnect to received (or sent-by) at the sent-by port.
    auto address = host_or_received(via);
    if (!address) return std::unexpected(address.error());
    route.address = *address;
    route.port = via.port.value_or(default_sip_port(source.kind));
  } else if (const GenericParam* rport = find_param(via.params, "rport"); rport != nullptr) {
    // RFC 3581 §4: to the source IP and port the request came from. An rport still without a
    // value was never stamped (a hand-built response): the source it names is the request's.
    route.address = received_address(via).value_or(normalize_address(source.address));
    route.port = (rport->has_value ? parse_port(rport->value) : std::nullopt).value_or(source.port);
  } else {
    // §18.2.2: maddr is for multicast, which this server does not do; use received / sent-by.
    auto address = host_or_received(via);
    if (!address) return std::unexpected(address.error());
    route.address = *address;
    route.port = via.port.value_or(default_sip_port(source.kind));
  }
  if (route.port == 0) return std::unexpected("Via port 0");
  if (route.address.is_unspecified() || route.address.is_multicast()) {
    return std::unexpected("Via address " + route.address.to_string() + " is not a unicast address");
  }
  return route;
}

}  // namespace chorus::sip
