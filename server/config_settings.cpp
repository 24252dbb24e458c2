#include "server/config_settings.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>
#include <type_traits>

#include <boost/asio/ip/address.hpp>

#include "conference/egress_policy.hpp"
#include "conference/media_guard.hpp"
#include "conference/store/postgres_connection.hpp"
#include "signaling/transport/ws_origin.hpp"

namespace chorus::server {
namespace {

using Applied = std::expected<void, std::string>;

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

template <typename T>
struct IsDuration : std::false_type {};
template <typename Rep, typename Period>
struct IsDuration<std::chrono::duration<Rep, Period>> : std::true_type {};

// An unsigned integer (or a std::chrono count) in kMin..kMax, stored through a pointer-to-member.
template <auto kMember, std::uint64_t kMin, std::uint64_t kMax>
Applied apply_number(Config& config, std::string_view text) {
  const auto value = parse_uint(text);
  if (!value || *value < kMin || *value > kMax)
    return std::unexpected("an integer from " + std::to_string(kMin) + " to " + std::to_string(kMax));
  using Field = std::remove_reference_t<decltype(config.*kMember)>;
  if constexpr (IsDuration<Field>::value) {
    config.*kMember = Field{static_cast<typename Field::rep>(*value)};
  } else {
    config.*kMember = static_cast<Field>(*value);
  }
  return {};
}

template <auto kMember>
std::string show_number(const Config& config) {
  using Field = std::remove_cvref_t<decltype(config.*kMember)>;
  if constexpr (IsDuration<Field>::value) {
    return std::to_string((config.*kMember).count());
  } else {
    return std::to_string(config.*kMember);
  }
}

template <auto kMember>
std::string show_text(const Config& config) {
  return config.*kMember;
}

bool is_ipv4_literal(const std::string& text) {
  in_addr addr{};
  return inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool is_ipv6_literal(const std::string& text) {
  in6_addr addr{};
  return inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

bool is_unspecified_address(const std::string& text) {
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return v4.s_addr == 0;
  in6_addr v6{};
  return inet_pton(AF_INET6, text.c_str(), &v6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&v6);
}

bool has_nul(std::string_view text) {
  return text.find('\0') != std::string_view::npos;
}

Applied apply_bind(Config& config, std::string_view text) {
  const std::string address(text);
  if (has_nul(text) || !(is_ipv4_literal(address) || is_ipv6_literal(address)))
    return std::unexpected("an IPv4 or IPv6 address literal such as 0.0.0.0, 192.0.2.10, :: or ::1");
  config.bind = address;
  return {};
}

// The address written into Via/Contact and SDP c= lines (RFC 4566 §5.7), so it has to be one a
// peer can send to: a wildcard address would make every callee's media go nowhere.
Applied apply_public_ip(Config& config, std::string_view text) {
  const std::string address(text);
  const bool literal = !has_nul(text) && (is_ipv4_literal(address) || is_ipv6_literal(address));
  if (!text.empty() && (!literal || is_unspecified_address(address)))
    return std::unexpected("empty (derive it) or a reachable IPv4 or IPv6 address literal, not 0.0.0.0 or ::");
  config.public_ip = address;
  return {};
}

Applied apply_data_dir(Config& config, std::string_view text) {
  if (text.empty() || has_nul(text)) return std::unexpected("a non-empty directory path");
  config.data_dir = std::string(text);
  return {};
}

// Issue 14: empty keeps the store in data_dir (SQLite); a PostgreSQL URI puts it on that server.
// The URI may hold a password, so the setting is secret (errors never quote it) and shows masked.
Applied apply_store(Config& config, std::string_view text) {
  if (!text.empty()) {
    if (!conference::pg::is_postgres_uri(text))
      return std::unexpected("empty (SQLite in data_dir) or a postgresql:// or postgres:// URI");
    if (auto valid = conference::pg::check_conninfo(text); !valid) return std::unexpected(valid.error());
  }
  config.store = std::string(text);
  return {};
}

std::string show_store(const Config& config) {
  return conference::pg::redact_conninfo(config.store);
}

// Issue 14: the node's name in chorus_nodes and chorus_placements (conference/cluster/), also in
// the REST answers and relayed events: a short token, so it fits every notification payload.
Applied apply_node_id(Config& config, std::string_view text) {
  const bool valid = !text.empty() && text.size() <= 64 && std::ranges::all_of(text, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
  });
  if (!valid) return std::unexpected("1 to 64 characters of A-Z, a-z, 0-9, '-', '_' and '.' (default: the host name)");
  config.node_id = std::string(text);
  return {};
}

// host:port as a SIP proxy (Kamailio's dispatcher) and other nodes' 302 Contact reach this node:
// a host name or IPv4 literal, or [IPv6]; a port 1-65535. Empty: the SIP listener's own.
Applied apply_node_sip_address(Config& config, std::string_view text) {
  const char* expected =
      "empty (the SIP listener's address and port) or host:port such as 10.0.0.7:5060 or [2001:db8::7]:5060";
  if (text.empty()) {
    config.node_sip_address.clear();
    return {};
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::unexpected(expected);
  const auto port = parse_uint(text.substr(colon + 1));
  const std::string_view host = text.substr(0, colon);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const bool host_ok =
      bracketed ? is_ipv6_literal(std::string(host.substr(1, host.size() - 2))) : std::ranges::all_of(host, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
      });
  if (!port || *port == 0 || *port > 65535 || !host_ok || text.size() > 255) return std::unexpected(expected);
  config.node_sip_address = std::string(text);
  return {};
}

// Where other nodes send REST clients about this node's conferences (307 Location): http:// or
// https://, a host, an optional port, no path. Empty: http://<public address>:<http port>.
Applied apply_node_http_url(Config& config, std::string_view text) {
  while (!text.empty() && text.back() == '/') text.remove_suffix(1);
  const bool scheme = text.starts_with("http://") || text.starts_with("https://");
  const std::string_view rest = scheme ? text.substr(text.find("://") + 3) : std::string_view();
  const bool valid = scheme && !rest.empty() && text.size() <= 255 &&
                     rest.find_first_of("/?#@ ") == std::string_view::npos &&
                     std::ranges::all_of(text, [](char c) { return c > 0x20 && c < 0x7f; });
  if (!text.empty() && !valid)
    return std::unexpected("empty (derived from the HTTP listener) or http://host[:port] such as http://10.0.0.7:8080");
  config.node_http_url = std::string(text);
  return {};
}

// A certificate or key that is missing is reported at startup, not at the first TLS handshake.
template <auto kMember>
Applied apply_pem_path(Config& config, std::string_view text) {
  if (has_nul(text)) return std::unexpected("the path of an existing PEM file");
  if (!text.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(std::filesystem::path(text), ec))
      return std::unexpected("the path of an existing regular PEM file (this one is missing or not a file)");
  }
  config.*kMember = std::string(text);
  return {};
}

Applied apply_prompts_dir(Config& config, std::string_view text) {
  std::error_code ec;
  if (has_nul(text) || (!text.empty() && !std::filesystem::is_directory(std::filesystem::path(text), ec)))
    return std::unexpected("the path of an existing folder of prompt recordings");
  config.prompts_dir = std::string(text);
  return {};
}

// server/share_dir.hpp: a folder holding prompts/ and web/ (a missing prompts/ is refused at start,
// when the prompts are loaded, with the file names it lacks).
Applied apply_share_dir(Config& config, std::string_view text) {
  std::error_code ec;
  if (has_nul(text) || (!text.empty() && !std::filesystem::is_directory(std::filesystem::path(text), ec)))
    return std::unexpected("the path of an existing folder holding prompts/ and web/ (such as /usr/share/chorus)");
  config.share_dir = std::string(text);
  return {};
}

// RFC 6750 §2.1: the token travels as `Authorization: Bearer <b64token>`, so it must fit that
// grammar; 16 characters at least so it cannot be guessed in a few tries.
constexpr std::size_t kMinAdminTokenLength = 16;

Applied apply_admin_token(Config& config, std::string_view text) {
  const auto is_token_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
  };
  const std::size_t body_end = text.find_last_not_of('=') + 1;  // npos + 1 == 0: all '='
  const bool grammar = body_end > 0 && std::all_of(text.begin(), text.begin() + body_end, is_token_char);
  if (!text.empty() && (!grammar || text.size() < kMinAdminTokenLength))
    return std::unexpected("empty (generate one) or at least " + std::to_string(kMinAdminTokenLength) +
                           " characters of A-Z a-z 0-9 - . _ ~ + / optionally followed by '=' "
                           "(RFC 6750 §2.1 b64token)");
  config.admin_token = std::string(text);
  return {};
}

std::string show_admin_token(const Config& config) {
  return config.admin_token.empty() ? std::string() : std::string("***");
}

// RFC 3550 §11: RTP uses an even port and RTCP the next odd one, so the range starts even.
Applied apply_rtp_ports(Config& config, std::string_view text) {
  const auto fail = [] {
    return std::unexpected<std::string>("LO-HI with LO even, LO < HI, both from 1024 to 65535 (e.g. 20000-29999)");
  };
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) return fail();
  const auto lo = parse_uint(text.substr(0, dash));
  const auto hi = parse_uint(text.substr(dash + 1));
  if (!lo || !hi || *lo < 1024 || *hi > 65535 || *lo % 2 != 0 || *lo >= *hi) return fail();
  config.rtp_ports = {static_cast<std::uint16_t>(*lo), static_cast<std::uint16_t>(*hi)};
  return {};
}

std::string show_rtp_ports(const Config& config) {
  return std::to_string(config.rtp_ports.first) + "-" + std::to_string(config.rtp_ports.last);
}

Applied apply_log_level(Config& config, std::string_view text) {
  constexpr std::array<std::string_view, 5> kAllowed{"trace", "debug", "info", "warn", "error"};
  const auto level = parse_log_level(text);
  if (std::find(kAllowed.begin(), kAllowed.end(), text) == kAllowed.end() || !level)
    return std::unexpected("one of trace, debug, info, warn, error");
  config.log_level = *level;
  return {};
}

std::string show_log_level(const Config& config) {
  return std::string(log_level_name(config.log_level));
}

// The codecs the media engine implements, with the only rtpmap each may carry.
struct KnownCodec {
  std::string_view name;
  std::uint32_t clock_rate;
  std::uint8_t channels;
};
constexpr std::array<KnownCodec, 4> kKnownCodecs{{
    {"opus", 48000, 2},  // RFC 7587 §7: always opus/48000/2 whatever is actually sent
    {"G722", 8000, 1},   // RFC 3551 §4.5.2: 8000 in SDP although sampled at 16 kHz
    {"PCMU", 8000, 1},   // RFC 3551 §4.5.14
    {"PCMA", 8000, 1},   // RFC 3551 §4.5.14
}};

// RFC 4855 §3: media subtype names compare case-insensitively.
const KnownCodec* find_codec(std::string_view name) {
  for (const KnownCodec& codec : kKnownCodecs) {
    if (codec.name.size() == name.size() &&
        std::equal(name.begin(), name.end(), codec.name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        }))
      return &codec;
  }
  return nullptr;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

std::optional<AudioCodecSetting> parse_codec(std::string_view item) {
  const std::size_t slash = item.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const KnownCodec* known = find_codec(item.substr(0, slash));
  std::string_view rest = item.substr(slash + 1);
  const std::size_t slash2 = rest.find('/');
  const auto rate = parse_uint(rest.substr(0, slash2));
  std::optional<std::uint64_t> channels = known ? std::optional<std::uint64_t>(known->channels) : std::nullopt;
  if (slash2 != std::string_view::npos) channels = parse_uint(rest.substr(slash2 + 1));
  if (!known || !rate || !channels || *rate != known->clock_rate || *channels != known->channels) return std::nullopt;
  return AudioCodecSetting{std::string(known->name), known->clock_rate, known->channels};
}

Applied apply_audio_codecs(Config& config, std::string_view text) {
  std::vector<AudioCodecSetting> codecs;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(text.substr(start, comma - start));
    const auto codec = parse_codec(item);
    const bool duplicate = codec && std::find(codecs.begin(), codecs.end(), *codec) != codecs.end();
    if (!codec || duplicate)
      return std::unexpected(
          "a comma-separated list without repeats, in preference order, of "
          "opus/48000/2, G722/8000, PCMU/8000, PCMA/8000 (name/rate[/channels]); \"" +
          std::string(item) + (duplicate ? "\" is repeated" : "\" is not one of them"));
    codecs.push_back(*codec);
    start = comma + 1;
  }
  config.audio_codecs = std::move(codecs);
  return {};
}

std::string show_audio_codecs(const Config& config) {
  std::string out;
  for (const AudioCodecSetting& codec : config.audio_codecs) {
    if (!out.empty()) out += ',';
    out += codec.name + "/" + std::to_string(codec.clock_rate);
    if (codec.channels != 1) out += "/" + std::to_string(codec.channels);
  }
  return out;
}

// A comma-separated list of origins or "*", each checked now so a typo fails at start, not when
// the first browser is refused.
Applied apply_ws_allowed_origins(Config& config, std::string_view text) {
  std::vector<std::string> origins;
  std::size_t start = 0;
  while (!trim(text).empty() && start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item(trim(text.substr(start, comma - start)));
    if (item != sip::kAnyOrigin) {
      if (auto origin = sip::parse_ws_origin(item); !origin)
        return std::unexpected(
            "empty (the server's own page), * (any page: unsafe) or a comma-separated list of "
            "origins scheme://host[:port] such as https://rooms.example.com; \"" +
            item + "\": " + origin.error());
    }
    origins.push_back(item);
    start = comma + 1;
  }
  config.ws_allowed_origins = std::move(origins);
  return {};
}

std::string show_ws_allowed_origins(const Config& config) {
  std::string out;
  for (const std::string& origin : config.ws_allowed_origins) {
    if (!out.empty()) out += ',';
    out += origin;
  }
  return out;
}

// A comma-separated list of CIDR ranges or addresses, each checked now.
Applied apply_sip_trusted_sources(Config& config, std::string_view text) {
  auto ranges = sip::parse_address_ranges(text);
  if (!ranges)
    return std::unexpected("a comma-separated list of addresses or CIDR ranges such as 10.0.0.0/8, 2001:db8::/32; " +
                           ranges.error());
  config.sip_trusted_sources = std::move(*ranges);
  return {};
}

std::string list_item_text(const std::string& item) {
  return item;
}
std::string list_item_text(const sip::AddressRange& range) {
  return range.to_string();
}

// A list setting shown as it is written: its items joined by commas.
template <auto kMember>
std::string show_list(const Config& config) {
  std::string out;
  for (const auto& item : config.*kMember) {
    if (!out.empty()) out += ',';
    out += list_item_text(item);
  }
  return out;
}

// The trimmed items of a comma-separated list (empty ones kept: the caller decides); none for "".
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (!trim(text).empty() && start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    items.emplace_back(trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return items;
}

constexpr std::uint64_t kMaxPort = 65535;

// A comma-separated list of CIDRs (192.0.2.0/24, 2001:db8::/32, or bare addresses), each checked now.
Applied apply_media_deny_ranges(Config& config, std::string_view text) {
  auto ranges = split_list(text);
  for (const std::string& item : ranges)
    if (auto range = conference::parse_ip_range(item); !range)
      return std::unexpected("empty or a comma-separated list of CIDRs such as 10.0.0.0/8,fd00::/8; \"" + item +
                             "\": " + range.error());
  config.media_deny_ranges = std::move(ranges);
  return {};
}

// Issue 12, egress: `dial_out_allow` as a comma-separated list, each entry checked now.
Applied apply_dial_out_allow(Config& config, std::string_view text) {
  auto entries = split_list(text);
  std::erase(entries, std::string());
  if (auto parsed = conference::parse_dial_out_allow(entries); !parsed)
    return std::unexpected(
        "empty or a comma-separated list of addresses, CIDR ranges, host names and *.domain "
        "wildcards such as 192.0.2.0/24,pbx.example.com,*.trunk.example.net; " +
        parsed.error());
  config.dial_out_allow = std::move(entries);
  return {};
}

// DNS servers for the SIP locator (c-ares takes addresses, not names): IP:port or [IPv6]:port.
Applied apply_sip_dns_servers(Config& config, std::string_view text) {
  auto entries = split_list(text);
  std::erase(entries, std::string());
  for (const std::string& entry : entries) {
    const std::size_t colon = entry.rfind(':');
    std::string host = colon == std::string::npos ? std::string() : entry.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code error;
    (void)boost::asio::ip::make_address(host, error);
    int port = 0;
    const std::string digits = colon == std::string::npos ? std::string() : entry.substr(colon + 1);
    const auto parsed = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (error || parsed.ec != std::errc() || parsed.ptr != digits.data() + digits.size() || port < 1 ||
        static_cast<std::uint64_t>(port) > kMaxPort)
      return std::unexpected(
          "empty (the system's resolvers) or a comma-separated list of IP:port or [IPv6]:port "
          "such as 127.0.0.1:53,[::1]:53; \"" +
          entry + "\" is not one");
  }
  config.sip_dns_servers = std::move(entries);
  return {};
}

Applied apply_webhook_allow_ranges(Config& config, std::string_view text) {
  auto ranges = sip::parse_address_ranges(text);
  if (!ranges)
    return std::unexpected("a comma-separated list of addresses or CIDR ranges such as 10.20.0.0/16; " +
                           ranges.error());
  config.webhook_allow_ranges = std::move(*ranges);
  return {};
}

template <auto kMember>
Applied apply_bool(Config& config, std::string_view text) {
  for (std::string_view yes : {"true", "1", "yes", "on"})
    if (text == yes) {
      config.*kMember = true;
      return {};
    }
  for (std::string_view no : {"false", "0", "no", "off"})
    if (text == no) {
      config.*kMember = false;
      return {};
    }
  return std::unexpected("true or false (also on/off, yes/no, 1/0)");
}

template <auto kMember>
std::string show_bool(const Config& config) {
  return config.*kMember ? "true" : "false";
}

constexpr std::array kSettings{
    SettingSpec{"data_dir", "DIR", "directory for the store, generated secrets and recordings", &apply_data_dir,
                &show_text<&Config::data_dir>},
    SettingSpec{"store", "URI",
                "where rooms and meetings are kept: empty for SQLite in data_dir, or a postgresql:// URI shared by "
                "several nodes (its password is never shown; a PGPASSFILE keeps it out of the URI)",
                &apply_store, &show_store, /*secret=*/true},
    SettingSpec{"node_id", "NAME",
                "this node's name among nodes sharing a PostgreSQL store (chorus_nodes, chorus_placements); "
                "default: the host name",
                &apply_node_id, &show_text<&Config::node_id>},
    SettingSpec{"node_sip_address", "HOST:PORT",
                "where a SIP proxy and other nodes reach this node's SIP UDP/TCP listener (clustered: a PostgreSQL "
                "store); empty: the SIP listener's address and port",
                &apply_node_sip_address, &show_text<&Config::node_sip_address>},
    SettingSpec{"node_http_url", "URL",
                "where other nodes send REST clients about this node's conferences (307), e.g. http://10.0.0.7:8080; "
                "empty: http://<public address>:<http port>",
                &apply_node_http_url, &show_text<&Config::node_http_url>},
    SettingSpec{"placement_lease_s", "SECONDS",
                "how long a node's claim on a live conference's room lasts without renewal (renewed every 2 s); "
                "after a node dies its rooms can start elsewhere this long after its last renewal",
                &apply_number<&Config::placement_lease_s, 4, 300>, &show_number<&Config::placement_lease_s>},
    SettingSpec{"bind", "ADDR", "IPv4 or IPv6 address every listener binds to", &apply_bind, &show_text<&Config::bind>},
    SettingSpec{"public_ip", "ADDR", "address announced in Contact and SDP (empty: derived from the route to peers)",
                &apply_public_ip, &show_text<&Config::public_ip>},
    SettingSpec{"sip_port", "N", "SIP over UDP and TCP (0: any free port)",
                &apply_number<&Config::sip_port, 0, kMaxPort>, &show_number<&Config::sip_port>},
    SettingSpec{"sips_port", "N", "SIP over TLS, used when tls_cert and tls_key are set (0: any free port)",
                &apply_number<&Config::sips_port, 0, kMaxPort>, &show_number<&Config::sips_port>},
    SettingSpec{"ws_port", "N", "SIP over WebSocket for browsers (0: any free port)",
                &apply_number<&Config::ws_port, 0, kMaxPort>, &show_number<&Config::ws_port>},
    SettingSpec{"wss_port", "N",
                "SIP over secure WebSocket (WSS), used when tls_cert and tls_key are set (0: any free port)",
                &apply_number<&Config::wss_port, 0, kMaxPort>, &show_number<&Config::wss_port>},
    SettingSpec{"ws_allowed_origins", "LIST",
                "web page origins scheme://host[:port] that may open SIP WebSockets; * allows any page (unsafe); "
                "empty: this server's own page (http and https, public address, 127.0.0.1, localhost, http_port)",
                &apply_ws_allowed_origins, &show_ws_allowed_origins, /*secret=*/false, /*list=*/true},
    SettingSpec{"http_port", "N", "REST API, metrics and web page (0: any free port)",
                &apply_number<&Config::http_port, 0, kMaxPort>, &show_number<&Config::http_port>},
    SettingSpec{"rtp_ports", "LO-HI", "UDP port range for media, LO even", &apply_rtp_ports, &show_rtp_ports},
    SettingSpec{"workers", "N", "media worker threads, 1 to 256 (default: hardware threads)",
                &apply_number<&Config::workers, 1, 256>, &show_number<&Config::workers>},
    SettingSpec{"media_realtime_priority", "N",
                "SCHED_RR priority of the media workers, 1-99, so the mixer's 20 ms tick never waits for a CPU "
                "(0: off; needs CAP_SYS_NICE or LimitRTPRIO)",
                &apply_number<&Config::media_realtime_priority, 0, 99>, &show_number<&Config::media_realtime_priority>},
    SettingSpec{"admin_token", "TOKEN", "bearer token for the admin REST API (empty: generated into the data dir)",
                &apply_admin_token, &show_admin_token, /*secret=*/true},
    SettingSpec{"log_level", "LEVEL", "trace, debug, info, warn or error", &apply_log_level, &show_log_level},
    SettingSpec{"tls_cert", "FILE", "PEM certificate chain for SIP over TLS and WSS (needs tls_key)",
                &apply_pem_path<&Config::tls_cert>, &show_text<&Config::tls_cert>},
    SettingSpec{"tls_key", "FILE", "PEM private key for tls_cert", &apply_pem_path<&Config::tls_key>,
                &show_text<&Config::tls_key>},
    SettingSpec{"dtls_cert", "FILE", "PEM certificate for DTLS-SRTP (needs dtls_key; default: generated at start)",
                &apply_pem_path<&Config::dtls_cert>, &show_text<&Config::dtls_cert>},
    SettingSpec{"dtls_key", "FILE", "PEM private key for dtls_cert", &apply_pem_path<&Config::dtls_key>,
                &show_text<&Config::dtls_key>},
    SettingSpec{"prompts_dir", "DIR",
                "IVR prompt recordings, one audio file per prompt (default: the share dir's prompts/)",
                &apply_prompts_dir, &show_text<&Config::prompts_dir>},
    SettingSpec{"share_dir", "DIR",
                "installed prompts/ and web/ (default: <executable's dir>/../share/chorus if it exists, else the "
                "build tree's)",
                &apply_share_dir, &show_text<&Config::share_dir>},
    SettingSpec{"sip_t1", "MS", "RFC 3261 T1, round-trip estimate in milliseconds",
                &apply_number<&Config::sip_t1, 1, 60000>, &show_number<&Config::sip_t1>},
    SettingSpec{"sip_t2", "MS", "RFC 3261 T2, longest retransmit interval in milliseconds (>= T1)",
                &apply_number<&Config::sip_t2, 1, 600000>, &show_number<&Config::sip_t2>},
    SettingSpec{"sip_t4", "MS", "RFC 3261 T4, longest message lifetime in milliseconds",
                &apply_number<&Config::sip_t4, 1, 600000>, &show_number<&Config::sip_t4>},
    SettingSpec{"session_expires", "S", "RFC 4028 session interval we request, in seconds (>= min_se)",
                &apply_number<&Config::session_expires, 90, 86400>, &show_number<&Config::session_expires>},
    SettingSpec{"min_se", "S", "RFC 4028 smallest session interval we accept, in seconds (>= 90)",
                &apply_number<&Config::min_se, 90, 86400>, &show_number<&Config::min_se>},
    SettingSpec{"audio_codecs", "LIST", "audio codecs offered and accepted, in preference order", &apply_audio_codecs,
                &show_audio_codecs, /*secret=*/false, /*list=*/true},
    SettingSpec{"max_connections_per_ip", "N", "TCP/TLS/WebSocket connections allowed from one address",
                &apply_number<&Config::max_connections_per_ip, 1, 65535>,
                &show_number<&Config::max_connections_per_ip>},
    SettingSpec{"tcp_idle_timeout", "S", "seconds before an idle TCP/TLS/WebSocket connection is closed",
                &apply_number<&Config::tcp_idle_timeout, 1, 86400>, &show_number<&Config::tcp_idle_timeout>},
    SettingSpec{"max_calls", "N", "concurrent calls; calls beyond are refused with 486 or 503",
                &apply_number<&Config::max_calls, 1, 1000000>, &show_number<&Config::max_calls>},
    SettingSpec{"sip_requests_per_second_per_source", "N",
                "SIP messages a second one source IP may send (pike-like); beyond, it is blocked and gets "
                "nothing; 0: off",
                &apply_number<&Config::sip_requests_per_second_per_source, 0, 1000000>,
                &show_number<&Config::sip_requests_per_second_per_source>},
    SettingSpec{"sip_burst_per_source", "N", "SIP messages one source IP may send at once before its rate applies",
                &apply_number<&Config::sip_burst_per_source, 1, 1000000>, &show_number<&Config::sip_burst_per_source>},
    SettingSpec{"sip_block_seconds", "S", "seconds a source over its SIP rate stays blocked (dropped unanswered)",
                &apply_number<&Config::sip_block_seconds, 1, 86400>, &show_number<&Config::sip_block_seconds>},
    SettingSpec{"sip_trusted_sources", "LIST",
                "addresses or CIDR ranges exempt from the SIP per-source limits (trunks, a SIP proxy in front); "
                "loopback is not exempt unless listed",
                &apply_sip_trusted_sources, &show_list<&Config::sip_trusted_sources>, /*secret=*/false, /*list=*/true},
    SettingSpec{"max_calls_per_source", "N", "concurrent calls from one source IP; beyond, 486 Busy Here; 0: no limit",
                &apply_number<&Config::max_calls_per_source, 0, 1000000>, &show_number<&Config::max_calls_per_source>},
    SettingSpec{"max_server_transactions", "N",
                "SIP server transactions alive at once; beyond, 503 with Retry-After and no state (0: 8 per max_calls)",
                &apply_number<&Config::max_server_transactions, 0, 100000000>,
                &show_number<&Config::max_server_transactions>},
    // Issue 12, process limits and response matching (server/process_hardening.hpp).
    SettingSpec{"fds_per_call", "N",
                "file descriptors one call may hold (RTP/RTCP sockets, a SIP connection); max_calls is lowered "
                "so that max_calls x this + a reserve (1024, or a quarter of a smaller limit) fits RLIMIT_NOFILE; "
                "what a one-pair call leaves unused keeps released RTP/RTCP pairs open for reuse",
                &apply_number<&Config::fds_per_call, 2, 64>, &show_number<&Config::fds_per_call>},
    SettingSpec{"sip_response_source_check", "BOOL",
                "take a SIP response only from where its request went (UDP: that IP and port; TCP/TLS/WS: "
                "that connection); off accepts any source",
                &apply_bool<&Config::sip_response_source_check>, &show_bool<&Config::sip_response_source_check>},
    SettingSpec{"max_video_slots", "N", "video streams (slots) sent to one participant in sfu rooms",
                &apply_number<&Config::max_video_slots, 0, 25>, &show_number<&Config::max_video_slots>},
    SettingSpec{"max_video_producers", "N", "video streams one participant may send in sfu rooms",
                &apply_number<&Config::max_video_producers, 0, 4>, &show_number<&Config::max_video_producers>},
    SettingSpec{"max_producer_kbps", "N", "kbit/s above which a participant's video is dropped",
                &apply_number<&Config::max_producer_kbps, 100, 100000>, &show_number<&Config::max_producer_kbps>},
    SettingSpec{"default_receive_kbps", "N", "kbit/s of video for a receiver that sends no bandwidth feedback",
                &apply_number<&Config::default_receive_kbps, 50, 100000>, &show_number<&Config::default_receive_kbps>},
    SettingSpec{"shutdown_timeout", "S", "seconds to drain calls on SIGTERM before stopping anyway",
                &apply_number<&Config::shutdown_timeout, 0, 3600>, &show_number<&Config::shutdown_timeout>},
    SettingSpec{"pin_entry_timeout", "S", "seconds a PIN caller has to enter the PIN before goodbye and BYE",
                &apply_number<&Config::pin_entry_timeout, 1, 3600>, &show_number<&Config::pin_entry_timeout>},
    SettingSpec{"pin_max_failures", "N", "wrong PINs from one source address within the window before a lockout",
                &apply_number<&Config::pin_max_failures, 1, 1000>, &show_number<&Config::pin_max_failures>},
    SettingSpec{"pin_room_max_failures", "N",
                "wrong PINs in one room within the window before it refuses sources that failed before",
                &apply_number<&Config::pin_room_max_failures, 1, 100000>, &show_number<&Config::pin_room_max_failures>},
    SettingSpec{"pin_failure_window", "S", "seconds over which wrong PINs are counted together",
                &apply_number<&Config::pin_failure_window, 1, 86400>, &show_number<&Config::pin_failure_window>},
    SettingSpec{"pin_lockout", "S", "seconds of a source's first PIN lockout; each further one doubles",
                &apply_number<&Config::pin_lockout, 1, 86400>, &show_number<&Config::pin_lockout>},
    SettingSpec{"pin_lockout_max", "S", "seconds of the longest PIN lockout",
                &apply_number<&Config::pin_lockout_max, 1, 604800>, &show_number<&Config::pin_lockout_max>},
    SettingSpec{"min_pin_digits", "N", "digits a new room's PIN needs over REST (4 or 5: allowed, with a warning)",
                &apply_number<&Config::min_pin_digits, 4, 12>, &show_number<&Config::min_pin_digits>},
    SettingSpec{"media_deny_ranges", "LIST", "CIDRs an SDP may not name as media address (refused with 488)",
                &apply_media_deny_ranges, &show_list<&Config::media_deny_ranges>, /*secret=*/false, /*list=*/true},
    SettingSpec{"media_latch_window", "MS", "milliseconds in which a plain-RTP call latches to its first RTP source",
                &apply_number<&Config::media_latch_window, 100, 60000>, &show_number<&Config::media_latch_window>},
    SettingSpec{"media_timeout", "S", "seconds without RTP or RTCP from a caller before it is hung up (0: never)",
                &apply_number<&Config::media_timeout, 0, 86400>, &show_number<&Config::media_timeout>},
    SettingSpec{"media_hold_timeout", "S", "the same for a call on hold (a=sendonly/inactive) (0: never)",
                &apply_number<&Config::media_hold_timeout, 0, 86400>, &show_number<&Config::media_hold_timeout>},
    SettingSpec{"media_rcvbuf", "BYTES", "SO_RCVBUF asked for each media socket (0: the kernel's default)",
                &apply_number<&Config::media_rcvbuf, 0, 268435456>, &show_number<&Config::media_rcvbuf>},
    SettingSpec{"sip_udp_rcvbuf", "BYTES",
                "SO_RCVBUF asked for the SIP UDP socket, so a burst of requests waits instead of being dropped "
                "(0: the kernel's default)",
                &apply_number<&Config::sip_udp_rcvbuf, 0, 268435456>, &show_number<&Config::sip_udp_rcvbuf>},
    // Issue 15, QoS: DiffServ code points (RFC 2474), IP_TOS / IPV6_TCLASS on the sockets.
    SettingSpec{"dscp_sip", "N",
                "DSCP (0-63) of SIP over UDP, TCP, TLS and WebSocket: 24 is CS3 (26: AF31; 0: unmarked)",
                &apply_number<&Config::dscp_sip, 0, 63>, &show_number<&Config::dscp_sip>},
    SettingSpec{"dscp_audio", "N", "DSCP (0-63) of audio RTP/RTCP: 46 is EF (0: unmarked)",
                &apply_number<&Config::dscp_audio, 0, 63>, &show_number<&Config::dscp_audio>},
    SettingSpec{"dscp_video", "N",
                "DSCP (0-63) of video RTP: 34 is AF41; on a BUNDLE transport shared with audio, set per packet "
                "(0: unmarked)",
                &apply_number<&Config::dscp_video, 0, 63>, &show_number<&Config::dscp_video>},
    SettingSpec{"dial_out_allow", "LIST",
                "dial-out targets allowed: addresses, CIDR ranges, host names, *.domain wildcards (empty: no "
                "dial-out); loopback, link-local, multicast are refused unless listed explicitly",
                &apply_dial_out_allow, &show_list<&Config::dial_out_allow>, /*secret=*/false, /*list=*/true},
    SettingSpec{"sip_dns_servers", "LIST",
                "DNS servers (IP:port) for RFC 3263 NAPTR/SRV/A lookups of dial-out targets and trunks (empty: "
                "/etc/resolv.conf's)",
                &apply_sip_dns_servers, &show_list<&Config::sip_dns_servers>, /*secret=*/false, /*list=*/true},
    SettingSpec{"dial_out_dns_timeout", "MS", "milliseconds a dial-out host name may take to resolve (then 504)",
                &apply_number<&Config::dial_out_dns_timeout, 100, 60000>, &show_number<&Config::dial_out_dns_timeout>},
    SettingSpec{"webhook_allow_private", "BOOL",
                "allow webhooks to private, loopback, link-local and unique-local addresses (tests, a LAN receiver)",
                &apply_bool<&Config::webhook_allow_private>, &show_bool<&Config::webhook_allow_private>},
    SettingSpec{"webhook_allow_ranges", "LIST", "addresses or CIDR ranges webhooks may reach whatever their kind",
                &apply_webhook_allow_ranges, &show_list<&Config::webhook_allow_ranges>, /*secret=*/false,
                /*list=*/true},
    SettingSpec{"event_log_max", "N", "events kept for GET /v1/events replay and resumption",
                &apply_number<&Config::event_log_max, 1, 10000000>, &show_number<&Config::event_log_max>},
    SettingSpec{"event_log_max_age", "S", "seconds an event is kept at most (0: no age bound)",
                &apply_number<&Config::event_log_max_age, 0, 31536000>, &show_number<&Config::event_log_max_age>},
    SettingSpec{"webhook_queue_max", "N", "webhook deliveries queued or retrying at once; more are dropped, counted",
                &apply_number<&Config::webhook_queue_max, 1, 10000000>, &show_number<&Config::webhook_queue_max>},
    SettingSpec{"webhook_deliveries_max", "N", "webhook delivery rows kept in the store (the oldest go first)",
                &apply_number<&Config::webhook_deliveries_max, 1, 100000000>,
                &show_number<&Config::webhook_deliveries_max>},
    SettingSpec{"webhook_deliveries_max_age", "S", "seconds a webhook delivery row is kept at most",
                &apply_number<&Config::webhook_deliveries_max_age, 60, 31536000>,
                &show_number<&Config::webhook_deliveries_max_age>},

    // Issue 11, recordings (README "Recording", docs/video.md).
    SettingSpec{"recordings_quota_mb", "MB",
                "MiB all recordings may use together (0: no quota); a full quota refuses (507) or ends recordings",
                &apply_number<&Config::recordings_quota_mb, 0, 100000000>, &show_number<&Config::recordings_quota_mb>},
    SettingSpec{
        "recordings_max_concurrent", "N", "recordings running at once; beyond it POST .../recordings answers 503",
        &apply_number<&Config::recordings_max_concurrent, 1, 1000>, &show_number<&Config::recordings_max_concurrent>},
    SettingSpec{
        "recordings_retention_days", "DAYS", "finished recordings older than this are deleted (0: kept until deleted)",
        &apply_number<&Config::recordings_retention_days, 0, 36500>, &show_number<&Config::recordings_retention_days>},
    SettingSpec{"recording_announce", "BOOL",
                "everyone hears \"this meeting is being recorded\" when a recording starts",
                &apply_bool<&Config::recording_announce>, &show_bool<&Config::recording_announce>},

    // Issue 12, REST API exhaustion (docs/security.md "REST API").
    SettingSpec{"http_max_connections", "N", "REST connections open at once; beyond, 503 and close",
                &apply_number<&Config::http_max_connections, 1, 1000000>, &show_number<&Config::http_max_connections>},
    SettingSpec{"http_max_connections_per_ip", "N",
                "REST connections open at once from one address (loopback included); beyond, 503 and close; 0: no cap",
                &apply_number<&Config::http_max_connections_per_ip, 0, 1000000>,
                &show_number<&Config::http_max_connections_per_ip>},
    SettingSpec{"http_header_timeout", "S",
                "seconds a REST request's header block has to arrive (from the connection, or from its first "
                "byte on keep-alive); beyond, 408 and close",
                &apply_number<&Config::http_header_timeout, 1, 3600>, &show_number<&Config::http_header_timeout>},
    SettingSpec{"http_body_timeout", "S", "seconds a REST request's body has to arrive after its header; beyond, 408",
                &apply_number<&Config::http_body_timeout, 1, 3600>, &show_number<&Config::http_body_timeout>},
    SettingSpec{"http_max_event_streams_per_key", "N",
                "event streams (GET /v1/events) one API key or the admin token may hold open; beyond, 429; 0: no cap",
                &apply_number<&Config::http_max_event_streams_per_key, 0, 100000>,
                &show_number<&Config::http_max_event_streams_per_key>},
    SettingSpec{"http_max_event_streams", "N", "event streams open at once in all; beyond, 503",
                &apply_number<&Config::http_max_event_streams, 1, 100000>,
                &show_number<&Config::http_max_event_streams>},
    SettingSpec{"http_requests_per_second", "N", "REST requests a second per API key; beyond, 429; 0: off",
                &apply_number<&Config::http_requests_per_second, 0, 1000000>,
                &show_number<&Config::http_requests_per_second>},
    SettingSpec{"http_burst", "N", "REST requests an API key may make at once before its rate applies",
                &apply_number<&Config::http_burst, 1, 1000000>, &show_number<&Config::http_burst>},
    SettingSpec{"http_admin_requests_per_second", "N",
                "REST requests a second with the admin token; beyond, 429; 0: off",
                &apply_number<&Config::http_admin_requests_per_second, 0, 1000000>,
                &show_number<&Config::http_admin_requests_per_second>},
    SettingSpec{"http_admin_burst", "N", "REST requests the admin token may make at once before its rate applies",
                &apply_number<&Config::http_admin_burst, 1, 1000000>, &show_number<&Config::http_admin_burst>},
};

}  // namespace

unsigned default_worker_count() {
  const unsigned threads = std::thread::hardware_concurrency();  // 0 when unknown
  return std::clamp(threads, 1u, 256u);
}

std::string default_node_id() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "chorus";
  std::string id(name.data());
  // A host name longer than a node id, or with characters one may not hold, keeps what fits.
  std::erase_if(id, [](char c) { return std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '-' && c != '.'; });
  if (id.size() > 64) id.resize(64);
  return id.empty() ? "chorus" : id;
}

std::span<const SettingSpec> setting_specs() {
  return kSettings;
}

const SettingSpec* find_setting(std::string_view key) {
  for (const SettingSpec& spec : kSettings)
    if (spec.key == key) return &spec;
  return nullptr;
}

std::string flag_name(std::string_view key) {
  std::string flag = "--";
  for (char c : key) flag += c == '_' ? '-' : c;
  return flag;
}

std::string env_name(std::string_view key) {
  std::string name = "CHORUS_";
  for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace chorus::server

namespace chorus::server {

std::size_t effective_max_server_transactions(const Config& config) {
  if (config.max_server_transactions != 0) return config.max_server_transactions;
  return std::max<std::size_t>(256, std::size_t{8} * config.max_calls);
}

}  // namespace chorus::server
