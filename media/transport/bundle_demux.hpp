// BundleDemux: which bundled m= section an RTP packet received on a BUNDLE transport belongs to
// (RFC 8843 §9.2), by the MID header extension (§15), the SSRC, or an unambiguous payload type.
//
// RFC 8843 §9.2 builds tables per BUNDLE group; this class holds them:
//   - MID → stream, from each stream's a=mid (at most 16 octets: the one-byte extension form
//     carries no more, and §9.2 bounds the value so);
//   - incoming SSRC → stream: the peer's signalled a=ssrc values (fixed) and the bindings learned
//     from packets (at most kMaxLearnedSsrcs, the least recently bound evicted first);
//   - outgoing SSRC → stream: our own SSRCs, for RTCP that names them (report blocks, feedback);
//   - payload type → stream, leaving out any payload type that more than one stream receives.
// route() applies §9.2 in order:
//   1. a packet carrying the MID extension names its stream, and binds (or re-binds) its SSRC
//      to it, unless the packet is older than the one that last set the binding (RFC 7941
//      §4.2.6); a MID that names no stream, or is malformed or too long, drops the packet;
//   2. else a bound SSRC (learned first, then signalled) routes;
//   3. else a payload type that exactly one stream receives routes and binds the SSRC;
//   4. else the packet is unroutable.
// A routed packet's payload type must be one its stream receives (§9.2 step 3), else it is
// dropped. CSRC copies (§9.2's last RTP step) are left to the mixer: an SFU forwards by SSRC.
//
// The packet path never throws or allocates; every drop is counted. Configuration errors are
// reported by create() on the control path.
//
// Threading: none of its own. It belongs to the media worker thread serving the transport.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "media/rtp/rtp_packet.hpp"

namespace chorus::media {

// One bundled m= section, as negotiated.
struct BundleStreamConfig {
  std::string mid;                          // a=mid (RFC 5888 §4), 1..16 token characters
  std::vector<std::uint8_t> payload_types;  // the formats it receives, each 0..127
  std::vector<std::uint32_t> remote_ssrcs;  // the peer's a=ssrc values (RFC 5576 §4.1), if any
  std::vector<std::uint32_t> local_ssrcs;   // what we send in it, for RTCP routing
};

struct BundleDemuxConfig {
  std::vector<BundleStreamConfig> streams;
  // a=extmap id of urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8285 §5); 0 when not negotiated.
  std::uint8_t mid_extension_id = 0;
};

struct BundleDemuxCounters {
  std::uint64_t routed_by_mid = 0;
  std::uint64_t routed_by_ssrc = 0;
  std::uint64_t routed_by_pt = 0;
  std::uint64_t unroutable = 0;             // dropped: no MID, no binding, PT unknown or shared
  std::uint64_t unknown_mid = 0;            // dropped: MID names no stream, is too long or malformed
  std::uint64_t payload_type_mismatch = 0;  // dropped: its stream does not receive that PT
  std::uint64_t evicted = 0;                // learned SSRC bindings pushed out at the bound
  std::uint64_t rebound = 0;                // a MID moved an SSRC to another stream
};

class BundleDemux {
 public:
  static constexpr std::size_t kMaxMidLength = 16;       // RFC 8843 §9.2 / §15
  static constexpr std::size_t kMaxStreams = 32;         // m= sections in one BUNDLE group
  static constexpr std::size_t kMaxLearnedSsrcs = 64;    // learned incoming bindings
  static constexpr std::size_t kMaxSignalledSsrcs = 64;  // per direction, over all streams
  static constexpr std::size_t kPayloadTypes = 128;      // RFC 3550 §5.1: 7 bits

  // Fails (with a reason for the log) on no streams, too many, an empty, overlong, non-token or
  // repeated MID, a payload type above 127, a stream with no payload type, or an SSRC signalled
  // twice or beyond kMaxSignalledSsrcs.
  [[nodiscard]] static std::expected<BundleDemux, std::string> create(const BundleDemuxConfig& config);

  // The index into config.streams that `packet` belongs to, or nullopt (dropped, counted).
  [[nodiscard]] std::optional<std::size_t> route(const RtpPacket& packet) noexcept;

  // RTCP (RFC 8843 §9.2): the stream of an SSRC the peer sends from (an SR's sender SSRC, an
  // SDES chunk, a BYE) — learned bindings first, then signalled ones. Changes nothing.
  [[nodiscard]] std::optional<std::size_t> route_rtcp_ssrc(std::uint32_t ssrc) const noexcept;
  // The stream of one of our own SSRCs (a report block's source, a NACK/PLI media SSRC, a FIR
  // target).
  [[nodiscard]] std::optional<std::size_t> route_rtcp_local_ssrc(std::uint32_t ssrc) const noexcept;
  // RFC 8843 §9.2: after a BYE (and the RFC 3550 §6.2.1 straggler delay the caller keeps), the
  // learned binding goes. Signalled SSRCs stay: they are the SDP's until it changes.
  void forget_ssrc(std::uint32_t ssrc) noexcept;

  [[nodiscard]] std::size_t stream_count() const noexcept { return mids_.size(); }
  [[nodiscard]] std::size_t learned_ssrc_count() const noexcept { return learned_.size(); }
  [[nodiscard]] const BundleDemuxCounters& counters() const noexcept { return counters_; }

 private:
  struct Binding {
    std::uint32_t ssrc = 0;
    std::uint16_t stream = 0;
    bool set_by_mid = false;  // last_mid_sequence is meaningful
    std::uint16_t last_mid_sequence = 0;
    std::uint64_t bound_at = 0;  // bind_clock_ when created, moved or confirmed by a MID
  };
  struct SsrcEntry {
    std::uint32_t ssrc = 0;
    std::uint16_t stream = 0;
  };
  static constexpr std::int16_t kNoStream = -1;
  static constexpr std::int16_t kSharedPayloadType = -2;

  BundleDemux() = default;

  [[nodiscard]] std::optional<std::size_t> route_by_mid(const RtpPacket& packet,
                                                        std::span<const std::uint8_t> element) noexcept;
  [[nodiscard]] std::optional<std::size_t> find_mid(std::string_view mid) const noexcept;
  [[nodiscard]] Binding* find_learned(std::uint32_t ssrc) noexcept;
  [[nodiscard]] const Binding* find_learned(std::uint32_t ssrc) const noexcept;
  Binding& bind(std::uint32_t ssrc, std::size_t stream) noexcept;
  // Counts a payload type its stream does not receive; returns `stream` when it does.
  [[nodiscard]] std::optional<std::size_t> accept(std::size_t stream, std::uint8_t payload_type) noexcept;

  std::vector<std::string> mids_;
  std::vector<std::bitset<kPayloadTypes>> stream_payload_types_;
  std::array<std::int16_t, kPayloadTypes> payload_type_owner_{};
  std::vector<SsrcEntry> signalled_;
  std::vector<SsrcEntry> local_;
  std::vector<Binding> learned_;  // capacity reserved once: the packet path never allocates
  std::uint64_t bind_clock_ = 0;
  std::uint8_t mid_extension_id_ = 0;
  BundleDemuxCounters counters_;
};

}  // namespace chorus::media
