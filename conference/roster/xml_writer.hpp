// XmlWriter: the few lines of XML 1.0 the roster needs, written without a dependency. Elements
// and attributes are opened and closed in order; every text and attribute value is escaped (XML
// 1.0 §2.4, §3.3.3: & < > " '), and what cannot appear in an XML document at all (controls other
// than tab, CR and LF, ill-formed UTF-8, U+FFFE/U+FFFF; XML 1.0 §2.2 Char) becomes U+FFFD, so a
// caller's display name cannot break or extend the document. The writer is bounded: past
// `max_bytes` it stops writing and says so (overflowed()), and the caller sends nothing it made.
// Threading: none (a value type).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::conference {

class XmlWriter {
 public:
  explicit XmlWriter(std::size_t max_bytes = 64 * 1024);

  // `<name attr="v" ...>`: attributes follow with attribute() until the first child or text.
  XmlWriter& open(std::string_view name);
  XmlWriter& attribute(std::string_view name, std::string_view value);
  XmlWriter& text(std::string_view value);
  // <name>value</name>
  XmlWriter& element(std::string_view name, std::string_view value);
  // Closes the innermost open element (`/>` when it is empty).
  XmlWriter& close();

  // The document (with the XML declaration); every element closed. Empty when it overflowed.
  [[nodiscard]] std::string finish();
  [[nodiscard]] bool overflowed() const { return overflowed_; }

 private:
  void end_start_tag();
  void put(std::string_view raw);
  void put_escaped(std::string_view value, bool attribute);

  std::string out_;
  std::vector<std::string> open_;
  bool start_tag_open_ = false;
  std::size_t max_bytes_;
  bool overflowed_ = false;
};

// `value` as XML character data: escaped, and what XML cannot hold replaced by U+FFFD.
std::string xml_escape(std::string_view value, bool attribute = false);

}  // namespace chorus::conference
