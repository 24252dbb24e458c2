// Router, the packet path (router.hpp has the picture): a producer's packet is placed in its layer
// (RTX unwrapped, RFC 4588), checked against the producer's bitrate limit, looked at for a keyframe
// (RFC 7741 / RFC 6184), remembered for retransmission and NACK generation, and copied to every slot
// the layer feeds with the slot's own header: SSRC, payload type, rewritten sequence number and
// timestamp, VP8 picture ids, and the receiver's MID, abs-send-time and transport-wide sequence
// number extensions. Receivers' NACKs are answered from the producers' caches; probe padding goes
// out as RTX padding-only packets. No allocation, no exception, no lock on the RTP path.
#include <cstring>

#include "common/log.hpp"
#include "media/rtp/rtp_header_writer.hpp"
#include "sfu/payload/h264_payload.hpp"
#include "sfu/payload/h264_sps.hpp"
#include "sfu/payload/vp8_descriptor.hpp"
#include "sfu/router.hpp"
#include "sfu/rtx.hpp"

namespace chorus::sfu {
namespace {

constexpr std::chrono::milliseconds kMinRetransmitInterval{40};  // one answer per packet per ~RTT
constexpr std::size_t kProbePadding = 255;                       // RFC 3550 §5.1: the padding count is one octet

// abs-send-time: 6.18 fixed-point seconds, wrapping every 64 s.
std::array<std::uint8_t, 3> abs_send_time(std::chrono::steady_clock::time_point now) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const auto value = static_cast<std::uint32_t>(((static_cast<std::uint64_t>(micros) << 18) / 1'000'000) & 0xFFFFFF);
  return {static_cast<std::uint8_t>(value >> 16), static_cast<std::uint8_t>(value >> 8),
          static_cast<std::uint8_t>(value)};
}

struct KeyframeInfo {
  bool keyframe = false;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};

// RFC 7741 §4.3 / RFC 6184 §5: whether the packet starts a keyframe, and its size when it says.
std::optional<KeyframeInfo> inspect(VideoCodec codec, std::span<const std::uint8_t> payload) {
  KeyframeInfo info;
  if (codec == VideoCodec::kVp8) {
    auto descriptor = Vp8Descriptor::parse(payload);
    if (!descriptor) return std::nullopt;
    if (auto keyframe = descriptor->keyframe_info()) info = {true, keyframe->width, keyframe->height};
    return info;
  }
  auto h264 = H264Payload::parse(payload);
  if (!h264) return std::nullopt;
  info.keyframe = h264->is_keyframe();
  if (info.keyframe)
    if (auto sps = h264->find_sps())
      if (auto parsed = parse_h264_sps(*sps)) {
        info.width = static_cast<std::uint16_t>(parsed->width);
        info.height = static_cast<std::uint16_t>(parsed->height);
      }
  return info;
}

}  // namespace

void Router::on_producer_rtp(ProducerId id, media::RtpPacket& packet, std::span<std::uint8_t> buffer) {
  auto it = producers_.find(id);
  if (it == producers_.end()) return;
  Producer& producer = *it->second;
  bump(counters_->packets_in);
  const auto at = now();
  auto classified = producer.classify(packet);
  if (!classified) {
    bump(counters_->dropped_unknown);
    if (producer.may_log_drop(at))
      CHORUS_LOG(kDebug, "sfu", "video packet for no layer dropped", {"room", name_},
                 {"participant", producer.participant()}, {"payload_type", packet.payload_type()},
                 {"ssrc", packet.ssrc()});
    return;
  }
  if (!classified->retransmission) {
    on_media(producer, classified->layer, *classified->codec, packet, at, false);
    return;
  }
  if (is_padding_only(packet)) return;  // the sender probing its own bandwidth: nothing to forward
  const auto& layer = producer.layers()[classified->layer];
  auto repaired =
      unwrap_rtx_in_place(buffer.first(packet.size()), RtxRepairParams{*layer.ssrc, classified->codec->payload_type});
  if (!repaired) {
    bump(counters_->dropped_unknown);
    return;
  }
  on_media(producer, classified->layer, *classified->codec, *repaired, at, true);
}

void Router::on_media(Producer& producer, std::size_t index, const CodecMapping& codec, media::RtpPacket& packet,
                      TimePoint at, bool retransmission) {
  auto& layer = producer.layers()[index];
  layer.meter.add(packet.size(), at);
  // Every ingress has a limit: a producer far above any sane video rate is cut, the others untouched.
  if (static_cast<std::uint64_t>(producer.rate_bps(at)) > config_.max_producer_bps) {
    bump(counters_->dropped_over_bitrate);
    if (producer.may_log_drop(at))
      CHORUS_LOG(kWarn, "sfu", "producer over its bitrate limit: packets dropped", {"room", name_},
                 {"participant", producer.participant()}, {"bps", producer.rate_bps(at)},
                 {"limit_bps", config_.max_producer_bps});
    return;
  }
  if (packet.payload().empty()) return;  // padding on the media stream
  auto info = inspect(codec.codec, packet.payload());
  if (!info) {
    bump(counters_->dropped_unknown);
    return;
  }
  producer.set_codec(codec.codec);
  layer.last_packet = at;
  layer.last_timestamp = packet.timestamp();
  if (info->keyframe) {
    layer.last_keyframe = at;
    if (info->width > 0) {
      layer.width = info->width;
      layer.height = info->height;
    }
  }
  if (!retransmission || layer.nacks.is_missing(packet.sequence_number())) {
    if (layer.nacks.on_packet(packet.sequence_number(), info->keyframe, at) == NackEvent::kKeyframeNeeded)
      request_keyframe(producer, index, at);
  }
  (void)layer.cache.store(packet, at);
  auto subscribers = subscribers_.find((std::uint64_t{producer.id()} << 8) | index);
  if (subscribers == subscribers_.end()) return;
  // By index: a switch in forward() unsubscribes the slot from another layer's list, never this one.
  auto& list = subscribers->second;
  for (std::size_t i = 0; i < list.size(); ++i) forward(*list[i], producer, index, codec, packet, info->keyframe, at);
}

void Router::forward(Slot& slot, Producer& producer, std::size_t index, const CodecMapping& codec,
                     const media::RtpPacket& packet, bool keyframe, TimePoint at) {
  const CodecMapping* receiver = slot.receiver_codec(codec.codec);
  if (receiver == nullptr) return;
  const LayerRef here{producer.id(), index};
  const auto& layer = producer.layers()[index];
  StreamRewriter::Input input{
      SourceKey{layer.source, static_cast<std::uint8_t>(index)}, packet.sequence_number(), packet.timestamp(), at,
      keyframe && ((slot.target && *slot.target == here) || (slot.current && *slot.current == here))};
  auto out = slot.rewriter.rewrite(input);
  if (!out) return;
  if (out->switched && slot.target && *slot.target == here) {
    const auto previous = slot.current;
    slot.current = here;
    slot.target.reset();
    if (previous && !(*previous == here)) unsubscribe(slot, *previous);
    bump(counters_->switches);
  }
  auto length = write_egress(
      slot,
      EgressHeader{packet.marker(), receiver->payload_type, out->sequence_number, out->timestamp, slot.spec().ssrc},
      packet.payload(), at);
  if (!length) return;
  Slot::Sent sent{true, out->sequence_number, out->timestamp, {}, {}, {}};
  if (codec.codec == VideoCodec::kVp8) {
    const std::size_t header = *length - packet.payload().size();
    auto payload = std::span(egress_).subspan(header, packet.payload().size());
    if (!slot.vp8.rewrite(payload, out->switched)) return;
    if (auto descriptor = Vp8Descriptor::parse(payload)) {
      sent.picture_id = descriptor->picture_id();
      sent.tl0_pic_idx = descriptor->tl0_pic_idx();
    }
  }
  slot.remember(sent);
  slot.last_timestamp = out->timestamp;
  if (slot.session().send_rtp(egress_, *length)) bump(counters_->packets_forwarded);
}

std::optional<std::size_t> Router::write_egress(Slot& slot, const EgressHeader& header,
                                                std::span<const std::uint8_t> payload, TimePoint at,
                                                std::size_t padding, std::optional<std::uint32_t> probe_cluster) {
  const auto& ids = slot.spec().extensions;
  std::array<media::OneByteExtensionElement, 3> elements{};
  std::size_t count = 0;
  // RFC 8843 §15: the MID lets a BUNDLE receiver place the stream before it knows our SSRC.
  const auto& mid = slot.spec().mid;
  if (ids.mid != 0 && !mid.empty() && mid.size() <= media::kMaxOneByteExtensionDataSize)
    elements[count++] = {ids.mid, std::span(reinterpret_cast<const std::uint8_t*>(mid.data()), mid.size())};
  const auto send_time = abs_send_time(at);
  if (ids.abs_send_time != 0) elements[count++] = {ids.abs_send_time, send_time};
  std::array<std::uint8_t, 2> wide{};
  auto transport = transports_.find(slot.session().id());
  const bool stamp = ids.transport_cc != 0 && transport != transports_.end() && transport->second.estimator;
  if (stamp) elements[count++] = {ids.transport_cc, wide};
  media::RtpHeaderFields fields;
  fields.marker = header.marker;
  fields.payload_type = header.payload_type;
  fields.sequence_number = header.sequence_number;
  fields.timestamp = header.timestamp;
  fields.ssrc = header.ssrc;
  fields.extensions = std::span(elements).first(count);
  auto header_size = media::rtp_header_size(fields);
  const std::size_t total = header_size.value_or(0) + payload.size() + padding;
  if (!header_size || total > media::kMaxDatagramSize || (padding > 0 && !payload.empty()) || padding > 255)
    return std::nullopt;
  if (stamp) {
    // draft-holmer-rmcat-transport-wide-cc-extensions-01 §2: numbered in sending order on the transport.
    const auto number = transport->second.estimator->on_packet_sent(at, total, probe_cluster);
    wide = {static_cast<std::uint8_t>(number >> 8), static_cast<std::uint8_t>(number)};
  }
  auto written = media::write_rtp_header(egress_, fields);
  if (!written) return std::nullopt;
  if (!payload.empty()) std::memcpy(egress_.data() + *written, payload.data(), payload.size());
  if (padding > 0) {  // RFC 3550 §5.1: P bit; the last octet counts the padding, itself included
    egress_[0] |= 0x20;
    std::memset(egress_.data() + *written, 0, padding - 1);
    egress_[*written + padding - 1] = static_cast<std::uint8_t>(padding);
  }
  return total;
}

void Router::answer_nack(Slot& slot, const media::rtcp::GenericNack& nack, TimePoint at) {
  for (const auto& item : nack.items) {
    // RFC 4585 §6.2.1: PID, and BLP bit i for PID + i + 1.
    retransmit(slot, item.pid, at);
    for (unsigned bit = 0; bit < 16; ++bit)
      if ((item.blp >> bit) & 1U) retransmit(slot, static_cast<std::uint16_t>(item.pid + bit + 1), at);
  }
}

void Router::retransmit(Slot& slot, std::uint16_t sequence, TimePoint at) {
  bump(counters_->nacks_received);
  Slot::Sent* sent = slot.sent(sequence);
  if (sent == nullptr || (sent->retransmitted && at - *sent->retransmitted < kMinRetransmitInterval)) return;
  auto source = slot.rewriter.source_of(sequence);
  if (!source) return;
  auto located = layer_of_source(source->source.producer);
  if (!located) return;
  auto& [producer, index] = *located;
  auto entry = producer->layers()[index].cache.find(source->sequence_number, at);
  if (!entry || entry->bytes.size() > cached_.size()) return;
  std::memcpy(cached_.data(), entry->bytes.data(), entry->bytes.size());
  auto original = media::RtpPacket::parse(std::span(cached_).first(entry->bytes.size()));
  if (!original || !producer->codec()) return;
  const CodecMapping* receiver = slot.receiver_codec(*producer->codec());
  if (receiver == nullptr) return;
  auto length = write_egress(
      slot, EgressHeader{original->marker(), receiver->payload_type, sequence, sent->timestamp, slot.spec().ssrc},
      original->payload(), at);
  if (!length) return;
  const std::size_t header = *length - original->payload().size();
  auto payload = std::span(egress_).subspan(header, original->payload().size());
  if (sent->picture_id) (void)write_vp8_picture_id(payload, *sent->picture_id);
  if (sent->tl0_pic_idx) (void)write_vp8_tl0_pic_idx(payload, *sent->tl0_pic_idx);
  sent->retransmitted = at;
  bump(counters_->retransmissions);
  if (slot.spec().rtx_ssrc == 0 || !receiver->rtx_payload_type) {
    slot.session().send_rtp(egress_, *length);  // RFC 4585 without RFC 4588: the same packet again
    return;
  }
  auto rebuilt = media::RtpPacket::parse(std::span(egress_).first(*length));
  if (!rebuilt) return;
  auto rtx = build_rtx_packet(
      *rebuilt,
      RtxSendParams{slot.spec().rtx_ssrc, *receiver->rtx_payload_type, slot.rtx_sequence++, RtxHeaderExtensions::kCopy},
      rtx_);
  if (rtx) slot.session().send_rtp(rtx_, rtx->size());
}

void Router::send_probe_padding(Transport& transport, TimePoint at) {
  if (!transport.probe || !transport.estimator) return;
  // The padding rides on a slot's RTX stream (RFC 4588), which receivers discard after counting it.
  Slot* carrier = nullptr;
  const CodecMapping* codec = nullptr;
  for (auto& [id, slot] : slots_) {
    if (&slot->session() != transport.session || slot->spec().rtx_ssrc == 0) continue;
    for (const auto& mapping : slot->spec().codecs)
      if (mapping.rtx_payload_type) {
        carrier = slot.get();
        codec = &mapping;
        break;
      }
    if (carrier) break;
  }
  if (carrier == nullptr) {
    transport.probe.reset();
    return;
  }
  const auto& cluster = *transport.probe;
  // Paced: by now the cluster should have sent elapsed × rate; send up to that.
  const auto elapsed = std::chrono::duration<double>(at - transport.probe_started).count();
  const auto due = static_cast<std::size_t>(elapsed * static_cast<double>(cluster.bitrate_bps) / 8.0) + kProbePadding;
  while (transport.probe_sent_bytes < std::min(due, cluster.bytes) ||
         transport.probe_sent_packets < cluster.min_packets) {
    const EgressHeader header{false, *codec->rtx_payload_type, carrier->rtx_sequence++, carrier->last_timestamp,
                              carrier->spec().rtx_ssrc};
    auto length = write_egress(*carrier, header, {}, at, kProbePadding, cluster.id);
    if (!length) break;
    carrier->session().send_rtp(egress_, *length);
    transport.probe_sent_bytes += *length;
    ++transport.probe_sent_packets;
    bump(counters_->probe_bytes, *length);
  }
  if (transport.probe_sent_bytes >= cluster.bytes && transport.probe_sent_packets >= cluster.min_packets)
    transport.probe.reset();
}

}  // namespace chorus::sfu
