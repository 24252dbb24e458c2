// Parsing SIP messages from the wire (RFC 3261 §7, §25; RFC 4475 shows the hard cases).
//
// Two entry points share one code path:
//  - parse_datagram(): one UDP datagram holds one message; octets past Content-Length are ignored
//    (§18.3); a missing Content-Length means "the rest of the datagram".
//  - StreamFramer: a push parser for TCP/TLS/WS byte streams. Bytes go in with feed(); whole
//    messages come out of next(), framed by Content-Length, which is mandatory on streams (§18.3).
//
// A failure says which status to answer with and why (400 names the bad header, 505 for an
// unknown version, 513 for too large). `partial` holds what could be read, so the caller can still
// build a response when the Via, From, To, Call-ID and CSeq were readable.
#pragma once

#include <cstddef>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

struct ParseLimits {
  std::size_t max_message_bytes = 64 * 1024;  // whole message, headers and body
  std::size_t max_headers = 200;
  std::size_t max_line_bytes = 8 * 1024;
};

struct ParseError {
  int status = 400;    // 400, 505 or 513
  std::string reason;  // e.g. "Bad Via header", "Missing Call-ID"
  bool is_request = true;
  bool have_response_headers = false;  // partial has usable Via/From/To/Call-ID/CSeq
  SipMessage partial;
};

using ParseResult = std::expected<SipMessage, ParseError>;

ParseResult parse_datagram(std::string_view datagram, const ParseLimits& limits = {});

// Parses one complete message whose extent is already known (headers + body).
ParseResult parse_message(std::string_view text, const ParseLimits& limits = {});

class StreamFramer {
 public:
  explicit StreamFramer(ParseLimits limits = {}) : limits_(limits) {}

  // Appends received bytes. Returns false when the buffer would exceed the message limit
  // without a whole message in it: the connection should be answered 513 / closed.
  bool feed(std::string_view bytes);

  enum class Status { kNeedMore, kMessage, kError, kFatal };
  struct Item {
    Status status = Status::kNeedMore;
    std::optional<SipMessage> message;  // kMessage
    std::optional<ParseError> error;    // kError: answerable; kFatal: framing lost, close
  };
  // Takes the next whole message out of the buffer, if one is complete.
  Item next();

  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - consumed_; }

  // RFC 5626 §3.5.1: a CRLFCRLF "ping" between messages is skipped; each one seen since the last
  // call is counted here so the transport can answer it with a CRLF "pong" (§4.4.1).
  [[nodiscard]] std::size_t take_pings() { return std::exchange(pings_, 0); }

 private:
  // Where the message at the front of the buffer ends, as far as the buffered bytes tell.
  struct Frame {
    enum class Kind { kNeedMore, kComplete, kBad } kind = Kind::kNeedMore;
    std::size_t header_bytes = 0;  // through the blank line
    std::size_t total_bytes = 0;   // kComplete: headers + Content-Length
    int status = 0;                // kBad: 400 or 513
    std::string_view reason;       // kBad
  };
  Frame locate();
  std::optional<std::size_t> find_header_end();
  void skip_keepalives();
  Item framing_error(int status, std::string_view reason, std::size_t header_bytes);

  ParseLimits limits_;
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::size_t scan_offset_ = 0;  // bytes of the current message already searched for CRLFCRLF
  std::size_t line_feeds_ = 0;   // LFs skipped between messages since the last ping
  std::size_t pings_ = 0;
  std::optional<std::size_t> frame_bytes_;  // total size of the front message once known
  bool fatal_ = false;                      // framing was lost: every next() is kFatal
};

}  // namespace chorus::sip
