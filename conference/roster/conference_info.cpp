#include "conference/roster/conference_info.hpp"

#include <algorithm>
#include <cstdio>

#include "conference/roster/xml_writer.hpp"

namespace chorus::conference {
namespace {

// RFC 3986 §2.2/§2.3: reserved and unreserved characters; '%' stays as the caller wrote it.
bool uri_char(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~:/?#[]@!$&'()*+,;=%").find(static_cast<char>(c)) != std::string_view::npos;
}

void write_description(XmlWriter& xml, const ConferenceInfo& info) {
  xml.open("conference-description");
  if (!info.display_text.empty()) xml.element("display-text", info.display_text);
  xml.element("maximum-user-count", std::to_string(info.maximum_user_count));
  xml.close();
}

void write_state(XmlWriter& xml, const ConferenceInfo& info) {
  xml.open("conference-state");
  xml.element("user-count", std::to_string(info.user_count()));
  xml.element("active", info.users.empty() ? "false" : "true");
  xml.element("locked", info.locked ? "true" : "false");
  xml.close();
}

void write_media(XmlWriter& xml, const RosterMedia& media) {
  xml.open("media").attribute("id", media.id);
  xml.element("type", media.type);
  xml.element("status", media.status);
  if (media.talking) xml.element("chorus:talking", *media.talking ? "true" : "false");
  xml.close();
}

void write_endpoint(XmlWriter& xml, const RosterEndpoint& endpoint) {
  // The order is the schema's sequence: status, joining-method, joining-info, media.
  xml.open("endpoint").attribute("entity", endpoint.entity);
  xml.element("status", endpoint.status);
  xml.element("joining-method", endpoint.joining_method);
  if (!endpoint.joined_at.empty()) {
    xml.open("joining-info");
    xml.element("when", endpoint.joined_at);
    xml.close();
  }
  for (const auto& media : endpoint.media) write_media(xml, media);
  xml.close();
}

void write_user(XmlWriter& xml, const RosterUser& user) {
  xml.open("user").attribute("entity", uri_for_xml(user.entity)).attribute("state", "full");
  if (!user.display_text.empty()) xml.element("display-text", user.display_text);
  if (!user.roles.empty()) {
    xml.open("roles");
    for (const auto& role : user.roles) xml.element("entry", role);
    xml.close();
  }
  for (const auto& endpoint : user.endpoints) write_endpoint(xml, endpoint);
  xml.close();
}

void open_root(XmlWriter& xml, const ConferenceInfo& info, std::uint32_t version, std::string_view state) {
  xml.open("conference-info")
      .attribute("xmlns", kConferenceInfoNamespace)
      .attribute("xmlns:chorus", kChorusNamespace)
      .attribute("entity", uri_for_xml(info.entity))
      .attribute("state", state)
      .attribute("version", std::to_string(version));
}

const RosterUser* find_user(const ConferenceInfo& info, std::string_view entity) {
  auto it = std::ranges::find(info.users, entity, &RosterUser::entity);
  return it == info.users.end() ? nullptr : &*it;
}

}  // namespace

std::string uri_for_xml(std::string_view uri) {
  std::string out;
  out.reserve(uri.size());
  for (char ch : uri) {
    const auto c = static_cast<unsigned char>(ch);
    if (uri_char(c)) {
      out.push_back(ch);
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

std::string write_full(const ConferenceInfo& info, std::uint32_t version, std::size_t max_bytes) {
  XmlWriter xml(max_bytes);
  open_root(xml, info, version, "full");
  write_description(xml, info);
  write_state(xml, info);
  xml.open("users");
  for (const auto& user : info.users) write_user(xml, user);
  xml.close();
  return xml.finish();
}

std::optional<std::string> write_partial(const ConferenceInfo& before, const ConferenceInfo& after,
                                         std::uint32_t version, std::size_t max_bytes) {
  if (before == after) return std::nullopt;
  XmlWriter xml(max_bytes);
  open_root(xml, after, version, "partial");
  // Elements without a state attribute are replaced whole when present in a partial document.
  if (before.display_text != after.display_text || before.maximum_user_count != after.maximum_user_count)
    write_description(xml, after);
  if (before.user_count() != after.user_count() || before.locked != after.locked) write_state(xml, after);
  if (before.users != after.users) {
    xml.open("users").attribute("state", "partial");
    for (const auto& user : after.users) {
      const RosterUser* was = find_user(before, user.entity);
      if (was == nullptr || !(*was == user)) write_user(xml, user);
    }
    for (const auto& user : before.users)
      if (find_user(after, user.entity) == nullptr)
        xml.open("user").attribute("entity", uri_for_xml(user.entity)).attribute("state", "deleted").close();
    xml.close();
  }
  return xml.finish();
}

}  // namespace chorus::conference
