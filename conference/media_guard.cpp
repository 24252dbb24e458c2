#include "conference/media_guard.hpp"

#include <algorithm>
#include <charconv>

namespace chorus::conference {
namespace {

using boost::asio::ip::address;

// IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is that IPv4 address for every check here.
address normalized(const address& ip) {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6());
  return ip;
}

std::optional<address> ip_literal(std::string_view text) {
  std::string literal(text);
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
    literal = literal.substr(1, literal.size() - 2);
  boost::system::error_code error;
  auto ip = boost::asio::ip::make_address(literal, error);
  if (error) return std::nullopt;
  return normalized(ip);
}

bool is_multicast_or_broadcast(const address& ip) {
  if (ip.is_multicast()) return true;
  return ip.is_v4() && ip.to_v4() == boost::asio::ip::address_v4::broadcast();
}

bool is_link_local(const address& ip) {
  if (ip.is_v6()) return ip.to_v6().is_link_local();
  return (ip.to_v4().to_uint() & 0xffff0000U) == 0xa9fe0000U;  // 169.254.0.0/16, RFC 3927
}

sdp::NegotiationError refused(std::string reason) {
  return sdp::NegotiationError{488, 305, std::move(reason)};
}

// Why `connection` may not be sent to, or nullopt. `hold`: the section is sendonly/inactive.
std::optional<sdp::NegotiationError> check_connection(const sdp::Connection& connection, bool hold,
                                                      const address& signaling_source,
                                                      const MediaGuardSettings& settings) {
  if (connection.is_multicast()) return refused("Multicast media address refused");
  auto ip = ip_literal(connection.address);
  if (!ip) return std::nullopt;  // a host name: never resolved, never sent to before RTP proves a source
  if (ip->is_unspecified()) {
    // RFC 3264 §8.4: 0.0.0.0 is the RFC 2543 hold; it means "do not send", never "send here".
    if (hold) return std::nullopt;
    return refused("Unspecified media address refused");
  }
  if (is_multicast_or_broadcast(*ip)) return refused("Multicast media address refused");
  if (is_link_local(*ip)) return refused("Link-local media address refused");
  if (ip->is_loopback() && !normalized(signaling_source).is_loopback())
    return refused("Loopback media address refused");
  for (const auto& range : settings.deny_ranges)
    if (range.contains(*ip)) return refused("Media address in a denied range");
  return std::nullopt;
}

bool uses_ice(const sdp::SessionDescription& description, const sdp::MediaDescription& m) {
  return m.has_attribute("ice-ufrag") || description.has_attribute("ice-ufrag");
}

}  // namespace

bool IpRange::contains(const address& candidate) const {
  const auto ip = normalized(candidate);
  if (ip.is_v4() != network.is_v4()) return false;
  if (ip.is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (ip.to_v4().to_uint() & mask) == network.to_v4().to_uint();
  }
  const auto bytes = ip.to_v6().to_bytes();
  const auto net = network.to_v6().to_bytes();
  for (unsigned bit = 0; bit < prefix; bit += 8) {
    const unsigned bits = std::min(8U, prefix - bit);
    const auto mask = static_cast<std::uint8_t>(0xff00U >> bits);
    if ((bytes[bit / 8] & mask) != net[bit / 8]) return false;
  }
  return true;
}

std::string IpRange::to_string() const {
  return network.to_string() + "/" + std::to_string(prefix);
}

std::expected<IpRange, std::string> parse_ip_range(std::string_view text) {
  const auto slash = text.find('/');
  auto ip = ip_literal(text.substr(0, slash));
  if (!ip) return std::unexpected("not an IP address: " + std::string(text.substr(0, slash)));
  const unsigned width = ip->is_v4() ? 32 : 128;
  unsigned prefix = width;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (error != std::errc() || end != digits.data() + digits.size() || digits.empty() || prefix > width)
      return std::unexpected("bad prefix length in " + std::string(text));
  }
  IpRange range{*ip, prefix};
  // Clear the host bits so that contains() compares networks.
  if (ip->is_v4()) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    range.network = boost::asio::ip::address_v4(ip->to_v4().to_uint() & mask);
  } else {
    auto bytes = ip->to_v6().to_bytes();
    for (unsigned i = 0; i < bytes.size(); ++i) {
      const unsigned start = i * 8;
      const unsigned keep = prefix <= start ? 0 : std::min(8U, prefix - start);
      bytes[i] = static_cast<std::uint8_t>(bytes[i] & (0xff00U >> keep));
    }
    range.network = boost::asio::ip::address_v6(bytes);
  }
  return range;
}

std::optional<sdp::NegotiationError> check_media_addresses(const sdp::SessionDescription& description,
                                                           const address& signaling_source,
                                                           const MediaGuardSettings& settings) {
  for (const auto& m : description.media) {
    if (m.is_rejected() || uses_ice(description, m)) continue;
    const auto direction = description.effective_direction(m);
    const bool hold = direction == sdp::Direction::kSendOnly || direction == sdp::Direction::kInactive;
    if (const auto* connection = description.effective_connection(m))
      if (auto error = check_connection(*connection, hold, signaling_source, settings)) return error;
    if (auto rtcp = m.rtcp(); rtcp && rtcp->connection)
      if (auto error = check_connection(*rtcp->connection, hold, signaling_source, settings)) return error;
  }
  return std::nullopt;
}

bool proven_by_signaling(std::string_view sdp_address, const address& signaling_source) {
  auto ip = ip_literal(sdp_address);
  return ip && !ip->is_unspecified() && *ip == normalized(signaling_source);
}

void add_remote_payload_types(const sdp::NegotiatedStream& stream, std::vector<std::uint8_t>& out) {
  auto add = [&](int payload_type) {
    if (payload_type >= 0 && payload_type < 128) out.push_back(static_cast<std::uint8_t>(payload_type));
  };
  add(stream.payload_type);
  if (stream.telephone_event_pt) add(*stream.telephone_event_pt);
  for (const auto& format : stream.video_formats) {
    add(format.payload_type);
    if (format.rtx_payload_type) add(*format.rtx_payload_type);
  }
}

}  // namespace chorus::conference
