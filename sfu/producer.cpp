#include "sfu/producer.hpp"

#include <algorithm>
#include <numeric>

namespace chorus::sfu {
namespace {

const CodecMapping* media_codec(const ProducerSpec& spec, std::uint8_t payload_type) {
  for (const auto& codec : spec.codecs)
    if (codec.payload_type == payload_type) return &codec;
  return nullptr;
}

const CodecMapping* rtx_codec(const ProducerSpec& spec, std::uint8_t payload_type) {
  for (const auto& codec : spec.codecs)
    if (codec.rtx_payload_type == payload_type) return &codec;
  return nullptr;
}

}  // namespace

Producer::Producer(ProducerId id, media::MediaSession& session, ProducerSpec spec, SourceId& next_source)
    : id_(id), session_(&session), spec_(std::move(spec)), next_source_(next_source) {
  const std::size_t count = std::clamp<std::size_t>(std::max(spec_.rids.size(), spec_.ssrcs.size()), 1, kMaxLayers);
  layers_.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (i < spec_.rids.size()) layers_[i].rid = spec_.rids[i];
    if (i < spec_.ssrcs.size() && spec_.rids.empty()) layers_[i].ssrc = spec_.ssrcs[i];
  }
  for (auto& layer : layers_) {
    if (!layer.ssrc) continue;
    for (const auto& [media, rtx] : spec_.rtx_pairs)
      if (media == *layer.ssrc) layer.rtx_ssrc = rtx;
  }
}

std::optional<std::size_t> Producer::layer_by_rid(std::string_view rid) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].rid == rid) return i;
  return std::nullopt;
}

void Producer::bind_media_ssrc(std::size_t layer, std::uint32_t ssrc) {
  Layer& target = layers_[layer];
  if (target.ssrc == ssrc && target.source != 0) return;
  // A new SSRC for the layer (first packet, or the sender restarted it): a new source for the slots,
  // and the caches start over, since sequence numbers start over.
  target.ssrc = ssrc;
  target.source = ++next_source_;
  target.cache.clear();
  target.nacks = NackGenerator(NackGeneratorConfig{});
  for (const auto& [media, rtx] : spec_.rtx_pairs)
    if (media == ssrc) target.rtx_ssrc = rtx;
}

std::optional<std::size_t> Producer::media_layer(const media::RtpPacket& packet) {
  const std::uint32_t ssrc = packet.ssrc();
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].ssrc == ssrc) {
      if (layers_[i].source == 0) bind_media_ssrc(i, ssrc);
      return i;
    }
  // RFC 8852 §3: the RID names the layer; it may come on a new SSRC for a known rid.
  if (spec_.extensions.rid != 0)
    if (auto rid = media::read_rid(packet, spec_.extensions.rid))
      if (auto layer = layer_by_rid(*rid)) {
        bind_media_ssrc(*layer, ssrc);
        return layer;
      }
  // A single stream (no simulcast): whatever SSRC it sends from is the layer, a new one a restart.
  if (spec_.rids.empty() && layers_.size() == 1 && (spec_.ssrcs.empty() || layers_[0].source == 0)) {
    bind_media_ssrc(0, ssrc);
    return 0;
  }
  return std::nullopt;
}

std::optional<std::size_t> Producer::rtx_layer(const media::RtpPacket& packet) {
  const std::uint32_t ssrc = packet.ssrc();
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].rtx_ssrc == ssrc) return i;
  if (spec_.extensions.repaired_rid != 0)
    if (auto rid = media::read_rid(packet, spec_.extensions.repaired_rid))
      if (auto layer = layer_by_rid(*rid)) {
        layers_[*layer].rtx_ssrc = ssrc;
        return layer;
      }
  if (layers_.size() == 1 && spec_.rids.empty() && !layers_[0].rtx_ssrc) {
    layers_[0].rtx_ssrc = ssrc;
    return 0;
  }
  return std::nullopt;
}

std::optional<Producer::Classified> Producer::classify(const media::RtpPacket& packet) {
  if (const auto* codec = media_codec(spec_, packet.payload_type())) {
    auto layer = media_layer(packet);
    if (!layer) return std::nullopt;
    return Classified{*layer, codec, false};
  }
  if (const auto* codec = rtx_codec(spec_, packet.payload_type())) {
    auto layer = rtx_layer(packet);
    if (!layer || !layers_[*layer].ssrc) return std::nullopt;
    return Classified{*layer, codec, true};
  }
  return std::nullopt;
}

std::vector<std::size_t> Producer::layers_by_resolution() const {
  std::vector<std::size_t> order(layers_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  const bool all_sized = std::ranges::all_of(layers_, [](const Layer& l) { return l.width > 0 || !l.last_packet; });
  if (all_sized)
    std::ranges::stable_sort(order, [&](std::size_t a, std::size_t b) {
      return std::uint32_t{layers_[a].width} * layers_[a].height < std::uint32_t{layers_[b].width} * layers_[b].height;
    });
  return order;
}

bool Producer::live(TimePoint now, std::chrono::milliseconds idle_after) const {
  return std::ranges::any_of(layers_,
                             [&](const Layer& l) { return l.last_packet && now - *l.last_packet < idle_after; });
}

std::int64_t Producer::rate_bps(TimePoint now) const {
  std::int64_t total = 0;
  for (const auto& layer : layers_) total += layer.meter.rate_bps(now);
  return total;
}

bool Producer::may_log_drop(TimePoint now) {
  if (last_drop_log_ && now - *last_drop_log_ < std::chrono::seconds(1)) return false;
  last_drop_log_ = now;
  return true;
}

}  // namespace chorus::sfu
