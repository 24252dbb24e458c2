#include "signaling/transaction/transaction_key.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <random>

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

// xoshiro256** (Blackman and Vigna): statistically strong and a few nanoseconds per draw.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device device;
    for (auto& word : state_) {
      word = (static_cast<std::uint64_t>(device()) << 32) | device();
      if (word == 0) word = 0x9e3779b97f4a7c15ULL;
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

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
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local Xoshiro256 generator;
  std::string token(length, '\0');
  std::uint64_t bits = 0;
  int left = 0;
  for (char& c : token) {
    // Six bits a character, rejecting 62 and 63 so every character is equally likely.
    for (;;) {
      if (left == 0) {
        bits = generator.next();
        left = 10;
      }
      const auto index = static_cast<std::size_t>(bits & 0x3f);
      bits >>= 6;
      --left;
      if (index < kAlphabet.size()) {
        c = kAlphabet[index];
        break;
      }
    }
  }
  return token;
}

}  // namespace chorus::sip
