#include "server/config_sources.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace chorus::server {
namespace {

constexpr std::string_view kEnvPrefix = "CHORUS_";

// Levenshtein distance, to suggest the setting a typo meant.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

// "; did you mean X?" naming the closest spelling of a known setting (or of the config file
// setting, `config_spelling`, when that source has one) if it is a likely typo.
template <typename Spell>
std::string suggestion(std::string_view word, std::string_view config_spelling, Spell spell) {
  constexpr std::size_t kMaxTypoDistance = 2;
  std::string best(config_spelling);
  std::size_t best_distance = config_spelling.empty() ? std::string_view::npos : edit_distance(word, config_spelling);
  for (const SettingSpec& spec : setting_specs()) {
    const std::string candidate = spell(spec.key);
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best_distance <= kMaxTypoDistance ? "; did you mean " + best + "?" : std::string();
}

const SettingSpec* find_by_flag(std::string_view flag) {
  for (const SettingSpec& spec : setting_specs())
    if (flag_name(spec.key) == flag) return &spec;
  return nullptr;
}

const SettingSpec* find_by_env(std::string_view name) {
  for (const SettingSpec& spec : setting_specs())
    if (env_name(spec.key) == name) return &spec;
  return nullptr;
}

bool is_help(std::string_view arg) {
  return arg == "-h" || arg == "--help";
}

}  // namespace

std::expected<FlagScan, std::string> scan_flags(std::span<const char* const> args) {
  FlagScan scan;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] != nullptr && is_help(args[i])) {
      scan.help = true;  // help wins over everything, even over mistakes elsewhere on the line
      return scan;
    }
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == nullptr) break;
    const std::string_view arg = args[i];
    if (!arg.starts_with("--") || arg.size() == 2)
      return std::unexpected("unexpected argument \"" + std::string(arg) +
                             "\": settings are given as --key value or --key=value (see --help)");
    const std::size_t equals = arg.find('=');
    const std::string name(arg.substr(0, equals));
    if (name == "--print-config") {
      if (equals != std::string_view::npos) return std::unexpected("--print-config takes no value");
      scan.print_config = true;
      continue;
    }
    const SettingSpec* spec = find_by_flag(name);
    const std::string config_flag = flag_name(kConfigKey);
    if (spec == nullptr && name != config_flag)
      return std::unexpected("unknown flag " + name + suggestion(name, config_flag, flag_name) +
                             " (see --help for the list)");
    std::string value;
    if (equals != std::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (i + 1 < args.size() && args[i + 1] != nullptr && !std::string_view(args[i + 1]).starts_with("--")) {
      value = args[++i];
    } else {
      return std::unexpected(name + " needs a value: " + name + " " + std::string(spec ? spec->value_name : "FILE") +
                             " or " + name + "=" + std::string(spec ? spec->value_name : "FILE"));
    }
    if (spec == nullptr) {
      scan.config_file = std::move(value);
    } else {
      scan.assignments.push_back({spec, std::move(value), Source::kFlag, "flag " + name});
    }
  }
  return scan;
}

std::expected<EnvScan, std::string> scan_env(const std::map<std::string, std::string>& env) {
  EnvScan scan;
  const std::string config_env = env_name(kConfigKey);
  for (const auto& [name, value] : env) {
    if (!name.starts_with(kEnvPrefix)) continue;
    if (name == config_env) {
      scan.config_file = value;
      continue;
    }
    const SettingSpec* spec = find_by_env(name);
    if (spec == nullptr)
      return std::unexpected("unknown environment variable " + name + suggestion(name, config_env, env_name) +
                             " (every CHORUS_* variable must be a setting; see --help)");
    scan.assignments.push_back({spec, value, Source::kEnv, "env " + name});
  }
  return scan;
}

namespace {

std::expected<std::string, std::string> read_whole_file(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) return std::unexpected("config file " + path + " does not exist");
  if (!std::filesystem::is_regular_file(status))
    return std::unexpected("config file " + path + " is not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxConfigFileBytes)
    return std::unexpected("config file " + path + " is larger than " + std::to_string(kMaxConfigFileBytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return std::unexpected("config file " + path + " cannot be read");
  return text.str();
}

std::string where(const std::string& path, const YAML::Mark& mark) {
  return path + ":" + std::to_string(mark.is_null() ? 0 : mark.line + 1);
}

// One setting's value: a scalar (null reads as empty), or for list settings a sequence of scalars.
std::expected<std::string, std::string> scalar_text(const SettingSpec& spec, const YAML::Node& node,
                                                    const std::string& at) {
  if (node.IsNull()) return std::string();
  if (node.IsScalar()) return node.Scalar();
  if (spec.list && node.IsSequence()) {
    std::string joined;
    for (const YAML::Node& item : node) {
      if (!item.IsScalar())
        return std::unexpected(std::string(spec.key) + " (file " + at + "): list items must be single values");
      joined += (joined.empty() ? "" : ",") + item.Scalar();
    }
    return joined;
  }
  return std::unexpected(std::string(spec.key) + " (file " + at + "): expected a single value" +
                         (spec.list ? " or a list of values" : "") + ", not a " + (node.IsMap() ? "mapping" : "list"));
}

std::expected<std::vector<Assignment>, std::string> assignments_from(const YAML::Node& root, const std::string& path) {
  std::vector<Assignment> out;
  if (!root.IsDefined() || root.IsNull()) return out;  // an empty file sets nothing
  if (!root.IsMap())
    return std::unexpected("config file " + where(path, root.Mark()) +
                           ": expected a mapping of settings (key: value per line)");
  std::set<std::string> seen;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key_at = where(path, it->first.Mark());
    if (!it->first.IsScalar()) return std::unexpected("config file " + key_at + ": keys must be plain setting names");
    const std::string key = it->first.Scalar();
    const SettingSpec* spec = find_setting(key);
    if (spec == nullptr)
      return std::unexpected("unknown key \"" + key + "\" in config file " + key_at +
                             suggestion(key, {}, [](std::string_view k) { return std::string(k); }) +
                             (key == kConfigKey ? " (the file is chosen with --config or CHORUS_CONFIG)" : ""));
    if (!seen.insert(key).second)
      return std::unexpected(key + " (file " + key_at + "): the key appears twice in the file");
    // An empty value has no text of its own; its mark points at whatever follows it.
    const YAML::Mark value_mark = it->second.Mark();
    const bool own_mark = !value_mark.is_null() && !it->second.IsNull();
    const std::string at = own_mark ? where(path, value_mark) : key_at;
    auto text = scalar_text(*spec, it->second, at);
    if (!text) return std::unexpected(text.error());
    out.push_back({spec, std::move(*text), Source::kFile, "file " + at});
  }
  return out;
}

}  // namespace

std::expected<std::vector<Assignment>, std::string> read_config_file(const std::string& path) {
  auto text = read_whole_file(path);
  if (!text) return std::unexpected(text.error());
  // yaml-cpp reports syntax errors by exception; this is the one place they become values.
  try {
    return assignments_from(YAML::Load(*text), path);
  } catch (const YAML::Exception& error) {
    // A bare `::` (the IPv6 wildcard) is the likeliest way to meet this one in a config file.
    const bool colon_value = error.msg == YAML::ErrorMsg::MAP_VALUE;
    return std::unexpected("config file " + where(path, error.mark) + ": " + error.msg +
                           (colon_value ? " (quote values made of colons: bind: \"::\")" : ""));
  }
}

}  // namespace chorus::server
