// Reading the three sources of chorusd settings into raw (key, text) assignments: command-line
// flags, CHORUS_* environment variables and the YAML file. Nothing here parses a value; that is
// the setting table's job (server/config_settings.hpp), applied in precedence order by
// load_config. Every error names the offending flag, variable or file:line.
#pragma once

#include <expected>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server/config.hpp"
#include "server/config_settings.hpp"

namespace chorus::server {

struct Assignment {
  const SettingSpec* spec = nullptr;
  std::string value;
  Source source = Source::kDefault;
  std::string origin;  // "flag --sip-port", "env CHORUS_SIP_PORT", "file chorus.yaml:3"
};

struct FlagScan {
  std::vector<Assignment> assignments;  // in command-line order: a repeated flag's last wins
  std::optional<std::string> config_file;
  bool print_config = false;
  bool help = false;
};

// args[0] is the program name and is skipped.
std::expected<FlagScan, std::string> scan_flags(std::span<const char* const> args);

struct EnvScan {
  std::vector<Assignment> assignments;
  std::optional<std::string> config_file;  // CHORUS_CONFIG
};

// Only CHORUS_* variables are looked at; any that is not a known setting is an error.
std::expected<EnvScan, std::string> scan_env(const std::map<std::string, std::string>& env);

// A YAML file is read whole up to this size; a config file is a few kilobytes.
inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;

// The file must be a flat mapping of known keys to single values (a list for list settings).
std::expected<std::vector<Assignment>, std::string> read_config_file(const std::string& path);

}  // namespace chorus::server
