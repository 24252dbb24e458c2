#include "signaling/transport/address_range.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>

#include "signaling/transport/via_routing.hpp"

namespace chorus::sip {
namespace {

namespace ip = boost::asio::ip;

// The address as 16 bytes: IPv4 as its IPv4-mapped IPv6 form (RFC 4291 §2.5.5.2), so one bit
// comparison serves both families.
std::array<unsigned char, 16> as_v6_bytes(const ip::address& address) {
  if (address.is_v4()) return ip::make_address_v6(ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

// Compares the first `bits` bits.
bool prefix_equal(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, unsigned bits) {
  std::size_t i = 0;
  for (; bits >= 8; bits -= 8, ++i)
    if (a[i] != b[i]) return false;
  if (bits == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFU << (8 - bits));
  return (a[i] & mask) == (b[i] & mask);
}

std::string_view trim_spaces(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool AddressRange::contains(const ip::address& address) const {
  const auto ours = as_v6_bytes(network);
  const auto theirs = as_v6_bytes(normalize_address(address));
  // An IPv4 range covers the mapped block: its prefix sits after the 96 bits of ::ffff:0:0/96.
  const unsigned bits = network.is_v4() ? 96 + prefix_length : prefix_length;
  return prefix_equal(ours, theirs, bits);
}

std::string AddressRange::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix_length);
}

std::expected<AddressRange, std::string> parse_address_range(std::string_view text) {
  text = trim_spaces(text);
  if (text.empty()) return std::unexpected("empty address range");
  const std::size_t slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  // An IPv6 zone (RFC 4007 §11: "fe80::1%eth0") names a link, not a range of sources, and Boost reads
  // a numeric one with atoi: "%18446744072826008736" printed back as another number (source_limiter_fuzz).
  if (address_text.find('%') != std::string::npos)
    return std::unexpected("\"" + std::string(text) + "\": a zone (%...) has no place in an address range");
  boost::system::error_code ec;
  const auto address = normalize_address(ip::make_address(address_text, ec));
  if (ec) return std::unexpected("\"" + std::string(text) + "\": not an IP address or CIDR range");
  const unsigned max_bits = address.is_v4() ? 32 : 128;
  unsigned bits = max_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || bits > max_bits)
      return std::unexpected("\"" + std::string(text) + "\": prefix length must be 0.." + std::to_string(max_bits));
  }
  AddressRange range{address, bits};
  const auto all = as_v6_bytes(address);
  const unsigned offset = address.is_v4() ? 96 : 0;
  // Host bits below the prefix must be zero: the range is exactly what it says.
  for (unsigned bit = offset + bits; bit < 128; ++bit) {
    if ((all[bit / 8] >> (7 - bit % 8)) & 1U)
      return std::unexpected("\"" + std::string(text) + "\": host bits set below the /" + std::to_string(bits) +
                             " prefix");
  }
  return range;
}

std::expected<std::vector<AddressRange>, std::string> parse_address_ranges(std::string_view text) {
  std::vector<AddressRange> ranges;
  if (trim_spaces(text).empty()) return ranges;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    auto range = parse_address_range(text.substr(start, comma - start));
    if (!range) return std::unexpected(range.error());
    ranges.push_back(*range);
    start = comma + 1;
  }
  return ranges;
}

bool any_contains(std::span<const AddressRange> ranges, const ip::address& address) {
  return std::ranges::any_of(ranges, [&](const AddressRange& range) { return range.contains(address); });
}

}  // namespace chorus::sip
