// A tiny authoritative DNS server for the locator's tests: UDP and TCP on 127.0.0.1 (a free port)
// and a thread answering each question from a table the test fills — A, AAAA, SRV, NAPTR, CNAME
// records with TTLs, NXDOMAIN with or without an SOA, silence, or raw bytes after the question
// (malformed answers). Unknown questions get NXDOMAIN without an SOA. It counts the questions it
// was asked, so a test can prove an answer came from the cache.
//
// Also the wire encoders the parser tests use (RFC 1035 §3.2, §4.1; RFC 2782; RFC 3403).
//
// Threading: the server thread answers; the test thread fills the table and reads the counts
// (both under one mutex). The destructor stops and joins the thread.
#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "signaling/ua/dns_answer.hpp"

namespace chorus::sip::testing {

struct SoaData {
  std::uint32_t minimum = 60;
};

struct DnsRecord {
  std::string name;
  dns::RecordType type = dns::RecordType::kA;
  std::uint32_t ttl = 60;
  // A/AAAA: an address; SRV; NAPTR; CNAME: the target's name; SOA.
  std::variant<boost::asio::ip::address, dns::SrvRecord, dns::NaptrRecord, std::string, SoaData> data;
};

DnsRecord a_record(std::string name, std::string_view address, std::uint32_t ttl = 60);
DnsRecord srv_record(std::string name, std::uint16_t priority, std::uint16_t weight, std::uint16_t port,
                     std::string target, std::uint32_t ttl = 60);
DnsRecord naptr_record(std::string name, std::uint16_t order, std::uint16_t preference, std::string flags,
                       std::string service, std::string replacement, std::uint32_t ttl = 60);
DnsRecord cname_record(std::string name, std::string target, std::uint32_t ttl = 60);
DnsRecord soa_record(std::string zone, std::uint32_t ttl, std::uint32_t minimum);

struct DnsResponse {
  std::uint8_t rcode = dns::kRcodeNoError;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  bool silent = false;  // never answer
  // When set: these bytes follow the question verbatim, and the header claims `raw_ancount`
  // answer records (answers/authority are then unused).
  std::optional<std::vector<std::uint8_t>> raw_sections;
  std::uint16_t raw_ancount = 0;
};

// Wire encoders (uncompressed names).
std::vector<std::uint8_t> encode_name(std::string_view name);
std::vector<std::uint8_t> encode_record(const DnsRecord& record);
// A whole response to one question: header, question, answers, authority.
std::vector<std::uint8_t> encode_response(std::uint16_t id, std::string_view qname, dns::RecordType qtype,
                                          const DnsResponse& response);

class DnsTestServer {
 public:
  DnsTestServer();
  ~DnsTestServer();
  DnsTestServer(const DnsTestServer&) = delete;
  DnsTestServer& operator=(const DnsTestServer&) = delete;

  [[nodiscard]] std::string address() const;  // "127.0.0.1:<port>", for DnsSipLocatorConfig::servers
  void set(std::string_view name, dns::RecordType type, DnsResponse response);
  // Shorthand: a NOERROR answer with these records.
  void set(std::string_view name, dns::RecordType type, std::vector<DnsRecord> answers);
  void set_silent_for_all(bool silent);
  [[nodiscard]] std::size_t queries(std::string_view name, dns::RecordType type) const;
  [[nodiscard]] std::size_t total_queries() const;

 private:
  void run();
  std::optional<std::vector<std::uint8_t>> respond(std::span<const std::uint8_t> query);

  int fd_ = -1;      // UDP
  int tcp_fd_ = -1;  // listening TCP, same port
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::uint16_t>, DnsResponse> table_;
  std::map<std::pair<std::string, std::uint16_t>, std::size_t> counts_;
  bool all_silent_ = false;
  std::thread thread_;  // last: starts once the rest is set up
};

}  // namespace chorus::sip::testing
