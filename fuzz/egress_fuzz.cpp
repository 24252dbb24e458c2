// libFuzzer target for the egress and bounded-event code that meets caller-controlled bytes
// (issue 12): bounded_text (SIP display names, User-Agent, From URIs into events and logs), the
// dial-out policy's host check (the host of a REST `to` URI), the webhook URL parser with the
// webhook target policy, and the dial_out_allow parser (operator text, split on commas).
//
//   make fuzz-build && build-fuzz/bin/egress_fuzz -max_total_time=60 fuzz/seeds/egress_fuzz
//
// Besides crashes it checks:
//   - bounded_text keeps its bound (max(bound, 3) bytes), returns valid UTF-8 without C0 controls
//     (running it again with a larger bound gives the same bytes), and keeps short valid text as is;
//   - refuse_host never allows a special-purpose address literal (loopback, link-local, multicast,
//     unspecified, broadcast, reserved) under an allow-list of 0.0.0.0/0 and ::/0, and never allows
//     anything under an empty list;
//   - a webhook URL that parses is refused by the default policy exactly when its address is not
//     public.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "conference/egress_policy.hpp"
#include "conference/events/bounded_text.hpp"
#include "rest-api/webhooks/webhook_dispatcher.hpp"

namespace {

using namespace chorus;

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzz_bounded_text(std::string_view text, std::size_t bound) {
  const std::string out = conference::bounded_text(text, bound);
  check(out.size() <= std::max<std::size_t>(bound, 3));
  check(conference::bounded_text(out, out.size() + 3) == out);  // valid UTF-8, nothing left to replace
  check(std::ranges::none_of(out, [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }));
  const bool plain = std::ranges::all_of(text, [](char c) { return c >= 0x20 && c < 0x7F; });
  if (plain && text.size() <= bound) check(out == text);
}

void fuzz_dial_out(std::string_view host) {
  static const conference::DialOutPolicy kNone;
  static const conference::DialOutPolicy kEverything = [] {
    const std::vector<std::string> all{"0.0.0.0/0", "::/0"};
    return conference::DialOutPolicy(conference::parse_dial_out_allow(all).value());
  }();
  check(kNone.refuse_host(host).has_value());
  if (!kEverything.refuse_host(host)) {
    std::string_view literal = host;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']')
      literal = literal.substr(1, literal.size() - 2);
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(std::string(literal), ec);
    if (!ec) check(!conference::is_special_purpose(conference::classify_address(address)));
  }
}

void fuzz_webhook(std::string_view url) {
  auto parsed = rest::parse_webhook_url(url);
  if (!parsed) return;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(parsed->address, ec);
  check(!ec);  // the parser only hands out IP literals
  const conference::WebhookTargetPolicy strict;
  const bool is_public = conference::classify_address(address) == conference::AddressKind::kPublic;
  check(strict.refuse(address).has_value() == !is_public);
}

void fuzz_allow_list(std::string_view text) {
  std::vector<std::string> entries;
  std::size_t start = 0;
  while (start <= text.size() && entries.size() < 64) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    entries.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  auto allow = conference::parse_dial_out_allow(entries);
  if (!allow) return;
  const conference::DialOutPolicy policy(*allow);
  for (const std::string& entry : entries) (void)policy.refuse_host(entry);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t bound = data[0];  // 0..255, around the 128-byte default
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  fuzz_bounded_text(text, bound);
  fuzz_dial_out(text);
  fuzz_webhook(text);
  fuzz_allow_list(text);
  return 0;
}
