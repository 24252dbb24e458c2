// Reading a DNS answer (RFC 1035 §4) for the SIP locator (dns_sip_locator.hpp): the records of one
// question — A, AAAA, SRV (RFC 2782) or NAPTR (RFC 3403) — their TTLs, the CNAME chain leading to
// them, and the negative-caching TTL of an NXDOMAIN/NODATA answer (RFC 2308 §5).
//
// c-ares 1.18 has parsers for these, but its SRV and NAPTR ones drop the TTLs the cache needs; this
// one reads the raw answer. An answer is attacker-controlled (any on-path host, or the server of a
// name an attacker owns), so everything is bounded and checked before it is read, never trusted:
//   - every length against the message; names at most 255 octets (RFC 1035 §2.3.4), labels ≤ 63;
//   - compression pointers only backwards (RFC 1035 §4.1.4 "a prior occurrence"), at most 32 per
//     name: a pointer loop ends as an error, never as a hang;
//   - at most `max_resource_records` RRs looked at, `max_records` of the asked type kept, a CNAME
//     chain of at most `max_cname_chain` links (longer, or a loop: an error);
//   - only class IN; records owned by names other than the question's (or its CNAME chain's) are
//     ignored, as is the additional section (no glue is trusted);
//   - names are lower-cased; one carrying a byte other than a letter, digit, '-' or '_' is never
//     used (its record is ignored), so nothing odd reaches a later query or a log line.
// A structural error (a length past the end, a bad pointer or label) fails the whole answer; an
// unreadable record's data only drops that record (counted in `ignored`).
//
// Threading: a pure function.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::sip::dns {

enum class RecordType : std::uint16_t { kA = 1, kCname = 5, kSoa = 6, kAaaa = 28, kSrv = 33, kNaptr = 35 };

inline constexpr std::uint8_t kRcodeNoError = 0;
inline constexpr std::uint8_t kRcodeNxDomain = 3;

struct SrvRecord {  // RFC 2782
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // lower-case, no trailing dot; "" is the root: "decidedly not available"
  bool operator==(const SrvRecord&) const = default;
};

struct NaptrRecord {  // RFC 3403 §4.1
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  std::string flags;        // lower-cased
  std::string service;      // lower-cased, e.g. "sip+d2u"
  std::string regexp;       // as sent
  std::string replacement;  // lower-case, no trailing dot; "" when "."
  bool operator==(const NaptrRecord&) const = default;
};

struct DnsAnswerLimits {
  std::size_t max_records = 32;            // records of the asked type kept; more are ignored
  std::size_t max_resource_records = 256;  // RRs read in the answer and authority sections
  std::size_t max_cname_chain = 8;         // CNAME links followed from the question's name
};

struct DnsAnswer {
  std::uint8_t rcode = kRcodeNoError;
  std::string name;  // whom the records belong to: the question's name or the end of its CNAME chain
  std::vector<boost::asio::ip::address> addresses;  // A or AAAA
  std::vector<SrvRecord> srv;
  std::vector<NaptrRecord> naptr;
  std::uint32_t ttl = 0;                      // the smallest TTL of the records kept and the CNAMEs leading to them
  std::optional<std::uint32_t> negative_ttl;  // with no records: min(SOA TTL, SOA MINIMUM), if an SOA came
  std::size_t ignored = 0;                    // records dropped: over a limit, unreadable data, odd names

  [[nodiscard]] bool has_records() const { return !addresses.empty() || !srv.empty() || !naptr.empty(); }
};

// Reads `message` (a whole DNS response) for the records of type `type` owned by `qname` (any case,
// with or without the trailing dot) or by the end of its CNAME chain.
std::expected<DnsAnswer, std::string> parse_dns_answer(std::span<const std::uint8_t> message, std::string_view qname,
                                                       RecordType type, const DnsAnswerLimits& limits = {});

// `name` lower-cased without a trailing dot: the form names are compared and cached in.
std::string normalize_dns_name(std::string_view name);

}  // namespace chorus::sip::dns
