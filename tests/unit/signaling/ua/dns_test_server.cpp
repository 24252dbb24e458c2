#include "dns_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "common/ascii.hpp"

namespace chorus::sip::testing {

namespace {

void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  put16(out, static_cast<std::uint16_t>(value >> 16));
  put16(out, static_cast<std::uint16_t>(value & 0xFFFF));
}

void put_string(std::vector<std::uint8_t>& out, std::string_view text) {
  out.push_back(static_cast<std::uint8_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
}

void append(std::vector<std::uint8_t>& out, const std::vector<std::uint8_t>& more) {
  out.insert(out.end(), more.begin(), more.end());
}

}  // namespace

DnsRecord a_record(std::string name, std::string_view address, std::uint32_t ttl) {
  auto parsed = boost::asio::ip::make_address(address);
  return DnsRecord{std::move(name), parsed.is_v4() ? dns::RecordType::kA : dns::RecordType::kAaaa, ttl, parsed};
}

DnsRecord srv_record(std::string name, std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
                     std::string target, std::uint32_t ttl) {
  return DnsRecord{std::move(name), dns::RecordType::kSrv, ttl,
                   dns::SrvRecord{priority, weight, port, std::move(target)}};
}

DnsRecord naptr_record(std::string name, std::uint16_t order, std::uint16_t preference, std::string flags,
                       std::string service, std::string replacement, std::uint32_t ttl) {
  return DnsRecord{
      std::move(name), dns::RecordType::kNaptr, ttl,
      dns::NaptrRecord{order, preference, std::move(flags), std::move(service), "", std::move(replacement)}};
}

DnsRecord cname_record(std::string name, std::string target, std::uint32_t ttl) {
  return DnsRecord{std::move(name), dns::RecordType::kCname, ttl, std::move(target)};
}

DnsRecord soa_record(std::string zone, std::uint32_t ttl, std::uint32_t minimum) {
  return DnsRecord{std::move(zone), dns::RecordType::kSoa, ttl, SoaData{minimum}};
}

std::vector<std::uint8_t> encode_name(std::string_view name) {
  std::vector<std::uint8_t> out;
  while (!name.empty() && name != ".") {
    const auto dot = name.find('.');
    put_string(out, name.substr(0, dot));
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  return out;
}

std::vector<std::uint8_t> encode_record(const DnsRecord& record) {
  std::vector<std::uint8_t> rdata;
  if (const auto* address = std::get_if<boost::asio::ip::address>(&record.data)) {
    if (address->is_v4()) {
      const auto bytes = address->to_v4().to_bytes();
      rdata.assign(bytes.begin(), bytes.end());
    } else {
      const auto bytes = address->to_v6().to_bytes();
      rdata.assign(bytes.begin(), bytes.end());
    }
  } else if (const auto* srv = std::get_if<dns::SrvRecord>(&record.data)) {
    put16(rdata, srv->priority);
    put16(rdata, srv->weight);
    put16(rdata, srv->port);
    append(rdata, encode_name(srv->target));
  } else if (const auto* naptr = std::get_if<dns::NaptrRecord>(&record.data)) {
    put16(rdata, naptr->order);
    put16(rdata, naptr->preference);
    put_string(rdata, naptr->flags);
    put_string(rdata, naptr->service);
    put_string(rdata, naptr->regexp);
    append(rdata, encode_name(naptr->replacement));
  } else if (const auto* target = std::get_if<std::string>(&record.data)) {
    append(rdata, encode_name(*target));
  } else if (const auto* soa = std::get_if<SoaData>(&record.data)) {
    append(rdata, encode_name("ns." + record.name));
    append(rdata, encode_name("hostmaster." + record.name));
    for (std::uint32_t field : {1U, 3600U, 600U, 86400U}) put32(rdata, field);  // serial .. expire
    put32(rdata, soa->minimum);
  }
  std::vector<std::uint8_t> out = encode_name(record.name);
  put16(out, static_cast<std::uint16_t>(record.type));
  put16(out, 1);  // IN
  put32(out, record.ttl);
  put16(out, static_cast<std::uint16_t>(rdata.size()));
  append(out, rdata);
  return out;
}

std::vector<std::uint8_t> encode_response(std::uint16_t id, std::string_view qname, dns::RecordType qtype,
                                          const DnsResponse& response) {
  std::vector<std::uint8_t> out;
  put16(out, id);
  out.push_back(0x85);                                                       // QR, AA, RD
  out.push_back(static_cast<std::uint8_t>(0x80 | (response.rcode & 0x0F)));  // RA, RCODE
  put16(out, 1);
  const bool raw = response.raw_sections.has_value();
  put16(out, raw ? response.raw_ancount : static_cast<std::uint16_t>(response.answers.size()));
  put16(out, raw ? 0 : static_cast<std::uint16_t>(response.authority.size()));
  put16(out, 0);
  append(out, encode_name(qname));
  put16(out, static_cast<std::uint16_t>(qtype));
  put16(out, 1);
  if (raw) {
    append(out, *response.raw_sections);
    return out;
  }
  for (const DnsRecord& record : response.answers) append(out, encode_record(record));
  for (const DnsRecord& record : response.authority) append(out, encode_record(record));
  return out;
}

namespace {

// A socket of `type` bound to 127.0.0.1:`port` (0: a free one); -1 on failure.
int bound_socket(int type, std::uint16_t port) {
  const int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 8) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

// UDP and TCP on one port (c-ares retries over TCP when an answer is larger than its EDNS size):
// a free UDP port, then TCP on the same number, tried a few times.
DnsTestServer::DnsTestServer() {
  for (int attempt = 0; attempt < 20 && tcp_fd_ < 0; ++attempt) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = bound_socket(SOCK_DGRAM, 0);
    if (fd_ < 0) continue;
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    tcp_fd_ = bound_socket(SOCK_STREAM, port_);
  }
  if (fd_ < 0 || tcp_fd_ < 0) throw std::runtime_error("DnsTestServer: no free UDP+TCP port on 127.0.0.1");
  thread_ = std::thread([this] { run(); });
}

DnsTestServer::~DnsTestServer() {
  stop_ = true;
  thread_.join();  // the loop wakes every 20 ms to look at stop_
  ::close(fd_);
  ::close(tcp_fd_);
}

std::string DnsTestServer::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void DnsTestServer::set(std::string_view name, dns::RecordType type, DnsResponse response) {
  std::lock_guard lock(mutex_);
  table_[{ascii_lowercase(name), static_cast<std::uint16_t>(type)}] = std::move(response);
}

void DnsTestServer::set(std::string_view name, dns::RecordType type, std::vector<DnsRecord> answers) {
  set(name, type, DnsResponse{.answers = std::move(answers)});
}

void DnsTestServer::set_silent_for_all(bool silent) {
  std::lock_guard lock(mutex_);
  all_silent_ = silent;
}

std::size_t DnsTestServer::queries(std::string_view name, dns::RecordType type) const {
  std::lock_guard lock(mutex_);
  auto found = counts_.find({ascii_lowercase(name), static_cast<std::uint16_t>(type)});
  return found == counts_.end() ? 0 : found->second;
}

std::size_t DnsTestServer::total_queries() const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& [key, count] : counts_) total += count;
  return total;
}

void DnsTestServer::run() {
  struct Connection {
    int fd;
    std::vector<std::uint8_t> buffer;
  };
  std::vector<Connection> connections;
  std::vector<std::uint8_t> buffer(65536);
  while (!stop_) {
    std::vector<pollfd> waiting{{fd_, POLLIN, 0}, {tcp_fd_, POLLIN, 0}};
    for (const Connection& c : connections) waiting.push_back({c.fd, POLLIN, 0});
    if (::poll(waiting.data(), waiting.size(), 20) <= 0) continue;
    if ((waiting[0].revents & POLLIN) != 0) {
      sockaddr_in peer{};
      socklen_t peer_length = sizeof(peer);
      const ssize_t got =
          ::recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (got > 0) {
        if (auto reply = respond(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(got)))) {
          ::sendto(fd_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_length);
        }
      }
    }
    if ((waiting[1].revents & POLLIN) != 0) {
      if (const int fd = ::accept(tcp_fd_, nullptr, nullptr); fd >= 0) connections.push_back({fd, {}});
    }
    // TCP (RFC 1035 §4.2.2): each message after a two-byte length.
    for (std::size_t i = 0; i < connections.size(); ++i) {
      if (i + 2 >= waiting.size() || (waiting[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      Connection& c = connections[i];
      const ssize_t got = ::recv(c.fd, buffer.data(), buffer.size(), 0);
      if (got <= 0) {
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      c.buffer.insert(c.buffer.end(), buffer.begin(), buffer.begin() + got);
      while (c.buffer.size() >= 2 && c.buffer.size() >= 2U + ((c.buffer[0] << 8) | c.buffer[1])) {
        const std::size_t length = (c.buffer[0] << 8) | c.buffer[1];
        auto reply = respond(std::span<const std::uint8_t>(c.buffer.data() + 2, length));
        c.buffer.erase(c.buffer.begin(), c.buffer.begin() + 2 + static_cast<std::ptrdiff_t>(length));
        if (!reply || reply->size() > 0xFFFF) continue;
        std::vector<std::uint8_t> framed;
        put16(framed, static_cast<std::uint16_t>(reply->size()));
        append(framed, *reply);
        ::send(c.fd, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    std::erase_if(connections, [](const Connection& c) { return c.fd < 0; });
  }
  for (const Connection& c : connections) ::close(c.fd);
}

// The question of a query c-ares sent (uncompressed, one question), then the table's answer.
std::optional<std::vector<std::uint8_t>> DnsTestServer::respond(std::span<const std::uint8_t> query) {
  if (query.size() < 17) return std::nullopt;
  const auto id = static_cast<std::uint16_t>((query[0] << 8) | query[1]);
  std::string name;
  std::size_t pos = 12;
  while (pos < query.size() && query[pos] != 0) {
    const std::size_t length = query[pos];
    if (pos + 1 + length > query.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(query.data() + pos + 1), length);
    pos += 1 + length;
  }
  if (pos + 5 > query.size()) return std::nullopt;
  const auto type = static_cast<std::uint16_t>((query[pos + 1] << 8) | query[pos + 2]);
  name = ascii_lowercase(name);
  DnsResponse response{.rcode = dns::kRcodeNxDomain};
  {
    std::lock_guard lock(mutex_);
    ++counts_[{name, type}];
    if (all_silent_) return std::nullopt;
    if (auto found = table_.find({name, type}); found != table_.end()) response = found->second;
  }
  if (response.silent) return std::nullopt;
  return encode_response(id, name, static_cast<dns::RecordType>(type), response);
}

}  // namespace chorus::sip::testing
