#include "media/transport/bundle_demux.hpp"

#include <algorithm>
#include <span>
#include <string>

namespace chorus::media {
namespace {

// RFC 8866 §9 token: what RFC 5888 §4 allows in an identification-tag (a=mid).
[[nodiscard]] constexpr bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view{"!#$%&'*+-.^_`{|}~"}.find(c) != std::string_view::npos;
}

[[nodiscard]] bool is_valid_mid(std::string_view mid) noexcept {
  return !mid.empty() && mid.size() <= BundleDemux::kMaxMidLength && std::ranges::all_of(mid, is_token_char);
}

// RFC 1982 serial arithmetic on the 16-bit RTP sequence number: `a` comes after `b`. Without the
// receiver's extended sequence numbers this is the half-window test RFC 3550 §A.1 also uses.
[[nodiscard]] constexpr bool is_newer(std::uint16_t a, std::uint16_t b) noexcept {
  return a != b && static_cast<std::uint16_t>(a - b) < 0x8000;
}

// Adds one direction's signalled SSRCs, refusing repeats and going past the bound.
[[nodiscard]] std::expected<void, std::string> add_ssrcs(const std::vector<std::uint32_t>& ssrcs, std::size_t stream,
                                                         auto& table, std::string_view what) {
  for (const std::uint32_t ssrc : ssrcs) {
    if (std::ranges::any_of(table, [ssrc](const auto& e) { return e.ssrc == ssrc; })) {
      return std::unexpected(std::string(what) + " SSRC " + std::to_string(ssrc) + " signalled twice");
    }
    if (table.size() == BundleDemux::kMaxSignalledSsrcs) {
      return std::unexpected("more than " + std::to_string(BundleDemux::kMaxSignalledSsrcs) + " " + std::string(what) +
                             " SSRCs");
    }
    table.push_back({ssrc, static_cast<std::uint16_t>(stream)});
  }
  return {};
}

}  // namespace

std::expected<BundleDemux, std::string> BundleDemux::create(const BundleDemuxConfig& config) {
  if (config.streams.empty()) return std::unexpected(std::string("no bundled streams"));
  if (config.streams.size() > kMaxStreams) {
    return std::unexpected(std::to_string(config.streams.size()) + " bundled streams, at most " +
                           std::to_string(kMaxStreams));
  }
  BundleDemux demux;
  demux.mid_extension_id_ = config.mid_extension_id;
  demux.payload_type_owner_.fill(kNoStream);
  for (std::size_t index = 0; index < config.streams.size(); ++index) {
    const auto& stream = config.streams[index];
    if (!is_valid_mid(stream.mid)) return std::unexpected("bad MID '" + stream.mid + "'");
    if (std::ranges::find(demux.mids_, stream.mid) != demux.mids_.end()) {
      return std::unexpected("MID '" + stream.mid + "' repeated");
    }
    if (stream.payload_types.empty()) return std::unexpected("MID '" + stream.mid + "' receives no payload type");
    std::bitset<kPayloadTypes> payload_types;
    for (const std::uint8_t pt : stream.payload_types) {
      if (pt >= kPayloadTypes) return std::unexpected("payload type " + std::to_string(pt) + " above 127");
      payload_types.set(pt);
    }
    // RFC 8843 §9.2: a payload type several sections receive identifies none of them.
    for (std::size_t pt = 0; pt < kPayloadTypes; ++pt) {
      if (!payload_types.test(pt)) continue;
      auto& owner = demux.payload_type_owner_[pt];
      owner = owner == kNoStream ? static_cast<std::int16_t>(index) : kSharedPayloadType;
    }
    if (auto added = add_ssrcs(stream.remote_ssrcs, index, demux.signalled_, "remote"); !added) {
      return std::unexpected(added.error());
    }
    if (auto added = add_ssrcs(stream.local_ssrcs, index, demux.local_, "local"); !added) {
      return std::unexpected(added.error());
    }
    demux.mids_.push_back(stream.mid);
    demux.stream_payload_types_.push_back(payload_types);
  }
  demux.learned_.reserve(kMaxLearnedSsrcs);
  return demux;
}

std::optional<std::size_t> BundleDemux::route(const RtpPacket& packet) noexcept {
  // RFC 8843 §9.2 step 2: the MID a packet carries decides, and updates the SSRC table.
  if (mid_extension_id_ != 0) {
    if (const auto element = packet.extension(mid_extension_id_)) return route_by_mid(packet, *element);
  }
  const std::uint32_t ssrc = packet.ssrc();
  // Step 3: an SSRC in the incoming table; learned bindings, which MIDs update, come first.
  if (const Binding* binding = find_learned(ssrc)) {
    const auto routed = accept(binding->stream, packet.payload_type());
    if (routed) ++counters_.routed_by_ssrc;
    return routed;
  }
  const auto signalled = std::ranges::find(signalled_, ssrc, &SsrcEntry::ssrc);
  if (signalled != signalled_.end()) {
    const auto routed = accept(signalled->stream, packet.payload_type());
    if (routed) ++counters_.routed_by_ssrc;
    return routed;
  }
  // Step 4: a payload type only one section receives; the SSRC is bound to it from now on.
  const std::int16_t owner = payload_type_owner_[packet.payload_type()];
  if (owner >= 0) {
    bind(ssrc, static_cast<std::size_t>(owner));
    ++counters_.routed_by_pt;
    return static_cast<std::size_t>(owner);
  }
  // Step 5: not for decoding.
  ++counters_.unroutable;
  return std::nullopt;
}

std::optional<std::size_t> BundleDemux::route_by_mid(const RtpPacket& packet,
                                                     std::span<const std::uint8_t> element) noexcept {
  // The element's bytes are the MID text (RFC 8843 §15); anything longer than a MID can be, or
  // naming no section, marks a stream "not for decoding" (§9.2 step 1).
  const std::string_view text(reinterpret_cast<const char*>(element.data()), element.size());
  const auto stream = text.size() <= kMaxMidLength ? find_mid(text) : std::nullopt;
  if (!stream) {
    ++counters_.unknown_mid;
    return std::nullopt;
  }
  const std::uint16_t sequence = packet.sequence_number();
  Binding* binding = find_learned(packet.ssrc());
  if (binding == nullptr) {
    binding = &bind(packet.ssrc(), *stream);
  } else if (binding->set_by_mid && !is_newer(sequence, binding->last_mid_sequence)) {
    // RFC 7941 §4.2.6: a reordered packet from before the last MID update changes nothing; it
    // goes where the SSRC is bound now.
    const auto routed = accept(binding->stream, packet.payload_type());
    if (routed) ++counters_.routed_by_ssrc;
    return routed;
  } else if (binding->stream != *stream) {
    binding->stream = static_cast<std::uint16_t>(*stream);
    ++counters_.rebound;
  }
  binding->set_by_mid = true;
  binding->last_mid_sequence = sequence;
  binding->bound_at = ++bind_clock_;
  const auto routed = accept(*stream, packet.payload_type());
  if (routed) ++counters_.routed_by_mid;
  return routed;
}

std::optional<std::size_t> BundleDemux::route_rtcp_ssrc(std::uint32_t ssrc) const noexcept {
  if (const Binding* binding = find_learned(ssrc)) return binding->stream;
  const auto signalled = std::ranges::find(signalled_, ssrc, &SsrcEntry::ssrc);
  if (signalled != signalled_.end()) return signalled->stream;
  return std::nullopt;
}

std::optional<std::size_t> BundleDemux::route_rtcp_local_ssrc(std::uint32_t ssrc) const noexcept {
  const auto local = std::ranges::find(local_, ssrc, &SsrcEntry::ssrc);
  if (local != local_.end()) return local->stream;
  return std::nullopt;
}

void BundleDemux::forget_ssrc(std::uint32_t ssrc) noexcept {
  std::erase_if(learned_, [ssrc](const Binding& b) { return b.ssrc == ssrc; });
}

std::optional<std::size_t> BundleDemux::find_mid(std::string_view mid) const noexcept {
  const auto found = std::ranges::find(mids_, mid);
  if (found == mids_.end()) return std::nullopt;
  return static_cast<std::size_t>(found - mids_.begin());
}

BundleDemux::Binding* BundleDemux::find_learned(std::uint32_t ssrc) noexcept {
  const auto found = std::ranges::find(learned_, ssrc, &Binding::ssrc);
  return found == learned_.end() ? nullptr : &*found;
}

const BundleDemux::Binding* BundleDemux::find_learned(std::uint32_t ssrc) const noexcept {
  const auto found = std::ranges::find(learned_, ssrc, &Binding::ssrc);
  return found == learned_.end() ? nullptr : &*found;
}

BundleDemux::Binding& BundleDemux::bind(std::uint32_t ssrc, std::size_t stream) noexcept {
  const Binding fresh{ssrc, static_cast<std::uint16_t>(stream), false, 0, ++bind_clock_};
  if (learned_.size() < kMaxLearnedSsrcs) return learned_.emplace_back(fresh);
  // At the bound the least recently bound SSRC goes: a peer cycling SSRCs (or forging them)
  // cannot grow the table, and streams whose MID keeps confirming them stay.
  auto oldest = std::ranges::min_element(learned_, {}, &Binding::bound_at);
  *oldest = fresh;
  ++counters_.evicted;
  return *oldest;
}

std::optional<std::size_t> BundleDemux::accept(std::size_t stream, std::uint8_t payload_type) noexcept {
  // RFC 8843 §9.2 step 3: the payload type must be one the matching section receives.
  if (stream_payload_types_[stream].test(payload_type)) return stream;
  ++counters_.payload_type_mismatch;
  return std::nullopt;
}

}  // namespace chorus::media
