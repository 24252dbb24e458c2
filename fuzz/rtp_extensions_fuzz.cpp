// libFuzzer target for the RTP header extension readers (media/rtp/rtp_packet.hpp) the SFU
// consults on every forwarded packet — MID, RID, audio level, abs-send-time, transport-wide
// sequence number — and the transport-wide sequence number writer it uses to renumber.
//
//   make fuzz-build && build-fuzz/bin/rtp_extensions_fuzz -max_total_time=60 fuzz/seeds/rtp_extensions_fuzz
//
// For every datagram RtpPacket::parse accepts, each reader runs with ids 1..14 (the one-byte
// form's) and 255 (the two-byte form's largest, and invalid in the one-byte form), and checks:
//   - a reader finds something only where extension(id) does, inside the extension block;
//   - each value is within its field (audio level <= 127, abs-send-time <= 0xFFFFFF, MID/RID
//     non-empty and inside the element, RID only of RFC 8851 rid-id characters);
//   - write_transport_sequence_number succeeds exactly where the reader does, reads back, and
//     changes no byte outside its two.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "media/rtp/rtp_packet.hpp"

namespace {

using namespace chorus::media;

void check(bool condition) {
  if (!condition) std::abort();
}

bool inside(std::string_view text, std::span<const std::uint8_t> block) {
  const auto* begin = reinterpret_cast<const std::uint8_t*>(text.data());
  return begin >= block.data() && begin + text.size() <= block.data() + block.size();
}

bool rid_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void check_readers(const RtpPacket& packet, std::uint8_t id) {
  const bool present = packet.extension(id).has_value();
  const auto block = packet.extension_block();
  if (const auto mid = read_mid(packet, id)) check(present && !mid->empty() && inside(*mid, block));
  if (const auto rid = read_rid(packet, id)) {
    check(present && !rid->empty() && inside(*rid, block));
    for (const char c : *rid) check(rid_character(c));
  }
  if (const auto level = read_audio_level(packet, id)) check(present && level->level_dbov <= 127);
  if (const auto send_time = read_abs_send_time(packet, id)) {
    check(present && send_time->raw <= 0xFFFFFF && send_time->to_duration() < std::chrono::seconds{64});
  }
  if (read_transport_sequence_number(packet, id)) check(present);
  if (packet.extension_form() == ExtensionForm::kOneByte && id > 14) check(!present);
}

void check_writer(std::vector<std::uint8_t>& buffer, std::uint8_t id, std::uint16_t value) {
  auto packet = RtpPacket::parse(buffer);
  check(packet.has_value());
  const bool readable = read_transport_sequence_number(*packet, id).has_value();
  const std::vector<std::uint8_t> before = buffer;
  const bool written = write_transport_sequence_number(*packet, id, value);
  check(written == readable);
  if (!written) {
    check(buffer == before);
    return;
  }
  check(read_transport_sequence_number(*packet, id) == value);
  const auto element = packet->extension(id);
  const auto offset = static_cast<std::size_t>(element->data() - buffer.data());
  for (std::size_t i = 0; i < buffer.size(); ++i) {
    if (i != offset && i != offset + 1) check(buffer[i] == before[i]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size heap copy: ASan then flags any read one byte past the datagram.
  std::vector<std::uint8_t> buffer(data, data + size);
  const auto packet = RtpPacket::parse(buffer);
  if (!packet) return 0;
  for (int id = 1; id <= 14; ++id) check_readers(*packet, static_cast<std::uint8_t>(id));
  check_readers(*packet, 255);
  const std::uint16_t value = size >= 2 ? static_cast<std::uint16_t>(data[0] << 8 | data[size - 1]) : 0xA55A;
  for (int id = 1; id <= 14; ++id) check_writer(buffer, static_cast<std::uint8_t>(id), value);
  check_writer(buffer, 255, value);
  return 0;
}
