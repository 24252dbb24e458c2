#include "server/config.hpp"

#include <array>
#include <cstring>
#include <optional>

#include "server/config_settings.hpp"
#include "server/config_sources.hpp"

namespace chorus::server {
namespace {

using Checked = std::expected<void, std::string>;

Checked apply_assignment(LoadResult& result, const Assignment& assignment) {
  const SettingSpec& spec = *assignment.spec;
  const std::string key(spec.key);
  auto applied = spec.apply(result.config, assignment.value);
  if (!applied) {
    // The admin token is a credential: say where the bad one came from, never what it is.
    const std::string shown = spec.secret ? "the value" : "\"" + assignment.value + "\"";
    return std::unexpected(key + " (" + assignment.origin + "): " + shown + " is not allowed; expected " +
                           applied.error());
  }
  result.sources[key] = assignment.source;
  result.origins[key] = assignment.origin;
  return {};
}

// "sip_t1 = 500 (default)", for messages about two settings that disagree.
std::string described(const LoadResult& result, std::string_view key) {
  const SettingSpec* spec = find_setting(key);
  return std::string(key) + " = " + spec->show(result.config) + " (" + result.origins.at(std::string(key)) + ")";
}

// A certificate and its key come together or not at all.
Checked check_pem_pair(const LoadResult& result, const std::string& cert_key, const std::string& cert,
                       const std::string& key_key, const std::string& key) {
  if (cert.empty() == key.empty()) return {};
  const std::string& given = cert.empty() ? key_key : cert_key;
  const std::string& missing = cert.empty() ? cert_key : key_key;
  return std::unexpected(given + " (" + result.origins.at(given) + ") is set but " + missing +
                         " is not: give both PEM files (certificate and private key) or neither");
}

Checked check_tls_pair(const LoadResult& result) {
  return check_pem_pair(result, "tls_cert", result.config.tls_cert, "tls_key", result.config.tls_key);
}

Checked check_dtls_pair(const LoadResult& result) {
  return check_pem_pair(result, "dtls_cert", result.config.dtls_cert, "dtls_key", result.config.dtls_key);
}

Checked check_timer_order(const LoadResult& result) {
  const Config& config = result.config;
  // RFC 3261 §17.1.2.2: retransmit intervals double from T1 up to T2, so T2 below T1 is nonsense.
  if (config.sip_t2 < config.sip_t1)
    return std::unexpected(described(result, "sip_t2") + " must be at least " + described(result, "sip_t1") +
                           " (RFC 3261 §17.1.2.2)");
  // RFC 4028 §4: the Session-Expires we send must not be below our own Min-SE.
  if (config.session_expires < config.min_se)
    return std::unexpected(described(result, "session_expires") + " must be at least " + described(result, "min_se") +
                           " (RFC 4028 §4)");
  return {};
}

// Every TCP listener needs its own port, and the SIP UDP socket must not sit inside the RTP
// range the port pool hands out. Port 0 (any free port) never clashes.
Checked check_port_clashes(const LoadResult& result) {
  const Config& config = result.config;
  const bool tls = !config.tls_cert.empty();
  const std::array<std::pair<std::string_view, std::uint16_t>, 5> listeners{{
      {"sip_port", config.sip_port},
      {"sips_port", tls ? config.sips_port : std::uint16_t{0}},
      {"ws_port", config.ws_port},
      {"wss_port", tls ? config.wss_port : std::uint16_t{0}},
      {"http_port", config.http_port},
  }};
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = i + 1; j < listeners.size(); ++j) {
      if (listeners[i].second != 0 && listeners[i].second == listeners[j].second)
        return std::unexpected(described(result, listeners[i].first) + " and " + described(result, listeners[j].first) +
                               " must differ");
    }
  }
  if (config.sip_port >= config.rtp_ports.first && config.sip_port <= config.rtp_ports.last)
    return std::unexpected(described(result, "sip_port") + " lies inside " + described(result, "rtp_ports") +
                           "; move one of them");
  return {};
}

Checked check_relations(const LoadResult& result) {
  for (auto check : {&check_tls_pair, &check_dtls_pair, &check_timer_order, &check_port_clashes}) {
    if (auto checked = check(result); !checked) return checked;
  }
  return {};
}

LoadResult defaults() {
  LoadResult result;
  const std::string key(kConfigKey);
  result.sources[key] = Source::kDefault;
  result.origins[key] = "default";
  for (const SettingSpec& spec : setting_specs()) {
    result.sources[std::string(spec.key)] = Source::kDefault;
    result.origins[std::string(spec.key)] = "default";
  }
  return result;
}

// Applies file, then env, then flags, so the later (stronger) source overwrites the earlier.
Checked apply_all(LoadResult& result, const FlagScan& flags, const EnvScan& env) {
  const std::string key(kConfigKey);
  std::optional<std::string> file = flags.config_file;
  if (file) {
    result.sources[key] = Source::kFlag;
    result.origins[key] = flag_name(kConfigKey);
    result.origins[key].insert(0, "flag ");
  } else if (env.config_file) {
    file = env.config_file;
    result.sources[key] = Source::kEnv;
    result.origins[key] = "env " + env_name(kConfigKey);
  }
  if (file) {
    if (file->empty()) return std::unexpected("config (" + result.origins[key] + "): expected the path of a YAML file");
    auto from_file = read_config_file(*file);
    if (!from_file) return std::unexpected(from_file.error());
    result.config_file = *file;
    for (const Assignment& assignment : *from_file)
      if (auto applied = apply_assignment(result, assignment); !applied) return applied;
  }
  for (const auto* assignments : {&env.assignments, &flags.assignments}) {
    for (const Assignment& assignment : *assignments)
      if (auto applied = apply_assignment(result, assignment); !applied) return applied;
  }
  return check_relations(result);
}

}  // namespace

std::string_view source_name(Source source) {
  switch (source) {
    case Source::kDefault:
      return "default";
    case Source::kFile:
      return "file";
    case Source::kEnv:
      return "env";
    case Source::kFlag:
      return "flag";
  }
  return "default";
}

std::expected<LoadResult, std::string> load_config(std::span<const char* const> args,
                                                   const std::map<std::string, std::string>& env) {
  auto flags = scan_flags(args);
  if (!flags) return std::unexpected(flags.error());
  LoadResult result = defaults();
  if (flags->help) {
    result.help = true;
    return result;
  }
  result.print_config = flags->print_config;
  auto from_env = scan_env(env);
  if (!from_env) return std::unexpected(from_env.error());
  if (auto applied = apply_all(result, *flags, *from_env); !applied) return std::unexpected(applied.error());
  return result;
}

std::map<std::string, std::string> environment_from(char** envp) {
  std::map<std::string, std::string> env;
  for (char** entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text = *entry;
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
  }
  return env;
}

std::string render_config(const LoadResult& result) {
  const auto line = [&](std::string_view key, const std::string& value) {
    const auto origin = result.origins.find(std::string(key));
    return std::string(key) + " = " + (value.empty() ? std::string("\"\"") : value) + "  (" +
           (origin == result.origins.end() ? std::string("default") : origin->second) + ")\n";
  };
  std::string out = line(kConfigKey, result.config_file);
  for (const SettingSpec& spec : setting_specs()) out += line(spec.key, spec.show(result.config));
  return out;
}

std::string usage_text() {
  const Config defaults_config;
  std::string out =
      "Usage: chorusd [--key value | --key=value]... [--print-config] [-h | --help] [--version]\n"
      "\n"
      "Every setting is a flag, a key of the YAML file given by --config and an environment\n"
      "variable; a flag beats the environment, which beats the file, which beats the default.\n"
      "\n"
      "  --config FILE\n"
      "      YAML file: a flat mapping of the keys below (env " +
      env_name(kConfigKey) + ")\n";
  for (const SettingSpec& spec : setting_specs()) {
    std::string default_text = spec.show(defaults_config);
    if (default_text.empty()) default_text = "\"\"";
    out += "  " + flag_name(spec.key) + " " + std::string(spec.value_name) + "\n      " + std::string(spec.help) +
           "\n      default " + default_text + "; env " + env_name(spec.key) + "; file key " + std::string(spec.key) +
           "\n";
  }
  out +=
      "  --print-config\n"
      "      print every effective value and where it came from, then exit\n"
      "  -h, --help\n"
      "      print this text and exit\n"
      "  --version\n"
      "      print `chorusd <version>` and exit\n";
  return out;
}

}  // namespace chorus::server
