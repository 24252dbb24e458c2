// libFuzzer target for the STUN message view, the builder and the ICE-lite responder.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/stun_fuzz.cpp media/stun/*.cpp -lcrypto
//   ./a.out -max_total_time=60 -max_len=1600
//
// Besides crashes it checks properties: every reader of a parsed message stays inside the
// datagram; whatever the responder chooses to send parses again, carries the request's
// transaction id and a valid FINGERPRINT, and a success response is signed with the local
// password and maps the source address; a response is only a success after the request's own
// MESSAGE-INTEGRITY checked out with that password.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>

#include "media/stun/ice_lite_responder.hpp"
#include "media/stun/stun_builder.hpp"
#include "media/stun/stun_message.hpp"

namespace {

using namespace chorus::media::stun;

void require(bool condition) {
  if (!condition) std::abort();
}

void read_everything(const StunMessage& message) {
  // The values are discarded; ASan checks each reader stays in bounds.
  std::size_t sink = 0;
  if (auto v = message.username()) sink += v->size();
  if (auto v = message.software()) sink += v->size();
  if (auto v = message.message_integrity()) sink += (*v)[0];
  if (auto v = message.fingerprint()) sink += *v;
  if (auto v = message.xor_mapped_address()) sink += v->port + v->ip[15];
  if (auto v = message.priority()) sink += *v;
  if (auto v = message.ice_controlled()) sink += *v;
  if (auto v = message.ice_controlling()) sink += *v;
  if (auto v = message.error_code()) sink += static_cast<std::size_t>(v->code) + v->reason.size();
  if (auto v = message.unknown_attributes()) sink += v->size();
  sink += message.use_candidate() ? 1 : 0;
  for (std::uint16_t type : message.unknown_required()) sink += type;
  require(message.message_integrity_offset() < message.bytes().size() || message.message_integrity_offset() == 0);
  (void)check_integrity(message, std::string_view("fuzz-password"));
  (void)check_fingerprint(message);
  static volatile std::size_t keep;
  keep = sink;
}

void check_response(const IceLiteOutcome& outcome, const StunMessage& request, std::span<const std::uint8_t> out,
                    const TransportAddress& source, std::string_view password) {
  auto response = StunMessage::parse(out.first(outcome.response_size));
  require(response.has_value());
  require(response->transaction_id() == request.transaction_id());
  require(check_fingerprint(*response));
  if (outcome.error_code == 0) {
    require(response->message_class() == StunClass::kSuccessResponse);
    require(response->xor_mapped_address() == source);
    require(check_integrity(*response, password));
    require(check_integrity(request, password));  // never a success without the request's HMAC
  } else {
    require(response->message_class() == StunClass::kErrorResponse);
    require(response->error_code().has_value() && response->error_code()->code == outcome.error_code);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> datagram(data, size);
  auto message = StunMessage::parse(datagram);
  if (message) read_everything(*message);
  // parse and peek_header agree on what is a STUN header.
  if (message) require(peek_header(datagram).has_value());

  // Credentials that match the RFC 5769 request, so seeded inputs reach the signed paths.
  static const IceLiteResponder responder("evtj", "VOkJxbRl1RmTxUk/WvJxBt", "h6vY");
  const auto source = TransportAddress::ipv4({192, 0, 2, 1}, 32853);
  std::array<std::uint8_t, kMaxMessageSize> out{};
  const IceLiteOutcome outcome = responder.respond(datagram, source, out);
  if (outcome.verdict == IceLiteVerdict::kRespond) {
    require(outcome.response_size >= kHeaderSize && outcome.response_size <= out.size());
    if (message) {
      check_response(outcome, *message, out, source, "VOkJxbRl1RmTxUk/WvJxBt");
    } else {
      require(StunMessage::parse(std::span(out).first(outcome.response_size)).has_value());
    }
  }
  if (outcome.use_candidate) require(outcome.source_validated());
  return 0;
}
