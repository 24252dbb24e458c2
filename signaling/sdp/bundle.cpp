#include "signaling/sdp/bundle.hpp"

#include <algorithm>

#include "signaling/sdp/sdp_text.hpp"

namespace chorus::sdp {
namespace {

// RFC 8285 §5: extension ids 1..255; 0 is padding in both element forms (§4.2, §4.3).
constexpr int kMinExtmapId = 1;
constexpr int kMaxExtmapId = 255;

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

// RFC 8285 §5 direction values (RFC 8866 §6.7 names).
[[nodiscard]] bool is_extmap_direction(std::string_view direction) {
  return direction == "sendonly" || direction == "recvonly" || direction == "sendrecv" || direction == "inactive";
}

// a=extmap value: <id>["/"<direction>] SP <uri> [SP <extensionattributes>].
struct ExtmapView {
  int id = 0;
  std::string_view uri;
};

[[nodiscard]] std::optional<ExtmapView> parse_extmap(std::string_view value) {
  std::string_view rest = value;
  std::string_view id_and_direction = detail::next_token(rest);
  std::string_view uri = detail::next_token(rest);
  if (uri.empty()) return std::nullopt;
  const auto slash = id_and_direction.find('/');
  if (slash != std::string_view::npos && !is_extmap_direction(id_and_direction.substr(slash + 1))) {
    return std::nullopt;
  }
  // Grammar: 1*5DIGIT; at most five digits keeps "0000001" style padding out.
  const std::string_view digits = id_and_direction.substr(0, slash);
  if (digits.size() > 5) return std::nullopt;
  const auto id = detail::parse_int(digits, kMaxExtmapId);
  if (!id || *id < kMinExtmapId) return std::nullopt;
  return ExtmapView{*id, uri};
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
    const auto extmap = parse_extmap(*attribute.value);
    if (extmap && extmap->uri == uri) return extmap->id;
  }
  return std::nullopt;
}

}  // namespace chorus::sdp
