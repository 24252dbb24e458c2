// Known SIP header names (RFC 3261 §20 and the extensions a conference server meets).
#include "signaling/message/header_table.hpp"

#include <array>

#include "signaling/message/grammar.hpp"

namespace chorus::sip {
namespace {

using enum HeaderId;

// list = true only where the grammar is `x *(COMMA x)` and no single value contains a bare comma.
// WWW-Authenticate, Authorization, Proxy-Authenticate, Proxy-Authorization (challenge/credentials
// hold comma-separated auth-params), Date (rfc1123-date has a comma) and Retry-After, Subject,
// User-Agent, Server (free text) stay whole. Date is stored, never interpreted, so a bad zone
// (RFC 4475 §3.1.2.12 baddate, "either") is accepted.
constexpr std::array kHeaders = {
    HeaderInfo{"Via", kVia, true, 'v'},
    HeaderInfo{"From", kFrom, false, 'f'},
    HeaderInfo{"To", kTo, false, 't'},
    HeaderInfo{"Call-ID", kCallId, false, 'i'},
    HeaderInfo{"CSeq", kCSeq, false, 0},
    HeaderInfo{"Max-Forwards", kMaxForwards, false, 0},
    HeaderInfo{"Content-Length", kContentLength, false, 'l'},
    HeaderInfo{"Contact", kContact, true, 'm'},
    HeaderInfo{"Route", kRoute, true, 0},
    HeaderInfo{"Record-Route", kRecordRoute, true, 0},
    HeaderInfo{"Content-Type", kOther, false, 'c'},
    HeaderInfo{"Content-Encoding", kOther, true, 'e'},
    HeaderInfo{"Subject", kOther, false, 's'},
    HeaderInfo{"Supported", kOther, true, 'k'},
    HeaderInfo{"Event", kOther, false, 'o'},               // RFC 6665 §8.2.1
    HeaderInfo{"Allow-Events", kOther, true, 'u'},         // RFC 6665 §8.2.2
    HeaderInfo{"Refer-To", kOther, false, 'r'},            // RFC 3515 §2.1
    HeaderInfo{"Referred-By", kOther, false, 'b'},         // RFC 3892 §3
    HeaderInfo{"Session-Expires", kOther, false, 'x'},     // RFC 4028 §4
    HeaderInfo{"Identity", kOther, false, 'y'},            // RFC 8224 §4
    HeaderInfo{"Identity-Info", kOther, false, 'n'},       // RFC 4474 §7
    HeaderInfo{"Accept-Contact", kOther, true, 'a'},       // RFC 3841 §10
    HeaderInfo{"Reject-Contact", kOther, true, 'j'},       // RFC 3841 §10
    HeaderInfo{"Request-Disposition", kOther, true, 'd'},  // RFC 3841 §10
    HeaderInfo{"Accept", kOther, true, 0},
    HeaderInfo{"Accept-Encoding", kOther, true, 0},
    HeaderInfo{"Accept-Language", kOther, true, 0},
    HeaderInfo{"Alert-Info", kOther, true, 0},
    HeaderInfo{"Allow", kOther, true, 0},
    HeaderInfo{"Authentication-Info", kOther, false, 0},
    HeaderInfo{"Authorization", kOther, false, 0},
    HeaderInfo{"Call-Info", kOther, true, 0},
    HeaderInfo{"Content-Disposition", kOther, false, 0},
    HeaderInfo{"Content-Language", kOther, true, 0},
    HeaderInfo{"Date", kOther, false, 0},
    HeaderInfo{"Error-Info", kOther, true, 0},
    HeaderInfo{"Expires", kOther, false, 0},
    HeaderInfo{"In-Reply-To", kOther, true, 0},
    HeaderInfo{"MIME-Version", kOther, false, 0},
    HeaderInfo{"Min-Expires", kOther, false, 0},
    HeaderInfo{"Min-SE", kOther, false, 0},  // RFC 4028 §5
    HeaderInfo{"Organization", kOther, false, 0},
    HeaderInfo{"Priority", kOther, false, 0},
    HeaderInfo{"Proxy-Authenticate", kOther, false, 0},
    HeaderInfo{"Proxy-Authorization", kOther, false, 0},
    HeaderInfo{"Proxy-Require", kOther, true, 0},
    HeaderInfo{"Reply-To", kOther, false, 0},
    HeaderInfo{"Require", kOther, true, 0},
    HeaderInfo{"Retry-After", kOther, false, 0},
    HeaderInfo{"Server", kOther, false, 0},
    HeaderInfo{"Timestamp", kOther, false, 0},
    HeaderInfo{"Unsupported", kOther, true, 0},
    HeaderInfo{"User-Agent", kOther, false, 0},
    HeaderInfo{"Warning", kOther, true, 0},
    HeaderInfo{"WWW-Authenticate", kOther, false, 0},
    HeaderInfo{"RAck", kOther, false, 0},                 // RFC 3262 §7.2
    HeaderInfo{"RSeq", kOther, false, 0},                 // RFC 3262 §7.1
    HeaderInfo{"Path", kOther, true, 0},                  // RFC 3327
    HeaderInfo{"Service-Route", kOther, true, 0},         // RFC 3608
    HeaderInfo{"Privacy", kOther, false, 0},              // RFC 3323
    HeaderInfo{"P-Asserted-Identity", kOther, true, 0},   // RFC 3325
    HeaderInfo{"P-Preferred-Identity", kOther, true, 0},  // RFC 3325
    HeaderInfo{"Reason", kOther, true, 0},                // RFC 3326
    HeaderInfo{"Replaces", kOther, false, 0},             // RFC 3891
    HeaderInfo{"Join", kOther, false, 0},                 // RFC 3911
    HeaderInfo{"Subscription-State", kOther, false, 0},   // RFC 6665
    HeaderInfo{"SIP-ETag", kOther, false, 0},             // RFC 3903
    HeaderInfo{"SIP-If-Match", kOther, false, 0},         // RFC 3903
    HeaderInfo{"Security-Client", kOther, true, 0},       // RFC 3329
    HeaderInfo{"Security-Server", kOther, true, 0},       // RFC 3329
    HeaderInfo{"Security-Verify", kOther, true, 0},       // RFC 3329
    HeaderInfo{"Content-Transfer-Encoding", kOther, false, 0},
};

constexpr std::array<const HeaderInfo*, 26> make_compact_index() {
  std::array<const HeaderInfo*, 26> index{};
  for (const auto& h : kHeaders) {
    if (h.compact != 0) index[h.compact - 'a'] = &h;
  }
  return index;
}

constexpr std::array<const HeaderInfo*, 26> kCompactIndex = make_compact_index();

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (grammar::ascii_lower(a[i]) != grammar::ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace

const HeaderInfo* find_header_info(std::string_view name) {
  if (name.size() == 1) {  // §7.3.3 compact form
    const char c = grammar::ascii_lower(name[0]);
    return (c >= 'a' && c <= 'z') ? kCompactIndex[c - 'a'] : nullptr;
  }
  for (const auto& h : kHeaders) {
    if (h.name.size() == name.size() && equals_ignoring_case(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace chorus::sip
