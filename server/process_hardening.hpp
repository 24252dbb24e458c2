// Process-wide defences chorusd sets up once in main(), before any thread, socket or file exists
// (issue 12, "Process"; docs/security.md):
//  - RLIMIT_NOFILE: the soft limit raised to the hard one, and max_calls lowered when
//    max_calls × fds_per_call + fd_reserve() does not fit in it (a server that runs out of descriptors
//    mid-call fails in every layer at once: no socket for the next RTP pair, no accept, no store);
//  - signals: SIGPIPE ignored (a write to a reset peer or to a closed stderr pipe returns EPIPE
//    instead of killing the process; Asio already passes MSG_NOSIGNAL on sockets, this covers the
//    rest), SIGHUP ignored until ChorusServer's handler takes it over (its default action is to
//    terminate, and a terminal hang-up or `kill -HUP` from a log rotator must never do that);
//  - files: umask 077 so everything chorusd creates (chorus.db with its -wal/-shm, admin-token,
//    recordings) is owner-only, chorus.db created 0600 explicitly before SQLite opens it (SQLite gives
//    its -wal/-shm the database file's mode), and a warning for each secret file that already exists
//    group- or world-accessible (the operator's file is reported, never changed).
// Threading: plain functions for main() at start-up, and changed_settings() for the control loop's
// SIGHUP reload. No hidden state.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "server/config.hpp"

namespace chorus::server {

// Descriptors kept aside from calls: listeners (UDP, TCP, TLS, WS, WSS, HTTP), the store and its
// journal, each thread's epoll/eventfd/timerfd, REST and event-stream connections, GStreamer's
// pipes, stdio. Under a small limit a quarter of it instead (1024 → 256), so a box stuck at the
// common 1024 still takes 128 calls rather than none.
inline constexpr std::uint64_t kFdReserve = 1024;
std::uint64_t fd_reserve(std::uint64_t fd_limit);  // min(kFdReserve, fd_limit / 4)

struct NofileLimit {
  std::uint64_t soft_before = 0;  // the soft limit chorusd was started with
  std::uint64_t hard = 0;
  std::uint64_t soft = 0;  // in effect now: the hard limit (or fs.nr_open when the hard one is unlimited)
};

// Raises the soft RLIMIT_NOFILE to the hard limit. An error (getrlimit/setrlimit failed) leaves
// the limit as it was; the caller sizes max_calls from what is in effect either way.
std::expected<NofileLimit, std::string> raise_nofile_limit();

struct CallCapacity {
  std::uint32_t max_calls = 0;  // what the server allows: the configured value, or `fits` when lower
  std::uint64_t fits = 0;       // calls that fit: (fd_limit − fd_reserve) / fds_per_call, at least 1
  bool lowered = false;         // the configured value did not fit and was lowered
};

// How many calls an fd limit can carry at fds_per_call each after the reserve.
CallCapacity fit_max_calls(std::uint32_t configured, std::uint32_t fds_per_call, std::uint64_t fd_limit);

// Released RTP/RTCP pairs the port pool may keep open for reuse (media/udp_port_pool.hpp, warm
// pairs) inside the same descriptor budget: a call holds one pair (2) and a SIP connection (1) of its
// fds_per_call; the rest of every call's share keeps pairs warm, two descriptors each.
std::size_t warm_port_pairs(std::uint32_t max_calls, std::uint32_t fds_per_call);

// SIGPIPE and SIGHUP ignored (see above). An error names the failing sigaction.
std::expected<void, std::string> ignore_pipe_and_hangup();

// umask(077); returns the previous mask (logged by main when it granted group/other bits).
mode_t restrict_new_files();

// Creates `path` with mode 0600 if it does not exist (O_CREAT | O_EXCL, so an existing file —
// the store from an earlier run — is left as it is).
std::expected<void, std::string> create_private_file(const std::filesystem::path& path);

struct ExposedFile {
  std::filesystem::path path;
  unsigned mode = 0;  // permission bits, e.g. 0644
};

// The files holding secrets chorusd reads or writes: chorus.db (room PINs, API key hashes, webhook
// secrets) with its -wal and -shm, the generated admin-token file, and the configured TLS and DTLS
// private keys. Only paths; they need not exist.
std::vector<std::filesystem::path> secret_files(const Config& config);

// Those of `paths` that exist and grant any permission to group or others.
std::vector<ExposedFile> exposed_files(std::span<const std::filesystem::path> paths);

// SIGHUP: the keys whose effective value (as --print-config shows it) differs between two loads.
std::vector<std::string> changed_settings(const Config& before, const Config& after);

}  // namespace chorus::server
