// libFuzzer target for RtpPacket (media/rtp), the parser every received RTP datagram meets.
//
//   clang++-19 -std=c++23 -g -O1 -fsanitize=fuzzer,address,undefined -I. fuzz/rtp_fuzz.cpp media/rtp/*.cpp
//   ./a.out -max_total_time=60 -max_len=1500
//
// Besides crashes it checks four properties of every packet that parses:
//   - the parts add up: header + payload + padding is the datagram, each view inside it;
//   - the SFU rewrite round-trips: setting SSRC, sequence number, timestamp, payload type and
//     marker changes only bytes 1..11, the accessors return the new values, and parsing the
//     rewritten bytes again gives the same layout and the same extension elements;
//   - a transport-wide sequence number written in place reads back and moves no other byte;
//   - write_rtp_header, given the parsed fields and one-byte elements, produces a header that
//     parses back to the same fields and elements.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

#include "media/rtp/rtp_header_writer.hpp"
#include "media/rtp/rtp_packet.hpp"
#include "media/rtp/sequence.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

bool same_bytes(std::optional<std::span<const std::uint8_t>> a, std::optional<std::span<const std::uint8_t>> b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::ranges::equal(*a, *b);
}

// Touches every accessor and parser so the sanitizers see each read.
void read_everything(const RtpPacket& packet) {
  const auto bytes = packet.bytes();
  check(packet.header_size() + packet.payload().size() + packet.padding_size() == bytes.size());
  check(packet.payload().empty() || packet.payload().data() == bytes.data() + packet.header_size());
  check(packet.csrc_bytes().size() == 4 * packet.csrc_count());
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < packet.csrc_count(); ++i) sum += packet.csrc(i);
  for (std::uint8_t b : packet.payload()) sum += b;
  for (int id = 0; id <= 255; ++id) {
    const auto element = packet.extension(static_cast<std::uint8_t>(id));
    if (!element) continue;
    check(element->data() >= packet.extension_block().data());
    check(element->data() + element->size() <= packet.extension_block().data() + packet.extension_block().size());
    for (std::uint8_t b : *element) sum += b;
    const auto key = static_cast<std::uint8_t>(id);
    if (auto level = read_audio_level(packet, key)) check(level->level_dbov <= 127);
    if (auto send_time = read_abs_send_time(packet, key)) check(send_time->raw <= 0xFFFFFF);
    (void)read_mid(packet, key);
    (void)read_rid(packet, key);
    (void)read_transport_sequence_number(packet, key);
  }
  (void)sum;
}

void check_rewrite_round_trip(std::vector<std::uint8_t>& buffer, RtpPacket& packet) {
  const std::vector<std::uint8_t> before = buffer;
  const std::uint32_t ssrc = ~packet.ssrc();
  const auto sequence = static_cast<std::uint16_t>(packet.sequence_number() + 1);
  const std::uint32_t timestamp = packet.timestamp() + 960;
  const auto payload_type = static_cast<std::uint8_t>((packet.payload_type() + 1) & 0x7F);
  const bool marker = !packet.marker();
  packet.set_ssrc(ssrc);
  packet.set_sequence_number(sequence);
  packet.set_timestamp(timestamp);
  check(packet.set_payload_type(payload_type));
  check(!packet.set_payload_type(0x80));
  packet.set_marker(marker);
  check(packet.ssrc() == ssrc && packet.sequence_number() == sequence && packet.timestamp() == timestamp);
  check(packet.payload_type() == payload_type && packet.marker() == marker);
  check(is_newer(sequence, static_cast<std::uint16_t>(sequence - 1)));
  check(buffer[0] == before[0]);
  check(std::equal(buffer.begin() + 12, buffer.end(), before.begin() + 12));

  auto again = RtpPacket::parse(buffer);
  check(again.has_value());
  check(again->header_size() == packet.header_size() && again->padding_size() == packet.padding_size());
  check(again->csrc_count() == packet.csrc_count() && again->extension_form() == packet.extension_form());
  check(again->ssrc() == ssrc && again->sequence_number() == sequence && again->timestamp() == timestamp);
  check(again->payload_type() == payload_type && again->marker() == marker);
  for (int id = 0; id <= 255; ++id) {
    const auto key = static_cast<std::uint8_t>(id);
    check(same_bytes(again->extension(key), packet.extension(key)));
  }
}

void check_transport_sequence_rewrite(std::vector<std::uint8_t>& buffer, RtpPacket& packet) {
  for (int id = 1; id <= 255; ++id) {
    const auto key = static_cast<std::uint8_t>(id);
    const auto element = packet.extension(key);
    if (!element || element->size() != 2) continue;
    const std::vector<std::uint8_t> before = buffer;
    const auto offset = static_cast<std::size_t>(element->data() - buffer.data());
    check(write_transport_sequence_number(packet, key, 0xA55A));
    check(read_transport_sequence_number(packet, key) == 0xA55A);
    for (std::size_t i = 0; i < buffer.size(); ++i) {
      if (i != offset && i != offset + 1) check(buffer[i] == before[i]);
    }
    return;
  }
}

void check_builder_round_trip(const RtpPacket& packet) {
  std::array<std::uint32_t, kMaxCsrcCount> csrcs{};
  for (std::size_t i = 0; i < packet.csrc_count(); ++i) csrcs[i] = packet.csrc(i);
  std::array<OneByteExtensionElement, kMaxOneByteExtensionId> elements{};
  std::size_t element_count = 0;
  if (packet.extension_form() == ExtensionForm::kOneByte) {
    for (std::uint8_t id = 1; id <= kMaxOneByteExtensionId; ++id) {
      if (auto data = packet.extension(id)) elements[element_count++] = {id, *data};
    }
  }
  RtpHeaderFields fields;
  fields.marker = packet.marker();
  fields.payload_type = packet.payload_type();
  fields.sequence_number = packet.sequence_number();
  fields.timestamp = packet.timestamp();
  fields.ssrc = packet.ssrc();
  fields.csrcs = std::span{csrcs}.first(packet.csrc_count());
  fields.extensions = std::span{elements}.first(element_count);

  // Fixed header, 15 CSRCs, extension header, 14 elements of 17 bytes rounded up to a word.
  std::array<std::uint8_t, 12 + 60 + 4 + 240> out{};
  const auto size = write_rtp_header(out, fields);
  check(size.has_value() && *size <= out.size());
  check(write_rtp_header(std::span{out}.first(*size - 1), fields) == std::nullopt);
  const auto rebuilt = RtpPacket::parse(std::span{out}.first(*size));
  check(rebuilt.has_value() && rebuilt->header_size() == *size && rebuilt->payload().empty());
  check(rebuilt->marker() == fields.marker && rebuilt->payload_type() == fields.payload_type);
  check(rebuilt->sequence_number() == fields.sequence_number && rebuilt->timestamp() == fields.timestamp);
  check(rebuilt->ssrc() == fields.ssrc && rebuilt->csrc_count() == packet.csrc_count());
  for (std::size_t i = 0; i < packet.csrc_count(); ++i) check(rebuilt->csrc(i) == csrcs[i]);
  for (std::uint8_t id = 1; id <= kMaxOneByteExtensionId; ++id) {
    const auto original = packet.extension_form() == ExtensionForm::kOneByte ? packet.extension(id) : std::nullopt;
    check(same_bytes(rebuilt->extension(id), original));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: ASan then flags any read one byte past the datagram.
  std::vector<std::uint8_t> buffer(data, data + size);
  auto packet = RtpPacket::parse(buffer);
  if (!packet) return 0;
  read_everything(*packet);
  check_builder_round_trip(*packet);
  check_rewrite_round_trip(buffer, *packet);
  check_transport_sequence_rewrite(buffer, *packet);
  return 0;
}
