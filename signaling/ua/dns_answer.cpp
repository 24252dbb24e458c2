#include "signaling/ua/dns_answer.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace chorus::sip::dns {

namespace {

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxNameOctets = 255;  // RFC 1035 §2.3.4
constexpr int kMaxPointers = 32;
constexpr std::uint16_t kClassIn = 1;

struct Name {
  std::string text;  // lower-case labels joined by '.', "" for the root
  bool safe = true;  // only letters, digits, '-' and '_': usable in a later query or a log line
};

class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> message) : msg_(message) {}

  [[nodiscard]] std::size_t size() const { return msg_.size(); }

  std::optional<std::uint16_t> u16(std::size_t& pos) const {
    if (pos > msg_.size() || msg_.size() - pos < 2) return std::nullopt;
    const auto value = static_cast<std::uint16_t>((msg_[pos] << 8) | msg_[pos + 1]);
    pos += 2;
    return value;
  }

  std::optional<std::uint32_t> u32(std::size_t& pos) const {
    auto high = u16(pos);
    if (!high) return std::nullopt;
    auto low = u16(pos);
    if (!low) return std::nullopt;
    return (std::uint32_t{*high} << 16) | *low;
  }

  // A <character-string> (RFC 1035 §3.3): a length octet and that many bytes, within `end`.
  std::optional<std::string> char_string(std::size_t& pos, std::size_t end) const {
    if (pos >= end) return std::nullopt;
    const std::size_t length = msg_[pos];
    if (end - pos - 1 < length) return std::nullopt;
    std::string out(reinterpret_cast<const char*>(msg_.data() + pos + 1), length);
    pos += 1 + length;
    return out;
  }

  // A domain name at `pos`, following compression pointers (RFC 1035 §4.1.4); `pos` moves past the
  // name as it appears at `pos` (its first pointer, if any, ends it).
  std::optional<Name> name(std::size_t& pos) const {
    Name out;
    std::size_t cur = pos;
    std::size_t octets = 1;  // the root label
    std::optional<std::size_t> end;
    int pointers = 0;
    for (;;) {
      if (cur >= msg_.size()) return std::nullopt;
      const std::uint8_t length = msg_[cur];
      if ((length & 0xC0) == 0xC0) {
        if (cur + 1 >= msg_.size()) return std::nullopt;
        const std::size_t target = (std::size_t{length & 0x3FU} << 8) | msg_[cur + 1];
        // Only backwards, and few: a loop or a chain of pointers cannot keep us here.
        if (target >= cur || ++pointers > kMaxPointers) return std::nullopt;
        if (!end) end = cur + 2;
        cur = target;
        continue;
      }
      if ((length & 0xC0) != 0) return std::nullopt;  // 0x40/0x80: extended label types, not in answers we ask for
      if (length == 0) {
        if (!end) end = cur + 1;
        break;
      }
      octets += 1 + length;
      if (octets > kMaxNameOctets || msg_.size() - cur - 1 < length) return std::nullopt;
      if (!out.text.empty()) out.text += '.';
      for (std::size_t i = 0; i < length; ++i) {
        auto c = static_cast<char>(msg_[cur + 1 + i]);
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!plain) {
          out.safe = false;
          c = '?';
        }
        out.text += c;
      }
      cur += 1 + length;
    }
    pos = *end;
    return out;
  }

  [[nodiscard]] std::span<const std::uint8_t> bytes(std::size_t pos, std::size_t length) const {
    return msg_.subspan(pos, length);
  }

 private:
  std::span<const std::uint8_t> msg_;
};

// One resource record of the answer or authority section, its data not yet read.
struct ResourceRecord {
  Name owner;
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0;  // offset of its data in the message
  std::size_t rdlength = 0;
};

std::optional<ResourceRecord> read_record(const Reader& reader, std::size_t& pos) {
  ResourceRecord rr;
  auto owner = reader.name(pos);
  if (!owner) return std::nullopt;
  rr.owner = std::move(*owner);
  auto type = reader.u16(pos);
  auto klass = reader.u16(pos);
  auto ttl = reader.u32(pos);
  auto rdlength = reader.u16(pos);
  if (!type || !klass || !ttl || !rdlength) return std::nullopt;
  if (reader.size() - pos < *rdlength) return std::nullopt;
  rr.type = *klass == kClassIn ? *type : 0;       // another class: never used
  rr.ttl = (*ttl & 0x80000000U) != 0 ? 0 : *ttl;  // RFC 2181 §8: the top bit set means zero
  rr.rdata = pos;
  rr.rdlength = *rdlength;
  pos += *rdlength;
  return rr;
}

// A name inside a record's data: it must end within the data, and be usable.
std::optional<std::string> rdata_name(const Reader& reader, std::size_t& pos, std::size_t end) {
  auto name = reader.name(pos);
  if (!name || pos > end || !name->safe) return std::nullopt;
  return std::move(name->text);
}

std::optional<SrvRecord> read_srv(const Reader& reader, const ResourceRecord& rr) {
  std::size_t pos = rr.rdata;
  const std::size_t end = rr.rdata + rr.rdlength;
  if (rr.rdlength < 7) return std::nullopt;
  SrvRecord srv;
  srv.priority = *reader.u16(pos);
  srv.weight = *reader.u16(pos);
  srv.port = *reader.u16(pos);
  auto target = rdata_name(reader, pos, end);
  if (!target) return std::nullopt;
  srv.target = std::move(*target);
  return srv;
}

std::optional<NaptrRecord> read_naptr(const Reader& reader, const ResourceRecord& rr) {
  std::size_t pos = rr.rdata;
  const std::size_t end = rr.rdata + rr.rdlength;
  if (rr.rdlength < 8) return std::nullopt;
  NaptrRecord naptr;
  naptr.order = *reader.u16(pos);
  naptr.preference = *reader.u16(pos);
  auto flags = reader.char_string(pos, end);
  auto service = reader.char_string(pos, end);
  auto regexp = reader.char_string(pos, end);
  if (!flags || !service || !regexp) return std::nullopt;
  auto replacement = rdata_name(reader, pos, end);
  if (!replacement) return std::nullopt;
  auto lower = [](std::string text) {
    std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
  };
  naptr.flags = lower(std::move(*flags));
  naptr.service = lower(std::move(*service));
  naptr.regexp = std::move(*regexp);
  naptr.replacement = std::move(*replacement);
  return naptr;
}

// RFC 2308 §5: a negative answer is cached for the smaller of the SOA's TTL and its MINIMUM.
std::optional<std::uint32_t> soa_negative_ttl(const Reader& reader, const ResourceRecord& rr) {
  std::size_t pos = rr.rdata;
  const std::size_t end = rr.rdata + rr.rdlength;
  auto mname = reader.name(pos);
  if (!mname || pos > end) return std::nullopt;
  auto rname = reader.name(pos);
  if (!rname || pos > end || end - pos < 20) return std::nullopt;
  pos += 16;  // serial, refresh, retry, expire
  auto minimum = reader.u32(pos);
  return std::min(rr.ttl, *minimum);
}

// Keeps the record of the asked type in `answer`, within the limits.
void keep_record(const Reader& reader, const ResourceRecord& rr, RecordType type, const DnsAnswerLimits& limits,
                 DnsAnswer& answer) {
  const std::size_t kept = answer.addresses.size() + answer.srv.size() + answer.naptr.size();
  if (kept >= limits.max_records) {
    ++answer.ignored;
    return;
  }
  bool ok = false;
  if (type == RecordType::kA && rr.rdlength == 4) {
    std::array<unsigned char, 4> raw{};
    std::ranges::copy(reader.bytes(rr.rdata, 4), raw.begin());
    answer.addresses.emplace_back(boost::asio::ip::address_v4(raw));
    ok = true;
  } else if (type == RecordType::kAaaa && rr.rdlength == 16) {
    std::array<unsigned char, 16> raw{};
    std::ranges::copy(reader.bytes(rr.rdata, 16), raw.begin());
    answer.addresses.emplace_back(boost::asio::ip::address_v6(raw));
    ok = true;
  } else if (type == RecordType::kSrv) {
    if (auto srv = read_srv(reader, rr)) {
      answer.srv.push_back(std::move(*srv));
      ok = true;
    }
  } else if (type == RecordType::kNaptr) {
    if (auto naptr = read_naptr(reader, rr)) {
      answer.naptr.push_back(std::move(*naptr));
      ok = true;
    }
  }
  if (!ok) {
    ++answer.ignored;
    return;
  }
  answer.ttl = kept == 0 ? rr.ttl : std::min(answer.ttl, rr.ttl);
}

}  // namespace

std::string normalize_dns_name(std::string_view name) {
  if (name.ends_with('.')) name.remove_suffix(1);
  std::string out(name);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::expected<DnsAnswer, std::string> parse_dns_answer(std::span<const std::uint8_t> message, std::string_view qname,
                                                       RecordType type, const DnsAnswerLimits& limits) {
  if (message.size() < kHeaderSize) return std::unexpected("shorter than a DNS header");
  const Reader reader(message);
  std::size_t pos = 4;
  const std::uint16_t qdcount = *reader.u16(pos);
  const std::uint16_t ancount = *reader.u16(pos);
  const std::uint16_t nscount = *reader.u16(pos);
  DnsAnswer answer;
  answer.rcode = message[3] & 0x0F;
  if ((message[2] & 0x80) == 0) return std::unexpected("not a response (QR clear)");
  if (qdcount > 1) return std::unexpected("more than one question");

  pos = kHeaderSize;
  for (std::uint16_t i = 0; i < qdcount; ++i) {
    if (!reader.name(pos) || reader.size() - std::min(pos, reader.size()) < 4) {
      return std::unexpected("question runs past the end");
    }
    pos += 4;
  }

  // Answer and authority sections; the additional section is never read (no glue is trusted).
  std::vector<ResourceRecord> answers;
  std::vector<ResourceRecord> authority;
  const std::size_t total = std::size_t{ancount} + nscount;
  for (std::size_t i = 0; i < total; ++i) {
    if (i >= limits.max_resource_records) {
      answer.ignored += total - i;
      break;
    }
    auto rr = read_record(reader, pos);
    if (!rr) return std::unexpected("resource record " + std::to_string(i + 1) + " runs past the end or is malformed");
    (i < ancount ? answers : authority).push_back(std::move(*rr));
  }

  // The CNAME chain from the question's name (RFC 1034 §3.6.2: a recursive server follows it and
  // returns the chain in the answer section).
  std::string owner = normalize_dns_name(qname);
  std::optional<std::uint32_t> chain_ttl;
  for (std::size_t links = 0;; ++links) {
    auto cname = std::ranges::find_if(answers, [&](const ResourceRecord& rr) {
      return rr.type == static_cast<std::uint16_t>(RecordType::kCname) && rr.owner.safe && rr.owner.text == owner;
    });
    if (cname == answers.end()) break;
    if (links >= limits.max_cname_chain) return std::unexpected("CNAME chain longer than its limit (or a loop)");
    std::size_t at = cname->rdata;
    auto target = rdata_name(reader, at, cname->rdata + cname->rdlength);
    if (!target) return std::unexpected("unreadable CNAME target");
    chain_ttl = std::min(chain_ttl.value_or(cname->ttl), cname->ttl);
    owner = std::move(*target);
  }
  answer.name = owner;

  for (const ResourceRecord& rr : answers) {
    if (rr.type != static_cast<std::uint16_t>(type)) continue;
    if (!rr.owner.safe || rr.owner.text != owner) {
      ++answer.ignored;
      continue;
    }
    keep_record(reader, rr, type, limits, answer);
  }
  if (answer.has_records()) {
    if (chain_ttl) answer.ttl = std::min(answer.ttl, *chain_ttl);
  } else {
    answer.ttl = 0;
    for (const ResourceRecord& rr : authority) {
      if (rr.type != static_cast<std::uint16_t>(RecordType::kSoa)) continue;
      if (auto negative = soa_negative_ttl(reader, rr)) {
        answer.negative_ttl = std::min(answer.negative_ttl.value_or(*negative), *negative);
      }
    }
  }
  return answer;
}

}  // namespace chorus::sip::dns
