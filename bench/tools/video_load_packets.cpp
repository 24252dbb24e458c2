#include "video_load_packets.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "media/rtcp/feedback.hpp"
#include "media/rtcp/rtcp_header.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "sfu/payload/vp8_descriptor.hpp"

namespace chorus::bench {
namespace {

void put32(std::uint8_t* out, std::uint32_t value) {
  out[0] = static_cast<std::uint8_t>(value >> 24);
  out[1] = static_cast<std::uint8_t>(value >> 16);
  out[2] = static_cast<std::uint8_t>(value >> 8);
  out[3] = static_cast<std::uint8_t>(value);
}

std::uint32_t get32(const std::uint8_t* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) | in[3];
}

// RFC 7741 §4.2: X=1, S on a frame's first packet, PartID 0; I=1 with M=1: a 15-bit PictureID.
void write_descriptor(std::uint8_t* out, bool frame_start, std::uint16_t picture_id) {
  out[0] = frame_start ? 0x90 : 0x80;
  out[1] = 0x80;
  out[2] = static_cast<std::uint8_t>(0x80 | ((picture_id >> 8) & 0x7F));
  out[3] = static_cast<std::uint8_t>(picture_id);
}

// RFC 6386 §9.1: the frame tag (P = 0 for a key frame, version 0, show_frame, first partition
// size), then for a key frame the start code 9d 01 2a and the 14-bit width and height (no scaling).
std::size_t write_frame_header(std::uint8_t* out, bool keyframe, std::uint16_t width, std::uint16_t height) {
  if (!keyframe) {
    constexpr std::array<std::uint8_t, kVp8InterHeaderSize> kInterTag{0x11, 0x25, 0x00};
    std::memcpy(out, kInterTag.data(), kInterTag.size());
    return kInterTag.size();
  }
  const std::array<std::uint8_t, kVp8KeyframeHeaderSize> header{0x30,
                                                                0xb3,
                                                                0x00,
                                                                0x9d,
                                                                0x01,
                                                                0x2a,
                                                                static_cast<std::uint8_t>(width),
                                                                static_cast<std::uint8_t>((width >> 8) & 0x3F),
                                                                static_cast<std::uint8_t>(height),
                                                                static_cast<std::uint8_t>((height >> 8) & 0x3F)};
  std::memcpy(out, header.data(), header.size());
  return header.size();
}

}  // namespace

FrameShape frame_shape(double rate, double fps) noexcept {
  FrameShape shape;
  if (!(rate > 0) || !(fps > 0)) return shape;
  shape.packets_per_frame = static_cast<std::uint32_t>(std::clamp(std::floor(rate / fps), 1.0, 1e6));
  shape.ticks_per_frame = static_cast<std::uint32_t>(
      std::clamp(std::round(kVideoClockRate * static_cast<double>(shape.packets_per_frame) / rate), 1.0, 1e9));
  return shape;
}

std::optional<Vp8Packetizer> Vp8Packetizer::create(const Vp8StreamSettings& settings) noexcept {
  if (settings.packet_size < kMinPacketSize || settings.packet_size > kMaxPacketSize ||
      settings.packets_per_frame == 0 || settings.ticks_per_frame == 0)
    return std::nullopt;
  return Vp8Packetizer(settings);
}

Vp8Packetizer::Vp8Packetizer(const Vp8StreamSettings& settings) noexcept
    : settings_(settings),
      sequence_(settings.first_sequence),
      timestamp_(settings.first_timestamp),
      picture_id_(settings.first_picture_id & 0x7FFF) {}

std::optional<std::size_t> Vp8Packetizer::next(std::span<std::uint8_t> out, const PayloadStamp& stamp) noexcept {
  if (out.size() < settings_.packet_size) return std::nullopt;
  const bool frame_start = packet_in_frame_ == 0;
  if (frame_start) {
    frame_is_key_ = keyframe_pending_;
    keyframe_pending_ = false;
    ++frames_;
    if (frame_is_key_) ++keyframes_;
  }
  const bool frame_end = packet_in_frame_ + 1 == settings_.packets_per_frame;
  media::RtpHeaderFields fields;
  fields.marker = frame_end;  // RFC 7741 §4.1: set on the last packet of a frame
  fields.payload_type = kVp8PayloadType;
  fields.sequence_number = sequence_;
  fields.timestamp = timestamp_;
  fields.ssrc = settings_.ssrc;
  if (media::write_rtp_header(out, fields) != kRtpHeaderSize) return std::nullopt;
  std::uint8_t* payload = out.data() + kRtpHeaderSize;
  const std::size_t payload_size = settings_.packet_size - kRtpHeaderSize;
  write_descriptor(payload, frame_start, picture_id_);
  std::size_t at = kVp8DescriptorSize;
  if (frame_start)
    at += write_frame_header(payload + at, frame_is_key_, settings_.width & 0x3FFF, settings_.height & 0x3FFF);
  for (; at < kStampOffset; ++at) payload[at] = static_cast<std::uint8_t>(at * 13 + 7);
  std::memcpy(payload + kStampOffset, &stamp.send_ns, sizeof(stamp.send_ns));
  put32(payload + kStampOffset + 8, stamp.publisher);
  put32(payload + kStampOffset + 12, stamp.index);
  for (at = kStampOffset + kStampSize; at < payload_size; ++at) payload[at] = static_cast<std::uint8_t>(at * 13 + 7);

  ++sequence_;
  ++packets_;
  if (frame_end) {
    packet_in_frame_ = 0;
    timestamp_ += settings_.ticks_per_frame;
    picture_id_ = (picture_id_ + 1) & 0x7FFF;
  } else {
    ++packet_in_frame_;
  }
  return settings_.packet_size;
}

std::string_view to_string(PayloadError error) noexcept {
  switch (error) {
    case PayloadError::kNotVp8:
      return "not a VP8 payload";
    case PayloadError::kTooShort:
      return "payload too short for the stamp";
  }
  return "unknown";
}

std::expected<InspectedPayload, PayloadError> inspect_payload(std::span<const std::uint8_t> payload) noexcept {
  auto descriptor = sfu::Vp8Descriptor::parse(payload);
  if (!descriptor) return std::unexpected(PayloadError::kNotVp8);
  if (payload.size() < kStampOffset + kStampSize) return std::unexpected(PayloadError::kTooShort);
  InspectedPayload out;
  std::memcpy(&out.stamp.send_ns, payload.data() + kStampOffset, sizeof(out.stamp.send_ns));
  out.stamp.publisher = get32(payload.data() + kStampOffset + 8);
  out.stamp.index = get32(payload.data() + kStampOffset + 12);
  out.keyframe = descriptor->is_keyframe();
  out.picture_id = descriptor->picture_id();
  return out;
}

void SequenceTracker::reset() noexcept {
  *this = SequenceTracker{};
}

void SequenceTracker::start(std::int64_t extended) noexcept {
  started_ = true;
  first_ = highest_ = extended;
  received_ = 1;
  seen_.reset();
  seen_.set(static_cast<std::size_t>(extended) % kSequenceHistory);
}

void SequenceTracker::on_packet(std::uint16_t sequence) noexcept {
  // Kept far from both ends of int64 so the extension never overflows, whatever arrives.
  constexpr std::int64_t kOrigin = std::int64_t{1} << 40;
  if (!started_) {
    start(kOrigin + sequence);
    return;
  }
  const auto delta =
      static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - static_cast<std::uint16_t>(highest_)));
  const std::int64_t extended = highest_ + delta;
  if (delta > 0) {
    // Numbers skipped on the way are now unseen slots of the history.
    const std::int64_t clear = std::min<std::int64_t>(delta, kSequenceHistory);
    for (std::int64_t n = extended - clear + 1; n <= extended; ++n)
      seen_.reset(static_cast<std::size_t>(n) % kSequenceHistory);
    highest_ = extended;
    seen_.set(static_cast<std::size_t>(extended) % kSequenceHistory);
    ++received_;
    return;
  }
  if (-delta > kMaxMisorder) {
    // RFC 3550 §A.1: a large jump back is a restarted sender; count on from here.
    expected_before_restart_ += highest_ - first_ + 1;
    received_before_restart_ += received_;
    ++restarts_;
    start(extended < kOrigin / 2 ? kOrigin + sequence : extended);
    return;
  }
  const auto bit = static_cast<std::size_t>(extended) % kSequenceHistory;
  if (seen_.test(bit)) {
    ++duplicates_;
    return;
  }
  seen_.set(bit);
  ++received_;
  if (delta < 0) ++reordered_;
  if (extended < first_) first_ = extended;  // arrived reordered just after the window opened
}

std::uint64_t SequenceTracker::expected() const noexcept {
  return expected_before_restart_ + (started_ ? static_cast<std::uint64_t>(highest_ - first_ + 1) : 0);
}

std::uint64_t SequenceTracker::lost() const noexcept {
  const auto want = expected(), got = received();
  return want > got ? want - got : 0;
}

std::optional<FeedbackSeen> scan_feedback(std::span<const std::uint8_t> compound, std::uint32_t media_ssrc) noexcept {
  using media::rtcp::PacketType;
  auto view = media::rtcp::CompoundView::parse(compound);
  if (!view) return std::nullopt;
  FeedbackSeen seen;
  const auto names_us = [media_ssrc](std::uint32_t ssrc) { return media_ssrc == 0 || ssrc == media_ssrc; };
  for (const media::rtcp::RtcpHeader header : *view) {
    if (header.is(PacketType::kSr) || header.is(PacketType::kRr)) {
      ++seen.reports;
    } else if (media::rtcp::feedback_fci(header, PacketType::kPsfb,
                                         static_cast<std::uint8_t>(media::rtcp::PsfbFmt::kPli))) {
      if (names_us(media::rtcp::feedback_ssrcs(header).media_ssrc)) ++seen.pli;
    } else if (auto fir = media::rtcp::feedback_fci(header, PacketType::kPsfb,
                                                    static_cast<std::uint8_t>(media::rtcp::PsfbFmt::kFir))) {
      // RFC 5104 §4.3.1.2: the FCI holds 8-octet entries, each naming the SSRC to refresh.
      for (std::size_t at = 0; at + 8 <= fir->size(); at += 8)
        if (names_us(get32(fir->data() + at))) {
          ++seen.fir;
          break;
        }
    } else if (media::rtcp::feedback_fci(header, PacketType::kRtpfb,
                                         static_cast<std::uint8_t>(media::rtcp::RtpfbFmt::kNack))) {
      if (names_us(media::rtcp::feedback_ssrcs(header).media_ssrc)) ++seen.nack;
    } else {
      ++seen.other;
    }
  }
  return seen;
}

}  // namespace chorus::bench
