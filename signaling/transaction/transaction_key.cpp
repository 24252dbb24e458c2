#include "signaling/transaction/transaction_key.hpp"

#include <array>
#include <charconv>
#include <cstdint>

#include "common/random.hpp"
#include "signaling/transaction/transaction.hpp"

namespace chorus::sip {
namespace {

// Fields are joined with a byte that cannot occur in a header value after unfolding.
constexpr char kSeparator = '\n';

void append_lower(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

void append_number(std::string& out, std::uint32_t value) {
  std::array<char, 12> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), end);
  (void)ec;
}

// sent-by (§20.42): host compares case-insensitively; an absent port stays absent.
void append_sent_by(std::string& out, const Via& via) {
  append_lower(out, via.host);
  out.push_back(kSeparator);
  if (via.port) append_number(out, *via.port);
}

}  // namespace

bool make_server_key(const SipMessage& request, std::string_view method, std::string& out) {
  out.clear();
  const Via& top = request.vias.front();
  const std::string_view branch = branch_of(top);
  // A branch that is only the cookie is not unique: RFC 2543 rules (RFC 4475 §3.2.1 badbranch).
  if (branch.size() > kMagicCookie.size() && branch.starts_with(kMagicCookie)) {
    // RFC 3261 §17.2.3: branch + sent-by + method (ACK and CANCEL targets map to INVITE).
    out.push_back('3');
    out.append(branch);
    out.push_back(kSeparator);
    append_sent_by(out, top);
    out.push_back(kSeparator);
    out.append(method);
    return false;
  }
  // RFC 3261 §17.2.3, requests from RFC 2543 elements.
  out.push_back('2');
  out.append(request.request_uri_text);
  out.push_back(kSeparator);
  out.append(request.from.tag());
  out.push_back(kSeparator);
  out.append(request.call_id);
  out.push_back(kSeparator);
  append_number(out, request.cseq.number);
  out.push_back(kSeparator);
  out.append(top.transport);
  out.push_back(kSeparator);
  append_sent_by(out, top);
  out.push_back(kSeparator);
  out.append(branch);
  out.push_back(kSeparator);
  out.append(method);
  return true;
}

void make_client_key(std::string_view branch, std::string_view cseq_method, std::string& out) {
  out.clear();
  out.append(branch);
  out.push_back(kSeparator);
  out.append(cseq_method);
}

std::string random_token(std::size_t length) {
  return random_alphanumeric(length);
}

}  // namespace chorus::sip
