// The one table of chorusd settings. Each descriptor knows its key, how to parse and check a
// value into Config, and how to show the effective value; the flag (`--sip-port`), env
// (`CHORUS_SIP_PORT`) and YAML (`sip_port`) spellings are all derived from the key.
// Used by server/config.cpp only; kept in a header so the tests can walk the table.
#pragma once

#include <expected>
#include <span>
#include <string>
#include <string_view>

#include "server/config.hpp"

namespace chorus::server {

struct SettingSpec {
  // Parses `text` into the config, changing nothing on failure. The error says what is allowed
  // ("an integer from 0 to 65535"); the caller wraps it with the key, the source and (unless
  // the setting is secret) the value.
  using ApplyFn = std::expected<void, std::string> (*)(Config&, std::string_view text);
  using ShowFn = std::string (*)(const Config&);

  std::string_view key;         // YAML key, snake_case
  std::string_view value_name;  // placeholder in --help: "N", "ADDR", "LO-HI"
  std::string_view help;        // one line for --help
  ApplyFn apply = nullptr;
  ShowFn show = nullptr;  // in the same syntax apply accepts, so the output round-trips
  bool secret = false;    // never shown or echoed in clear
  bool list = false;      // a YAML sequence is accepted and joined with ','
};

std::span<const SettingSpec> setting_specs();
const SettingSpec* find_setting(std::string_view key);

std::string flag_name(std::string_view key);  // "sip_port" → "--sip-port"
std::string env_name(std::string_view key);   // "sip_port" → "CHORUS_SIP_PORT"

inline constexpr std::string_view kConfigKey = "config";  // the YAML file setting itself

}  // namespace chorus::server
