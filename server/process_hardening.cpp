#include "server/process_hardening.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>

#include "rest-api/auth.hpp"
#include "server/config_settings.hpp"

namespace chorus::server {
namespace {

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// With an unlimited hard limit the soft one may go no higher than fs.nr_open (setrlimit fails with
// EPERM above it); 1048576 is the kernel's default for it.
std::uint64_t nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  std::uint64_t value = 0;
  if (in >> value && value > 0) return value;
  return 1048576;
}

std::expected<void, std::string> ignore(int signal_number, std::string_view name) {
  struct sigaction action{};
  action.sa_handler = SIG_IGN;
  sigemptyset(&action.sa_mask);
  if (::sigaction(signal_number, &action, nullptr) != 0) return std::unexpected(errno_text(name));
  return {};
}

}  // namespace

std::expected<NofileLimit, std::string> raise_nofile_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::unexpected(errno_text("getrlimit(RLIMIT_NOFILE)"));
  NofileLimit result;
  result.soft_before = limit.rlim_cur;
  result.hard = limit.rlim_max;
  const rlim_t target = limit.rlim_max == RLIM_INFINITY ? static_cast<rlim_t>(nr_open()) : limit.rlim_max;
  result.soft = limit.rlim_cur;
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) return result;  // already there
  limit.rlim_cur = target;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return std::unexpected(errno_text("setrlimit(RLIMIT_NOFILE)"));
  result.soft = target;
  return result;
}

std::uint64_t fd_reserve(std::uint64_t fd_limit) {
  return std::min(kFdReserve, fd_limit / 4);
}

CallCapacity fit_max_calls(std::uint32_t configured, std::uint32_t fds_per_call, std::uint64_t fd_limit) {
  CallCapacity capacity;
  const std::uint64_t per_call = std::max<std::uint32_t>(1, fds_per_call);
  const std::uint64_t usable = fd_limit - fd_reserve(fd_limit);
  // At least one call: a server that can take none would look healthy and refuse everyone; the
  // warning main() logs says why that one may fail.
  capacity.fits = std::max<std::uint64_t>(1, usable / per_call);
  capacity.lowered = configured > capacity.fits;
  capacity.max_calls = capacity.lowered ? static_cast<std::uint32_t>(capacity.fits) : configured;
  return capacity;
}

std::size_t warm_port_pairs(std::uint32_t max_calls, std::uint32_t fds_per_call) {
  constexpr std::uint32_t kHeldByACall = 3;  // its RTP/RTCP pair and its SIP connection
  if (fds_per_call <= kHeldByACall) return 0;
  return static_cast<std::size_t>(max_calls) * (fds_per_call - kHeldByACall) / 2;
}

std::expected<void, std::string> ignore_pipe_and_hangup() {
  if (auto pipe = ignore(SIGPIPE, "sigaction(SIGPIPE)"); !pipe) return pipe;
  return ignore(SIGHUP, "sigaction(SIGHUP)");
}

mode_t restrict_new_files() {
  return ::umask(077);
}

std::expected<void, std::string> create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return std::unexpected(errno_text("create " + path.string()));
  }
  ::close(fd);
  return {};
}

std::vector<std::filesystem::path> secret_files(const Config& config) {
  const std::filesystem::path data(config.data_dir);
  std::vector<std::filesystem::path> files{data / "chorus.db", data / "chorus.db-wal", data / "chorus.db-shm",
                                           data / std::string(rest::kAdminTokenFileName)};
  for (const std::string* key : {&config.tls_key, &config.dtls_key})
    if (!key->empty()) files.emplace_back(*key);
  return files;
}

std::vector<ExposedFile> exposed_files(std::span<const std::filesystem::path> paths) {
  std::vector<ExposedFile> exposed;
  for (const auto& path : paths) {
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0) continue;  // absent: nothing to expose
    const unsigned mode = info.st_mode & 07777U;
    if ((mode & 077U) != 0) exposed.push_back(ExposedFile{path, mode});
  }
  return exposed;
}

std::vector<std::string> changed_settings(const Config& before, const Config& after) {
  std::vector<std::string> changed;
  for (const SettingSpec& spec : setting_specs()) {
    // A secret shows as *** either way; compare what it holds without ever printing it.
    const bool differs =
        spec.key == "admin_token" ? before.admin_token != after.admin_token : spec.show(before) != spec.show(after);
    if (differs) changed.emplace_back(spec.key);
  }
  return changed;
}

}  // namespace chorus::server
