// StreamFramer: cuts SIP messages out of a TCP/TLS byte stream (RFC 3261 §18.3).
//
// A message is its header section up to the blank line plus Content-Length octets of body;
// Content-Length is mandatory on streams (§18.3, §20.14). CRLFs between messages are skipped
// (§7.5; RFC 5626 §3.5.1 keep-alives). Each byte is searched once for the blank line (the search
// resumes where it stopped), so a message trickling in one byte at a time costs linear work, and
// the buffer holds at most max_message_bytes unless a whole message is waiting at its front.
// Threading: none; one framer belongs to one connection on the control loop.
#include <algorithm>

#include "signaling/message/grammar.hpp"
#include "signaling/message/message_parser.hpp"

namespace chorus::sip {
namespace {

struct ContentLength {
  int count = 0;
  std::string_view value;
};

// Finds Content-Length ("l" compact, §7.3.3) in a header section without parsing the rest.
ContentLength scan_content_length(std::string_view headers) {
  ContentLength found;
  std::size_t pos = headers.find('\n');  // skip the start line
  while (pos != std::string_view::npos && pos + 1 < headers.size()) {
    const std::size_t start = pos + 1;
    std::size_t eol = headers.find('\n', start);
    if (eol == std::string_view::npos) eol = headers.size();
    const std::string_view line = headers.substr(start, eol - start);
    pos = eol == headers.size() ? std::string_view::npos : eol;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.empty() || grammar::is_wsp(line[0])) continue;
    const std::string_view name = trim(line.substr(0, colon));
    if (iequals(name, "Content-Length") || iequals(name, "l")) {
      ++found.count;
      found.value = trim(line.substr(colon + 1));
    }
  }
  return found;
}

}  // namespace

bool StreamFramer::feed(std::string_view bytes) {
  if (fatal_) return false;
  if (consumed_ > 0) {  // once per feed: at most one move of what is left
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
  if (buffered() <= limits_.max_message_bytes) return true;
  // Past the limit, which is fine only while a whole message waits at the front for next(); twice
  // the limit means the caller is not draining, and the buffer must stay bounded anyway.
  if (buffered() <= 2 * limits_.max_message_bytes) {
    skip_keepalives();
    if (locate().kind == Frame::Kind::kComplete) return true;
  }
  // Refused: the connection is to be closed, so nothing held is worth keeping.
  buffer_.clear();
  buffer_.shrink_to_fit();
  consumed_ = 0;
  scan_offset_ = 0;
  frame_bytes_.reset();
  fatal_ = true;
  return false;
}

void StreamFramer::skip_keepalives() {
  while (consumed_ < buffer_.size() && (buffer_[consumed_] == '\r' || buffer_[consumed_] == '\n')) {
    if (buffer_[consumed_] == '\n' && ++line_feeds_ == 2) {  // CRLFCRLF (or LF LF) is one ping
      ++pings_;
      line_feeds_ = 0;
    }
    ++consumed_;
  }
  if (consumed_ < buffer_.size()) line_feeds_ = 0;  // a message starts here
}

std::optional<std::size_t> StreamFramer::find_header_end() {
  // The blank line is LF followed by CRLF or by a bare LF (tolerated, §7.5 robustness).
  const std::string_view data(buffer_.data() + consumed_, buffered());
  std::size_t pos = scan_offset_;
  while (true) {
    const std::size_t lf = data.find('\n', pos);
    if (lf == std::string_view::npos) {
      scan_offset_ = data.size();
      return std::nullopt;
    }
    if (lf + 1 < data.size() && data[lf + 1] == '\n') return lf + 2;
    if (lf + 2 < data.size() && data[lf + 1] == '\r' && data[lf + 2] == '\n') return lf + 3;
    if (lf + 2 >= data.size()) {  // cannot tell yet: look at this LF again when more arrives
      scan_offset_ = lf;
      return std::nullopt;
    }
    pos = lf + 1;
  }
}

StreamFramer::Frame StreamFramer::locate() {
  Frame frame;
  if (frame_bytes_) {
    frame.kind = buffered() >= *frame_bytes_ ? Frame::Kind::kComplete : Frame::Kind::kNeedMore;
    frame.total_bytes = *frame_bytes_;
    return frame;
  }
  const auto header_end = find_header_end();
  if (!header_end) {
    if (buffered() > limits_.max_message_bytes) {
      frame = Frame{Frame::Kind::kBad, limits_.max_message_bytes, 0, 513, "Message Too Large"};
    }
    return frame;
  }
  frame.header_bytes = *header_end;
  const ContentLength cl = scan_content_length(std::string_view(buffer_.data() + consumed_, *header_end));
  auto bad = [&frame](int status, std::string_view reason) {
    frame.kind = Frame::Kind::kBad;
    frame.status = status;
    frame.reason = reason;
    return frame;
  };
  if (cl.count == 0) return bad(400, "Missing Content-Length header");  // §18.3: mandatory on streams
  if (cl.count > 1) return bad(400, "Multiple Content-Length headers");
  // 1*DIGIT; a well-formed length past the message limit is a 513, not a 400 (§21.5.8).
  const auto length = grammar::parse_decimal(cl.value, 0xffffffffULL);
  if (!length) return bad(400, "Bad Content-Length header");
  if (*header_end + *length > limits_.max_message_bytes) return bad(513, "Message Too Large");
  frame_bytes_ = *header_end + *length;
  frame.total_bytes = *frame_bytes_;
  frame.kind = buffered() >= frame.total_bytes ? Frame::Kind::kComplete : Frame::Kind::kNeedMore;
  return frame;
}

StreamFramer::Item StreamFramer::framing_error(int status, std::string_view reason, std::size_t header_bytes) {
  // The stream cannot be cut any further: report what the headers say (for a response) and then
  // go fatal so the connection is closed.
  fatal_ = true;
  ParseError error;
  auto parsed = parse_message(std::string_view(buffer_.data() + consumed_, header_bytes), limits_);
  if (parsed) {
    error.is_request = parsed->is_request;
    error.have_response_headers = parsed->is_request && !parsed->vias.empty();
    error.partial = std::move(*parsed);
  } else {
    error = std::move(parsed.error());
  }
  error.status = status;
  error.reason.assign(reason);
  Item item;
  item.status = Status::kError;
  item.error = std::move(error);
  return item;
}

StreamFramer::Item StreamFramer::next() {
  Item item;
  if (fatal_) {
    item.status = Status::kFatal;
    item.error = ParseError{400, "Stream framing lost", true, false, {}};
    return item;
  }
  skip_keepalives();
  if (consumed_ == buffer_.size()) {  // nothing held: reuse the storage from its start
    buffer_.clear();
    consumed_ = 0;
    return item;
  }
  const Frame frame = locate();
  if (frame.kind == Frame::Kind::kNeedMore) return item;
  if (frame.kind == Frame::Kind::kBad) return framing_error(frame.status, frame.reason, frame.header_bytes);

  auto parsed = parse_message(std::string_view(buffer_.data() + consumed_, frame.total_bytes), limits_);
  consumed_ += frame.total_bytes;
  scan_offset_ = 0;
  frame_bytes_.reset();
  if (parsed) {
    item.status = Status::kMessage;
    item.message = std::move(*parsed);
  } else {
    item.status = Status::kError;  // framing held: the stream goes on after this message
    item.error = std::move(parsed.error());
  }
  return item;
}

}  // namespace chorus::sip
