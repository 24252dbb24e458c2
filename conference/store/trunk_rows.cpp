#include "conference/store/trunk_rows.hpp"

#include <nlohmann/json.hpp>

namespace chorus::conference::rows {
namespace {

// dump() throws type_error 316 on invalid UTF-8; the store's interface does not throw.
StoreResult<std::string> dump(const nlohmann::json& json, std::string_view what) {
  try {
    return json.dump();
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(codec::io_error(what, e.what()));
  }
}

}  // namespace

StoreResult<std::string> encode_targets(const std::vector<TrunkTarget>& targets) {
  auto json = nlohmann::json::array();
  for (const TrunkTarget& target : targets) {
    nlohmann::json item{{"host", target.host}};
    if (target.port) item["port"] = *target.port;
    if (target.transport) item["transport"] = to_string(*target.transport);
    json.push_back(std::move(item));
  }
  return dump(json, "encoding trunk targets");
}

StoreResult<std::vector<TrunkTarget>> decode_targets(std::string_view text) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array()) return std::unexpected(codec::io_error("reading trunk targets", "not a JSON array"));
  std::vector<TrunkTarget> targets;
  for (const auto& item : json) {
    const auto host = item.find("host");
    if (!item.is_object() || host == item.end() || !host->is_string()) {
      return std::unexpected(codec::io_error("reading trunk targets", "a target without a host"));
    }
    TrunkTarget target{.host = host->get<std::string>(), .port = std::nullopt, .transport = std::nullopt};
    if (const auto port = item.find("port"); port != item.end()) {
      if (!port->is_number_unsigned() || port->get<std::uint64_t>() > 65535) {
        return std::unexpected(codec::io_error("reading trunk targets", "a port out of range"));
      }
      target.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
    }
    if (const auto transport = item.find("transport"); transport != item.end()) {
      const auto parsed = transport->is_string() ? trunk_transport_from(transport->get<std::string>()) : std::nullopt;
      if (!parsed) return std::unexpected(codec::io_error("reading trunk targets", "an unknown transport"));
      target.transport = *parsed;
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

StoreResult<std::string> encode_registration(const TrunkRegistration& registration) {
  return dump({{"username", registration.username},
               {"realm", registration.realm},
               {"expires", registration.expires.count()},
               {"contact_user", registration.contact_user}},
              "encoding a trunk registration");
}

StoreResult<TrunkRegistration> decode_registration(std::string_view text, std::string password) {
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto field = [&json](const char* name) -> const nlohmann::json* {
    const auto found = json.find(name);
    return found == json.end() ? nullptr : &*found;
  };
  if (!json.is_object()) return std::unexpected(codec::io_error("reading a trunk registration", "not a JSON object"));
  const auto* username = field("username");
  const auto* realm = field("realm");
  const auto* expires = field("expires");
  const auto* contact_user = field("contact_user");
  if (username == nullptr || !username->is_string() || realm == nullptr || !realm->is_string() || expires == nullptr ||
      !expires->is_number_integer() || contact_user == nullptr || !contact_user->is_string()) {
    return std::unexpected(codec::io_error("reading a trunk registration", "a field is missing or mistyped"));
  }
  return TrunkRegistration{.username = username->get<std::string>(),
                           .password = std::move(password),
                           .realm = realm->get<std::string>(),
                           .expires = std::chrono::seconds(expires->get<std::int64_t>()),
                           .contact_user = contact_user->get<std::string>()};
}

StoreResult<void> check_text(const Trunk& trunk, std::string_view what) {
  std::vector<std::string_view> texts{trunk.id,
                                      trunk.name,
                                      trunk.caller_id,
                                      trunk.numbering.country_code,
                                      trunk.numbering.national_prefix,
                                      trunk.numbering.international_prefix};
  if (trunk.registration) {
    texts.insert(texts.end(), {trunk.registration->username, trunk.registration->password, trunk.registration->realm,
                               trunk.registration->contact_user});
  }
  if (trunk.outbound) texts.insert(texts.end(), {trunk.outbound->username, trunk.outbound->password});
  for (const TrunkTarget& target : trunk.targets) texts.push_back(target.host);
  for (const std::string& range : trunk.inbound_ranges) texts.push_back(range);
  for (std::string_view text : texts) {
    if (!codec::is_storable_text(text)) {
      return std::unexpected(codec::io_error(what, "a text field is not UTF-8 or holds a NUL byte"));
    }
  }
  return {};
}

}  // namespace chorus::conference::rows
