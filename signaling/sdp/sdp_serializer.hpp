// serialize_sdp(): SessionDescription → wire text, CRLF line ends, in the order RFC 8866 §5
// prescribes: v o s i u e p c b t r z k a, then per media m i c b k a. Lines of unknown type
// that the parser kept go last in their section. A missing s= is written "s=-" and a missing t=
// as "t=0 0", so the output always satisfies RFC 8866's required lines.
// Pure function: safe on any thread.
#pragma once

#include <string>

#include "signaling/sdp/session_description.hpp"

namespace chorus::sdp {

std::string serialize_sdp(const SessionDescription& sd);

}  // namespace chorus::sdp
