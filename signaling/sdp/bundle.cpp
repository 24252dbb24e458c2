#include "signaling/sdp/bundle.hpp"

#include <algorithm>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

[[nodiscard]] bool has_mid(const SessionDescription& description, std::string_view tag) {
  return std::ranges::any_of(description.media, [tag](const MediaDescription& m) {
    auto mid = m.mid();
    return mid && detail::trim(*mid) == tag;
  });
}

[[nodiscard]] bool already_grouped(const std::vector<std::vector<std::string>>& groups,
                                   const std::vector<std::string>& current, std::string_view tag) {
  auto contains = [tag](const std::vector<std::string>& group) { return std::ranges::find(group, tag) != group.end(); };
  return contains(current) || std::ranges::any_of(groups, contains);
}

}  // namespace

std::vector<std::vector<std::string>> bundle_groups(const SessionDescription& description) {
  std::vector<std::vector<std::string>> groups;
  for (const auto& attribute : description.attributes) {
    if (!attribute.value || !detail::iequals(attribute.name, "group")) continue;
    std::string_view rest = *attribute.value;
    // RFC 8843 §16.1 registers the semantics token "BUNDLE"; tokens are case-sensitive.
    if (detail::next_token(rest) != "BUNDLE") continue;
    std::vector<std::string> group;
    for (auto tag = detail::next_token(rest); !tag.empty(); tag = detail::next_token(rest)) {
      if (!has_mid(description, tag) || already_grouped(groups, group, tag)) continue;
      group.emplace_back(tag);
    }
    if (!group.empty()) groups.push_back(std::move(group));
  }
  return groups;
}

std::optional<int> extmap_id(const MediaDescription& media, std::string_view uri) {
  for (const auto& attribute : media.attributes) {
    if (!attribute.value || !detail::iequals(attribute.name, "extmap")) continue;
    // RFC 8285 §5 (parse_extmap): a malformed line is skipped.
    const auto extmap = parse_extmap(*attribute.value);
    if (extmap && extmap->uri == uri) return extmap->id;
  }
  return std::nullopt;
}

}  // namespace chorus::sdp
