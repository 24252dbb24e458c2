#include "conference/roster/xml_writer.hpp"

#include <cstdint>

namespace chorus::conference {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence at `text[i]` (RFC 3629 §4), or 0.
std::size_t sequence_length(std::string_view text, std::size_t i, std::uint32_t& code) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  std::size_t length = 0;
  std::uint32_t min = 0;
  if ((lead & 0xE0U) == 0xC0U) {
    length = 2, code = lead & 0x1FU, min = 0x80;
  } else if ((lead & 0xF0U) == 0xE0U) {
    length = 3, code = lead & 0x0FU, min = 0x800;
  } else if ((lead & 0xF8U) == 0xF0U) {
    length = 4, code = lead & 0x07U, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0U) != 0x80U) return 0;
    code = (code << 6U) | (byte(i + k) & 0x3FU);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

// XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
bool is_xml_char(std::uint32_t code) {
  return code == 0x9 || code == 0xA || code == 0xD || (code >= 0x20 && code <= 0xD7FF) ||
         (code >= 0xE000 && code <= 0xFFFD) || code >= 0x10000;
}

}  // namespace

std::string xml_escape(std::string_view value, bool attribute) {
  std::string out;
  out.reserve(value.size());
  for (std::size_t i = 0; i < value.size();) {
    std::uint32_t code = 0;
    const std::size_t length = sequence_length(value, i, code);
    if (length == 0 || !is_xml_char(code)) {
      out += kReplacement;
      i += length == 0 ? 1 : length;
      continue;
    }
    switch (code) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      // XML 1.0 §3.3.3: a literal tab/CR/LF in an attribute is normalised to a space on reading;
      // a character reference keeps it.
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;  // §2.11: a literal CR would be read as LF
      default:
        out.append(value.substr(i, length));
    }
    i += length;
  }
  return out;
}

XmlWriter::XmlWriter(std::size_t max_bytes) : max_bytes_(max_bytes) {
  put("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
}

void XmlWriter::put(std::string_view raw) {
  if (overflowed_) return;
  if (out_.size() + raw.size() > max_bytes_) {
    overflowed_ = true;
    return;
  }
  out_.append(raw);
}

void XmlWriter::end_start_tag() {
  if (!start_tag_open_) return;
  put(">");
  start_tag_open_ = false;
}

XmlWriter& XmlWriter::open(std::string_view name) {
  end_start_tag();
  put("<");
  put(name);
  open_.emplace_back(name);
  start_tag_open_ = true;
  return *this;
}

XmlWriter& XmlWriter::attribute(std::string_view name, std::string_view value) {
  if (!start_tag_open_) return *this;  // only inside a start tag
  put(" ");
  put(name);
  put("=\"");
  put(xml_escape(value, true));
  put("\"");
  return *this;
}

XmlWriter& XmlWriter::text(std::string_view value) {
  end_start_tag();
  put(xml_escape(value));
  return *this;
}

XmlWriter& XmlWriter::element(std::string_view name, std::string_view value) {
  open(name);
  text(value);
  return close();
}

XmlWriter& XmlWriter::close() {
  if (open_.empty()) return *this;
  if (start_tag_open_) {
    put("/>");
    start_tag_open_ = false;
  } else {
    put("</");
    put(open_.back());
    put(">");
  }
  open_.pop_back();
  return *this;
}

std::string XmlWriter::finish() {
  while (!open_.empty()) close();
  if (overflowed_) return {};
  return std::move(out_);
}

}  // namespace chorus::conference
