#include "signaling/transport/peer_address.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace chorus::sip {

namespace {

// Via transport tokens (RFC 3261 §20.42, RFC 7118 §5.1 for WS/WSS), in TransportKind order.
constexpr std::array<std::pair<TransportKind, std::string_view>, 5> kNames{{
    {TransportKind::kUdp, "UDP"},
    {TransportKind::kTcp, "TCP"},
    {TransportKind::kTls, "TLS"},
    {TransportKind::kWs, "WS"},
    {TransportKind::kWss, "WSS"},
}};

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view transport_name(TransportKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "UDP";
}

std::optional<TransportKind> transport_from_name(std::string_view name) {
  for (const auto& [kind, text] : kNames) {
    if (equals_ignore_case(name, text)) return kind;
  }
  return std::nullopt;
}

std::string PeerAddress::to_string() const {
  std::string out;
  for (char c : transport_name(kind)) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += ':';
  if (address.is_v6()) {
    out += '[' + address.to_string() + ']';
  } else {
    out += address.to_string();
  }
  out += ':' + std::to_string(port);
  if (connection != 0) out += '#' + std::to_string(connection);
  return out;
}

}  // namespace chorus::sip
