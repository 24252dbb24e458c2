// chorusd: the Chorus conference server. Reads the configuration (flags > CHORUS_* env > YAML file
// > defaults, see server/config.hpp), starts the server and runs it until SIGTERM/SIGINT.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "common/log.hpp"
#include "server/chorus_server.hpp"
#include "server/config.hpp"
#include "server/glib_malloc.hpp"

extern char** environ;

int main(int argc, char** argv) {
  using namespace chorus;
  server::reexec_with_glib_slices_off(argv);  // before anything else runs: see glib_malloc.hpp
  auto loaded = server::load_config(std::span<const char* const>(argv, static_cast<std::size_t>(argc)),
                                    server::environment_from(environ));
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

  std::error_code ec;
  std::filesystem::create_directories(loaded->config.data_dir, ec);
  if (ec) {
    CHORUS_LOG(kError, "server", "cannot create the data directory", {"data_dir", loaded->config.data_dir},
               {"error", ec.message()});
    return 2;
  }
  try {
    server::ChorusServer chorus(loaded->config);
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
