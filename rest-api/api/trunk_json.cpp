#include "rest-api/api/trunk_json.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <string>
#include <string_view>

#include "common/utf8.hpp"
#include "conference/egress_policy.hpp"
#include "conference/trunks/number_normalization.hpp"
#include "rest-api/api/json_codec.hpp"
#include "signaling/message/sip_uri.hpp"
#include "signaling/transport/address_range.hpp"

namespace chorus::rest {
namespace {

using json = nlohmann::json;
using conference::Trunk;
using Errors = std::vector<FieldError>;

json status_json(const conference::RegistrationStatus& status) {
  return {{"state", conference::to_string(status.state)},
          {"last_error", status.last_error.empty() ? json(nullptr) : json(status.last_error)},
          {"expires_at", status.expires_at ? json(format_rfc3339(*status.expires_at)) : json(nullptr)}};
}

// A string member of at most `max` bytes: nullopt (and an error) when it is not one.
std::optional<std::string> string_member(const json& value, const std::string& field, std::size_t min, std::size_t max,
                                         Errors& errors) {
  if (!value.is_string()) {
    errors.push_back({field, "must be a string"});
    return std::nullopt;
  }
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() < min || text.size() > max) {
    errors.push_back({field, "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes"});
    return std::nullopt;
  }
  return text;
}

// What goes into a SIP URI's user part and an Authorization header's quoted username: printable
// ASCII without the characters those grammars delimit with (RFC 3261 §25.1 user, §25.1 quoted-string).
bool is_sip_user(std::string_view text) {
  return !text.empty() && std::ranges::all_of(text, [](char c) {
    return c > ' ' && c < 0x7f && std::string_view("\"\\<>@:;").find(c) == std::string_view::npos;
  });
}

bool is_digits(std::string_view text) {
  return std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// A host: an IP literal (IPv6 with or without brackets) or an RFC 1123 name; stored without brackets.
std::optional<std::string> check_host(const json& value, const std::string& field, Errors& errors) {
  auto host = string_member(value, field, 1, 253, errors);
  if (!host) return std::nullopt;
  std::string text = *host;
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  boost::asio::ip::make_address(text, ec);
  if (!ec) return text;
  if (conference::is_host_name(*host)) return *host;
  errors.push_back({field, "must be a host name or an IP address"});
  return std::nullopt;
}

void check_targets(const json& value, Trunk& trunk, Errors& errors) {
  if (!value.is_array() || value.empty() || value.size() > kMaxTrunkTargets) {
    errors.push_back({"/targets", "must be an array of 1 to " + std::to_string(kMaxTrunkTargets) + " targets"});
    return;
  }
  std::vector<conference::TrunkTarget> targets;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string base = "/targets/" + std::to_string(i);
    const json& item = value[i];
    if (!item.is_object() || !item.contains("host")) {
      errors.push_back({base, "must be an object with a host"});
      continue;
    }
    conference::TrunkTarget target;
    if (auto host = check_host(item["host"], base + "/host", errors)) target.host = std::move(*host);
    if (const auto port = item.find("port"); port != item.end() && !port->is_null()) {
      if (!port->is_number_integer() || port->get<std::int64_t>() < 1 || port->get<std::int64_t>() > 65535) {
        errors.push_back({base + "/port", "must be an integer from 1 to 65535"});
      } else {
        target.port = static_cast<std::uint16_t>(port->get<std::int64_t>());
      }
    }
    if (const auto transport = item.find("transport"); transport != item.end() && !transport->is_null()) {
      const auto parsed =
          transport->is_string() ? conference::trunk_transport_from(transport->get<std::string>()) : std::nullopt;
      if (!parsed) {
        errors.push_back({base + "/transport", "must be udp, tcp or tls"});
      } else {
        target.transport = *parsed;
      }
    }
    targets.push_back(std::move(target));
  }
  trunk.targets = std::move(targets);
}

void check_username(const json& value, const std::string& field, std::string& out, Errors& errors) {
  auto text = string_member(value, field, 1, kMaxTrunkCredentialLength, errors);
  if (!text) return;
  if (!is_sip_user(*text)) {
    errors.push_back({field, "must be printable ASCII without spaces or \"\\<>@:;"});
    return;
  }
  out = std::move(*text);
}

void check_password(const json& object, const std::string& base, bool required, std::string& out, Errors& errors) {
  const auto password = object.find("password");
  if (password == object.end() || password->is_null()) {
    if (required) errors.push_back({base + "/password", "is required"});
    return;
  }
  auto text = string_member(*password, base + "/password", 1, kMaxTrunkCredentialLength, errors);
  if (!text) return;
  if (!is_valid_utf8(*text) || text->find('\0') != std::string::npos) {
    errors.push_back({base + "/password", "must be UTF-8 text"});
    return;
  }
  out = std::move(*text);
}

void check_registration(const json& value, Trunk& trunk, Errors& errors) {
  if (value.is_null()) {
    trunk.registration.reset();
    return;
  }
  if (!value.is_object()) {
    errors.push_back({"/registration", "must be an object or null"});
    return;
  }
  // A new registration needs a username and a password; a change keeps what it does not name.
  const bool fresh = !trunk.registration;
  conference::TrunkRegistration registration = fresh ? conference::TrunkRegistration{} : *trunk.registration;
  if (fresh) registration.expires = kDefaultRegistrationExpires;
  if (const auto username = value.find("username"); username != value.end()) {
    check_username(*username, "/registration/username", registration.username, errors);
  } else if (fresh) {
    errors.push_back({"/registration/username", "is required"});
  }
  check_password(value, "/registration", fresh, registration.password, errors);
  if (const auto realm = value.find("realm"); realm != value.end()) {
    if (realm->is_null()) {
      registration.realm.clear();
    } else if (auto text = string_member(*realm, "/registration/realm", 0, kMaxTrunkCredentialLength, errors)) {
      registration.realm = std::move(*text);
    }
  }
  if (const auto expires = value.find("expires"); expires != value.end()) {
    if (!expires->is_number_integer() || expires->get<std::int64_t>() < kMinRegistrationExpires.count() ||
        expires->get<std::int64_t>() > kMaxRegistrationExpires.count()) {
      errors.push_back({"/registration/expires", "must be an integer from " +
                                                     std::to_string(kMinRegistrationExpires.count()) + " to " +
                                                     std::to_string(kMaxRegistrationExpires.count()) + " seconds"});
    } else {
      registration.expires = std::chrono::seconds(expires->get<std::int64_t>());
    }
  }
  if (const auto contact = value.find("contact_user"); contact != value.end()) {
    if (contact->is_null()) {
      registration.contact_user.clear();
    } else {
      check_username(*contact, "/registration/contact_user", registration.contact_user, errors);
    }
  }
  trunk.registration = std::move(registration);
}

void check_outbound(const json& value, Trunk& trunk, Errors& errors) {
  if (value.is_null()) {
    trunk.outbound.reset();
    return;
  }
  if (!value.is_object()) {
    errors.push_back({"/outbound_credentials", "must be an object or null"});
    return;
  }
  const bool fresh = !trunk.outbound;
  conference::TrunkCredentials credentials = fresh ? conference::TrunkCredentials{} : *trunk.outbound;
  if (const auto username = value.find("username"); username != value.end()) {
    check_username(*username, "/outbound_credentials/username", credentials.username, errors);
  } else if (fresh) {
    errors.push_back({"/outbound_credentials/username", "is required"});
  }
  check_password(value, "/outbound_credentials", fresh, credentials.password, errors);
  trunk.outbound = std::move(credentials);
}

void check_inbound(const json& value, Trunk& trunk, Errors& errors) {
  if (!value.is_object()) {
    errors.push_back({"/inbound", "must be an object"});
    return;
  }
  if (const auto ranges = value.find("ranges"); ranges != value.end()) {
    if (!ranges->is_array() || ranges->size() > kMaxTrunkRanges) {
      errors.push_back(
          {"/inbound/ranges", "must be an array of at most " + std::to_string(kMaxTrunkRanges) + " CIDR ranges"});
    } else {
      std::vector<std::string> parsed;
      for (std::size_t i = 0; i < ranges->size(); ++i) {
        const std::string field = "/inbound/ranges/" + std::to_string(i);
        auto text = string_member((*ranges)[i], field, 1, 64, errors);
        if (!text) continue;
        auto range = sip::parse_address_range(*text);
        if (!range) {
          errors.push_back({field, range.error()});
          continue;
        }
        parsed.push_back(range->to_string());
      }
      trunk.inbound_ranges = std::move(parsed);
    }
  }
  if (const auto from = value.find("from_registration"); from != value.end()) {
    if (!from->is_boolean()) {
      errors.push_back({"/inbound/from_registration", "must be a boolean"});
    } else {
      trunk.inbound_from_registration = from->get<bool>();
    }
  }
}

void check_numbering(const json& value, Trunk& trunk, Errors& errors) {
  if (!value.is_object()) {
    errors.push_back({"/numbering", "must be an object"});
    return;
  }
  // (member, longest, may start with 0)
  const auto digits = [&](const char* name, std::size_t longest, std::string& out) {
    const auto found = value.find(name);
    if (found == value.end()) return;
    const std::string field = std::string("/numbering/") + name;
    if (found->is_null()) {
      out.clear();
      return;
    }
    if (!found->is_string() || found->get_ref<const std::string&>().size() > longest ||
        !is_digits(found->get_ref<const std::string&>())) {
      errors.push_back({field, "must be up to " + std::to_string(longest) + " digits"});
      return;
    }
    out = found->get<std::string>();
  };
  digits("country_code", 3, trunk.numbering.country_code);
  digits("national_prefix", 2, trunk.numbering.national_prefix);
  digits("international_prefix", 4, trunk.numbering.international_prefix);
  // ITU-T E.164: country codes are 1-3 digits and never start with 0.
  if (!trunk.numbering.country_code.empty() && trunk.numbering.country_code.front() == '0') {
    errors.push_back({"/numbering/country_code", "a country code does not start with 0"});
  }
}

void check_caller_id(const json& value, Trunk& trunk, Errors& errors) {
  if (value.is_null()) {
    trunk.caller_id.clear();
    return;
  }
  auto text = string_member(value, "/caller_id", 1, kMaxTrunkCallerIdLength, errors);
  if (!text) return;
  if (text->starts_with("tel:")) {
    if (!conference::looks_like_number(text->substr(4))) {
      errors.push_back({"/caller_id", "not a tel: number"});
      return;
    }
    trunk.caller_id = std::move(*text);
    return;
  }
  if (text->starts_with("sip:") || text->starts_with("sips:")) {
    if (auto uri = sip::parse_uri(*text); !uri) {
      errors.push_back({"/caller_id", "not a SIP URI: " + uri.error()});
      return;
    }
    trunk.caller_id = std::move(*text);
    return;
  }
  // A number: kept in E.164 when the trunk's numbering can make it so.
  auto number = conference::normalize_number(*text, trunk.numbering);
  if (!number) {
    errors.push_back({"/caller_id", std::string("must be a number or a sip:/sips:/tel: URI: ") +
                                        std::string(conference::to_string(number.error()))});
    return;
  }
  trunk.caller_id = std::move(*number);
}

}  // namespace

json trunk_to_json(const Trunk& trunk, const std::optional<conference::RegistrationStatus>& status) {
  json targets = json::array();
  for (const auto& target : trunk.targets) {
    json item{{"host", target.host}};
    if (target.port) item["port"] = *target.port;
    if (target.transport) item["transport"] = conference::to_string(*target.transport);
    targets.push_back(std::move(item));
  }
  json registration = nullptr;
  if (trunk.registration) {
    const auto& r = *trunk.registration;
    registration = {{"username", r.username},
                    {"password_set", !r.password.empty()},
                    {"realm", r.realm},
                    {"expires", r.expires.count()},
                    {"contact_user", std::string(conference::registration_contact_user(r))},
                    {"status", status_json(status.value_or(conference::RegistrationStatus{}))}};
  }
  json outbound = nullptr;
  if (trunk.outbound) {
    outbound = {{"username", trunk.outbound->username}, {"password_set", !trunk.outbound->password.empty()}};
  }
  return {{"id", trunk.id},
          {"name", trunk.name},
          {"targets", std::move(targets)},
          {"registration", std::move(registration)},
          {"outbound_credentials", std::move(outbound)},
          {"inbound", {{"ranges", trunk.inbound_ranges}, {"from_registration", trunk.inbound_from_registration}}},
          {"numbering",
           {{"country_code", trunk.numbering.country_code},
            {"national_prefix", trunk.numbering.national_prefix},
            {"international_prefix", trunk.numbering.international_prefix}}},
          {"caller_id", trunk.caller_id.empty() ? json(nullptr) : json(trunk.caller_id)},
          {"created_at", format_rfc3339(trunk.created_at)},
          {"updated_at", format_rfc3339(trunk.updated_at)}};
}

std::vector<FieldError> apply_trunk_json(const json& body, Trunk& trunk, bool creating) {
  Errors errors;
  if (!body.is_object()) return {{"", "the body must be a JSON object"}};
  static constexpr std::string_view kKnown[] = {"name",    "targets",   "registration", "outbound_credentials",
                                                "inbound", "numbering", "caller_id"};
  for (const auto& [key, value] : body.items()) {
    if (std::ranges::find(kKnown, key) == std::end(kKnown)) errors.push_back({pointer_to(key), "unknown member"});
  }
  if (const auto name = body.find("name"); name != body.end()) {
    if (auto text = string_member(*name, "/name", 1, kMaxTrunkNameLength, errors)) trunk.name = std::move(*text);
  } else if (creating) {
    errors.push_back({"/name", "is required"});
  }
  if (const auto targets = body.find("targets"); targets != body.end()) {
    check_targets(*targets, trunk, errors);
  } else if (creating) {
    errors.push_back({"/targets", "is required"});
  }
  if (const auto value = body.find("registration"); value != body.end()) check_registration(*value, trunk, errors);
  if (const auto value = body.find("outbound_credentials"); value != body.end()) check_outbound(*value, trunk, errors);
  if (const auto value = body.find("inbound"); value != body.end()) check_inbound(*value, trunk, errors);
  if (const auto value = body.find("numbering"); value != body.end()) check_numbering(*value, trunk, errors);
  // After the numbering: a caller-ID number is normalised with the trunk's (new) rules.
  if (const auto value = body.find("caller_id"); value != body.end()) check_caller_id(*value, trunk, errors);
  if (trunk.inbound_from_registration && !trunk.registration) {
    errors.push_back({"/inbound/from_registration", "needs a registration"});
  }
  return errors;
}

}  // namespace chorus::rest
