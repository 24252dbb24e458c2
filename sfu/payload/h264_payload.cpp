#include "sfu/payload/h264_payload.hpp"

#include "sfu/payload/camera_limits.hpp"
#include "sfu/payload/h264_sps.hpp"

namespace chorus::sfu {

namespace {

constexpr std::uint8_t kFuStartBit = 0x80;  // §5.8 FU header: S
constexpr std::uint8_t kFuEndBit = 0x40;    // §5.8 FU header: E

std::size_t read_unit_size(std::span<const std::uint8_t> bytes) {
  return (std::size_t{bytes[0]} << 8) | bytes[1];
}

bool is_undefined(H264NalType type) {
  const auto value = static_cast<std::uint8_t>(type);
  return value == 0 || value >= 30;
}

// Types that are RTP packetization structures rather than H.264 NAL units (§5.2 Table 1).
bool is_packetization(H264NalType type) {
  const auto value = static_cast<std::uint8_t>(type);
  return value >= static_cast<std::uint8_t>(H264NalType::kStapA) &&
         value <= static_cast<std::uint8_t>(H264NalType::kFuB);
}

bool starts_decoding(H264NalType type) {
  return type == H264NalType::kIdr || type == H264NalType::kSps;
}

// §5.7.1: walks the aggregation units after the STAP-A header; the number of units, or why not.
std::expected<std::size_t, H264Error> count_aggregation_units(std::span<const std::uint8_t> units) {
  std::size_t count = 0;
  while (!units.empty()) {
    if (units.size() < H264Payload::kStapASizeFieldSize) return std::unexpected(H264Error::kTruncatedAggregate);
    const std::size_t size = read_unit_size(units);
    if (size == 0) return std::unexpected(H264Error::kEmptyAggregate);
    if (units.size() - H264Payload::kStapASizeFieldSize < size) return std::unexpected(H264Error::kTruncatedAggregate);
    const auto type = h264_nal_type(units[H264Payload::kStapASizeFieldSize]);
    if (is_undefined(type)) return std::unexpected(H264Error::kUndefinedType);
    if (is_packetization(type)) return std::unexpected(H264Error::kNestedPacketization);
    units = units.subspan(H264Payload::kStapASizeFieldSize + size);
    ++count;
  }
  if (count == 0) return std::unexpected(H264Error::kEmptyAggregate);
  return count;
}

}  // namespace

std::string_view to_string(H264Error error) noexcept {
  switch (error) {
    case H264Error::kEmpty:
      return "empty H.264 payload";
    case H264Error::kUndefinedType:
      return "undefined H.264 NAL unit type";
    case H264Error::kInterleavedPacketization:
      return "H.264 STAP-B/MTAP/FU-B (interleaved mode) not supported";
    case H264Error::kTruncatedAggregate:
      return "H.264 STAP-A unit runs past the payload";
    case H264Error::kEmptyAggregate:
      return "H.264 STAP-A without units or with an empty unit";
    case H264Error::kNestedPacketization:
      return "H.264 aggregate or fragment nested in another";
    case H264Error::kTruncatedFragment:
      return "H.264 FU-A without its FU header";
    case H264Error::kFragmentStartAndEnd:
      return "H.264 FU-A with both start and end bits";
    case H264Error::kNotSps:
      return "H.264 NAL unit is not an SPS";
    case H264Error::kTruncatedSps:
      return "H.264 SPS truncated";
    case H264Error::kInvalidSps:
      return "H.264 SPS field out of range";
  }
  return "unknown H.264 error";
}

H264NalUnits::Iterator::value_type H264NalUnits::Iterator::operator*() const noexcept {
  if (!aggregated_) return rest_;
  return rest_.subspan(H264Payload::kStapASizeFieldSize, read_unit_size(rest_));
}

H264NalUnits::Iterator& H264NalUnits::Iterator::operator++() noexcept {
  rest_ = aggregated_ ? rest_.subspan(H264Payload::kStapASizeFieldSize + read_unit_size(rest_))
                      : rest_.subspan(rest_.size());
  return *this;
}

std::expected<H264Payload, H264Error> H264Payload::parse(std::span<const std::uint8_t> payload) noexcept {
  if (payload.empty()) return std::unexpected(H264Error::kEmpty);
  const auto type = h264_nal_type(payload[0]);
  if (is_undefined(type)) return std::unexpected(H264Error::kUndefinedType);
  switch (type) {
    case H264NalType::kStapA: {
      const auto count = count_aggregation_units(payload.subspan(1));
      if (!count) return std::unexpected(count.error());
      return H264Payload{payload, H264Packetization::kStapA, *count};
    }
    case H264NalType::kFuA: {
      if (payload.size() < kFuAHeaderSize) return std::unexpected(H264Error::kTruncatedFragment);
      const std::uint8_t fu_header = payload[1];
      if ((fu_header & kFuStartBit) != 0 && (fu_header & kFuEndBit) != 0) {
        return std::unexpected(H264Error::kFragmentStartAndEnd);
      }
      const auto original = h264_nal_type(fu_header);
      if (is_undefined(original)) return std::unexpected(H264Error::kUndefinedType);
      if (is_packetization(original)) return std::unexpected(H264Error::kNestedPacketization);
      return H264Payload{payload, H264Packetization::kFuA, 0};
    }
    case H264NalType::kStapB:
    case H264NalType::kMtap16:
    case H264NalType::kMtap24:
    case H264NalType::kFuB:
      return std::unexpected(H264Error::kInterleavedPacketization);
    default:
      return H264Payload{payload, H264Packetization::kSingleNalUnit, 1};
  }
}

H264NalType H264Payload::nal_type() const noexcept {
  if (packetization_ == H264Packetization::kFuA) return h264_nal_type(payload_[1]);
  return h264_nal_type(payload_[0]);
}

bool H264Payload::fragment_start() const noexcept {
  return packetization_ == H264Packetization::kFuA && (payload_[1] & kFuStartBit) != 0;
}

bool H264Payload::fragment_end() const noexcept {
  return packetization_ == H264Packetization::kFuA && (payload_[1] & kFuEndBit) != 0;
}

H264NalUnits H264Payload::nal_units() const noexcept {
  switch (packetization_) {
    case H264Packetization::kSingleNalUnit:
      return H264NalUnits{payload_, false, 1};
    case H264Packetization::kStapA:
      return H264NalUnits{payload_.subspan(1), true, unit_count_};
    case H264Packetization::kFuA:
      break;
  }
  return H264NalUnits{payload_.subspan(payload_.size()), false, 0};
}

bool H264Payload::is_keyframe() const noexcept {
  if (packetization_ == H264Packetization::kFuA) return fragment_start() && starts_decoding(nal_type());
  for (const auto unit : nal_units()) {
    if (starts_decoding(h264_nal_type(unit[0]))) return true;
  }
  return false;
}

std::optional<std::span<const std::uint8_t>> H264Payload::find_sps() const noexcept {
  for (const auto unit : nal_units()) {
    if (h264_nal_type(unit[0]) == H264NalType::kSps) return unit;
  }
  return std::nullopt;
}

namespace {

bool is_camera_nal_type(H264NalType type) noexcept {
  switch (type) {
    case H264NalType::kSlice:
    case H264NalType::kIdr:
    case H264NalType::kSei:
    case H264NalType::kSps:
    case H264NalType::kPps:
    case H264NalType::kAud:
      return true;
    default:
      return false;
  }
}

// A whole NAL unit a camera makes; an SPS only when it parses and its picture fits the limits.
bool is_camera_nal_unit(std::span<const std::uint8_t> unit) noexcept {
  if (unit.empty() || !is_camera_nal_type(h264_nal_type(unit[0]))) return false;
  if (h264_nal_type(unit[0]) != H264NalType::kSps) return true;
  const auto sps = parse_h264_sps(unit);
  return sps && sps->width <= kMaxCameraWidth && sps->height <= kMaxCameraHeight;
}

}  // namespace

bool is_camera_h264_payload(std::span<const std::uint8_t> payload) noexcept {
  const auto parsed = H264Payload::parse(payload);
  if (!parsed) return false;
  switch (parsed->packetization()) {
    case H264Packetization::kSingleNalUnit:
      return is_camera_nal_unit(payload);
    case H264Packetization::kFuA:  // a fragment: a slice or SEI (parameter sets are never this big)
      return parsed->nal_type() == H264NalType::kSlice || parsed->nal_type() == H264NalType::kIdr ||
             parsed->nal_type() == H264NalType::kSei;
    case H264Packetization::kStapA:
      for (auto unit : parsed->nal_units())
        if (!is_camera_nal_unit(unit)) return false;
      return true;
  }
  return false;
}

}  // namespace chorus::sfu
