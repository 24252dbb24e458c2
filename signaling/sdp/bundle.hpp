// BUNDLE negotiation helpers: the a=group:BUNDLE lines of a description (RFC 8843 §7, RFC 5888
// §5) and the a=extmap ids of a media section (RFC 8285 §5), which the media layer needs to
// demultiplex bundled streams by the MID header extension (RFC 8843 §9.2, §15).
// Pure functions over value types: safe on any thread, no shared state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/sdp/rtp_attributes.hpp"  // kMidExtensionUri (RFC 8843 §15.1)
#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {

// Every session-level a=group:BUNDLE (RFC 5888 §5: a=group:<semantics> *(SP identification-tag)),
// in received order, each as its identification-tags in written order (RFC 8843 §7.2: the first
// names the offerer- or answerer-tagged m= section). A tag that no m= section carries as its
// a=mid is dropped (RFC 5888 §9.1: it identifies nothing), and so is one already placed in an
// earlier BUNDLE group or repeated (RFC 8843 §6: an m= section is in at most one BUNDLE group).
// Groups left without a tag are omitted. Other semantics (LS, FID, ...) are ignored.
[[nodiscard]] std::vector<std::vector<std::string>> bundle_groups(const SessionDescription& description);

// RFC 8285 §5: the id of the first well-formed a=extmap:<id>[/<direction>] <uri> [<attributes>]
// in `media` whose URI is `uri` (compared exactly). Ids are 1..255 (1..14 fit the one-byte form,
// §4.2); an id out of range, a direction other than sendonly/recvonly/sendrecv/inactive, or a
// missing URI make that line malformed, and it is skipped.
[[nodiscard]] std::optional<int> extmap_id(const MediaDescription& media, std::string_view uri);

}  // namespace chorus::sdp
