// A SIP trunk (issue 15): a provider or a company PBX that carries calls between the telephone
// network and Chorus. Where to send (targets), how to register there (RFC 3261 §10), the
// credentials for challenged dial-outs (RFC 3261 §22.2), how its inbound calls are recognised
// (source ranges, or the registration's Contact), how its numbers read (TrunkNumbering, turned
// into E.164 by number_normalization.hpp) and the caller-ID to present.
// Plain values; the REST layer validates them (rest-api/api/trunk_routes.cpp), the store keeps
// them (conference/store/trunk_rows.hpp) with the passwords in their own columns, never returned.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

enum class TrunkTransport { kUdp, kTcp, kTls };

constexpr std::string_view to_string(TrunkTransport transport) {
  switch (transport) {
    case TrunkTransport::kUdp:
      return "udp";
    case TrunkTransport::kTcp:
      return "tcp";
    case TrunkTransport::kTls:
      return "tls";
  }
  return "udp";
}

constexpr std::optional<TrunkTransport> trunk_transport_from(std::string_view text) {
  if (text == "udp") return TrunkTransport::kUdp;
  if (text == "tcp") return TrunkTransport::kTcp;
  if (text == "tls") return TrunkTransport::kTls;
  return std::nullopt;
}

// One place the trunk's calls and registrations go: a host name or an IP literal, with the port
// and transport when they are fixed (otherwise RFC 3263 decides, or 5060 over UDP).
struct TrunkTarget {
  std::string host;
  std::optional<std::uint16_t> port;
  std::optional<TrunkTransport> transport;
  bool operator==(const TrunkTarget&) const = default;
};

// Outbound registration (RFC 3261 §10.2): Chorus registers `contact_user`@<its address> as
// `username` at the trunk's first target, refreshing before `expires` runs out.
struct TrunkRegistration {
  std::string username;
  std::string password;  // write-only: REST shows password_set
  std::string realm;     // empty: answer whichever realm challenges
  std::chrono::seconds expires{600};
  std::string contact_user;  // empty: the username
  bool operator==(const TrunkRegistration&) const = default;
};

// Digest credentials for requests the trunk challenges (dial-out INVITE, 401/407).
struct TrunkCredentials {
  std::string username;
  std::string password;  // write-only
  bool operator==(const TrunkCredentials&) const = default;
};

// How the trunk writes numbers, to turn them into E.164 (ITU-T E.164, RFC 3966 §5.1.4 global
// numbers): "0301234567" with national prefix "0" and country code "49" is "+49301234567";
// "0049301234567" with international prefix "00" is the same.
struct TrunkNumbering {
  std::string country_code;                 // "49"; empty: national numbers are not normalised
  std::string national_prefix = "0";        // trunk prefix; empty: none
  std::string international_prefix = "00";  // exit code; empty: none
  bool operator==(const TrunkNumbering&) const = default;
};

struct Trunk {
  std::string id;  // "trk_" + random
  std::string name;
  std::vector<TrunkTarget> targets;  // at least one; the first is the registrar
  std::optional<TrunkRegistration> registration;
  std::optional<TrunkCredentials> outbound;
  // Inbound identification: an INVITE whose source address is in one of these CIDR ranges
  // (signaling/transport/address_range.hpp) comes from this trunk…
  std::vector<std::string> inbound_ranges;
  // …or, when set, one whose Request-URI user is the registration's Contact user (a provider
  // sends calls to the Contact we registered, RFC 3261 §10.2.1).
  bool inbound_from_registration = false;
  TrunkNumbering numbering;
  std::string caller_id;  // presented in P-Asserted-Identity (RFC 3325) and the From user; empty: none
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
  std::uint64_t version = 1;  // the store's; the REST ETag
};

}  // namespace chorus::conference
