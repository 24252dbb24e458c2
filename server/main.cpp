// chorusd: the Chorus conference server. Reads the configuration (flags > CHORUS_* env > YAML file
// > defaults, see server/config.hpp), starts the server and runs it until SIGTERM/SIGINT.
// Before anything else it hardens the process (server/process_hardening.hpp, issue 12): SIGPIPE
// and SIGHUP ignored, umask 077, RLIMIT_NOFILE raised and max_calls sized to it, secret files
// checked; SIGHUP later reloads the configuration on the control loop.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "server/chorus_server.hpp"
#include "server/config.hpp"
#include "server/glib_malloc.hpp"
#include "server/process_hardening.hpp"
#include "server/version.hpp"

extern char** environ;

namespace {

using namespace chorus;

// RLIMIT_NOFILE to its hard limit, then max_calls lowered to what fits (logged either way).
// Returns the descriptor limit in effect.
std::uint64_t size_for_descriptors(server::Config& config) {
  std::uint64_t fd_limit = 0;
  if (auto raised = server::raise_nofile_limit()) {
    CHORUS_LOG(kInfo, "server", "file descriptor limit", {"nofile_soft_before", raised->soft_before},
               {"nofile_soft", raised->soft}, {"nofile_hard", raised->hard});
    fd_limit = raised->soft;
  } else {
    CHORUS_LOG(kWarn, "server", "file descriptor limit not raised", {"error", raised.error()});
    fd_limit = 1024;  // the usual soft default: size conservatively
  }
  const auto capacity = server::fit_max_calls(config.max_calls, config.fds_per_call, fd_limit);
  if (capacity.lowered) {
    CHORUS_LOG(kWarn, "server", "max_calls lowered to fit the file descriptor limit (raise ulimit -n / LimitNOFILE)",
               {"configured", config.max_calls}, {"max_calls", capacity.max_calls}, {"nofile", fd_limit},
               {"fds_per_call", config.fds_per_call}, {"reserve", server::fd_reserve(fd_limit)});
  } else {
    CHORUS_LOG(kInfo, "server", "max_calls fits the file descriptor limit", {"max_calls", capacity.max_calls},
               {"fits", capacity.fits}, {"nofile", fd_limit}, {"fds_per_call", config.fds_per_call});
  }
  config.max_calls = capacity.max_calls;
  return fd_limit;
}

// `--version` anywhere on the line wins, as --help does (scripts and package checks call it alone).
bool version_asked(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--version") return true;
  return false;
}

void warn_exposed_secret_files(const server::Config& config) {
  const auto paths = server::secret_files(config);
  for (const auto& file : server::exposed_files(paths)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", file.mode);
    CHORUS_LOG(kWarn, "security", "secret file readable by group or others; chmod 600 it", {"path", file.path.string()},
               {"mode", std::string(mode)});
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (version_asked(argc, argv)) {
    std::cout << "chorusd " << server::version_text() << "\n";
    return 0;
  }
  server::reexec_with_glib_slices_off(argv);  // before anything else runs: see glib_malloc.hpp
  // First, before any thread exists (threads inherit the signal dispositions) and before any file.
  if (auto signals = server::ignore_pipe_and_hangup(); !signals) std::cerr << "chorusd: " << signals.error() << "\n";
  const mode_t old_umask = server::restrict_new_files();
  const std::vector<const char*> args(argv, argv + argc);
  const std::map<std::string, std::string> env = server::environment_from(environ);
  auto loaded = server::load_config(args, env);
  if (!loaded) {
    std::cerr << "chorusd: " << loaded.error() << "\n(run chorusd --help for every setting)\n";
    return 2;
  }
  if (loaded->help) {
    std::cout << server::usage_text();
    return 0;
  }
  if (loaded->print_config) {
    std::cout << server::render_config(*loaded);
    return 0;
  }
  set_log_level(loaded->config.log_level);
  CHORUS_LOG(kInfo, "server", "chorusd starting", {"version", server::version_text()});
  if ((old_umask & 077) != 077) {
    char mask[8];
    std::snprintf(mask, sizeof mask, "%04o", static_cast<unsigned>(old_umask));
    CHORUS_LOG(kInfo, "server", "umask 0077: files chorusd creates are owner-only", {"was", std::string(mask)});
  }
  const std::uint64_t fd_limit = size_for_descriptors(loaded->config);

  std::error_code ec;
  std::filesystem::create_directories(loaded->config.data_dir, ec);
  if (ec) {
    CHORUS_LOG(kError, "server", "cannot create the data directory", {"data_dir", loaded->config.data_dir},
               {"error", ec.message()});
    return 2;
  }
  warn_exposed_secret_files(loaded->config);
  try {
    server::ChorusServer chorus(loaded->config);
    // SIGHUP: the same flags and environment, the YAML file read again.
    chorus.set_reloader([&args, &env, fd_limit]() -> std::expected<server::Config, std::string> {
      auto again = server::load_config(args, env);
      if (!again) return std::unexpected(again.error());
      // Sized as at start, so an unchanged max_calls is not reported as changed.
      auto& config = again->config;
      config.max_calls = server::fit_max_calls(config.max_calls, config.fds_per_call, fd_limit).max_calls;
      return std::move(config);
    });
    if (auto started = chorus.start(); !started) {
      CHORUS_LOG(kError, "server", "startup failed", {"error", started.error()});
      return 2;
    }
    return chorus.run();
  } catch (const std::exception& e) {  // the control path's one boundary (DESIGN §5)
    CHORUS_LOG(kError, "server", "fatal error", {"error", e.what()});
    return 1;
  }
}
