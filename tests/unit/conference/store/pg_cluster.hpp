// A throw-away PostgreSQL cluster for the tests of the PostgreSQL store (issue 14), started lazily
// once per test process and shared by its tests, each of which gets a database of its own.
//
// Debian's server binaries (package postgresql: /usr/lib/postgresql/<version>/bin, the newest
// version found) run initdb and `pg_ctl start` in a fresh directory under /tmp; the server listens
// on a Unix socket in that directory only (listen_addresses = ''), so nothing else can reach it
// and no port is taken. Password authentication (scram-sha-256) is on, so a wrong password is
// refused as in production. initdb refuses to run as root: as root, every PostgreSQL command runs
// as the `postgres` user (setpriv), and the directory belongs to it.
//
// Cleanup survives a crash: a small reaper (sh) started first waits on a pipe only this process
// holds; when the pipe closes — at normal exit, or because the process died — it stops the server
// (`pg_ctl stop -m immediate`, by the PID file in the data directory) and removes the directory.
//
// Missing binaries are not an error: available() says why, and the tests GTEST_SKIP with that.
// Header-only so that unit_server's tests (tests/unit/server) can use it as well.
#pragma once

#include <fcntl.h>
#include <glob.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <expected>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace chorus::test {

class PgCluster {
 public:
  static constexpr const char* kUser = "chorus";
  static constexpr const char* kPassword = "pg-test-s3cret";  // what the tests check never leaks

  // The process's cluster, started on first call. Check available() before using it.
  static PgCluster& shared() {
    static PgCluster cluster;
    return cluster;
  }

  // Empty when the cluster runs; otherwise why it does not. skipped() tells a missing installation
  // (skip) from a failure to start an installed one (fail).
  [[nodiscard]] const std::string& problem() const { return problem_; }
  [[nodiscard]] bool available() const { return problem_.empty(); }
  [[nodiscard]] bool skipped() const { return missing_; }

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // A URI for `database` over the cluster's socket, with the test password unless told otherwise.
  [[nodiscard]] std::string uri(const std::string& database, const std::string& password = kPassword) const {
    return std::string("postgresql://") + kUser + ":" + password + "@/" + database + "?host=" + dir_.string();
  }

  // A new empty database; its name. Its default collation is ICU's en-US where the server has
  // ICU (Debian's does): ids then sort unlike bytes ('a' < 'B'), so a test shows whether the
  // store's ordering depends on the database's locale.
  std::expected<std::string, std::string> create_database() {
    const std::string name = "chorus_test_" + std::to_string(++databases_);
    if (admin("CREATE DATABASE " + name + " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'")) return name;
    if (auto made = admin("CREATE DATABASE " + name); !made) return std::unexpected(made.error());
    return name;
  }

  // Drops it even while sessions are open (WITH (FORCE), PostgreSQL 13+).
  void drop_database(const std::string& name) { (void)admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }

  // pg_ctl restart (-m fast: sessions are ended, as when an operator restarts the service).
  std::expected<void, std::string> restart() { return pg_ctl({"-m", "fast", "restart"}); }
  std::expected<void, std::string> stop() { return pg_ctl({"-m", "fast", "stop"}); }
  // -m immediate: the server quits without a checkpoint, as in a crash; start() recovers from the WAL.
  std::expected<void, std::string> crash() { return pg_ctl({"-m", "immediate", "stop"}); }
  std::expected<void, std::string> start() {
    if (auto started = pg_ctl({"start"}); !started) return started;
    return wait_ready();
  }

  // Runs SQL (no values: test fixtures only) on `database` through a connection of its own.
  std::expected<void, std::string> exec(const std::string& database, const std::string& sql) const {
    PGconn* conn = PQconnectdb(uri(database).c_str());
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PGresult* result = PQexec(conn, sql.c_str());
      const auto status = PQresultStatus(result);
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) error = PQresultErrorMessage(result);
      PQclear(result);
    }
    PQfinish(conn);
    if (!error.empty()) return std::unexpected(sql + ": " + error);
    return {};
  }

  // The first column of the first row, as text.
  std::expected<std::string, std::string> query(const std::string& database, const std::string& sql) const {
    PGconn* conn = PQconnectdb(uri(database).c_str());
    std::expected<std::string, std::string> answer = std::unexpected(std::string("no row"));
    if (PQstatus(conn) != CONNECTION_OK) {
      answer = std::unexpected(std::string(PQerrorMessage(conn)));
    } else {
      PGresult* result = PQexec(conn, sql.c_str());
      if (PQresultStatus(result) != PGRES_TUPLES_OK) {
        answer = std::unexpected(sql + ": " + PQresultErrorMessage(result));
      } else if (PQntuples(result) > 0) {
        answer = std::string(PQgetvalue(result, 0, 0));
      }
      PQclear(result);
    }
    PQfinish(conn);
    return answer;
  }

  ~PgCluster() {
    if (reaper_pipe_ < 0) return;
    ::close(reaper_pipe_);  // the reaper stops the server and removes the directory
    wait_for(reaper_, std::chrono::seconds(60));
  }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

 private:
  PgCluster() {
    bindir_ = find_bindir();
    if (bindir_.empty()) {
      missing_ = true;
      problem_ =
          "PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH: install "
          "the Debian package postgresql (scripts/install-deps.sh) to run the PostgreSQL store tests";
      return;
    }
    if (::geteuid() == 0) {
      const passwd* user = ::getpwnam("postgres");
      if (user == nullptr) {
        missing_ = true;
        problem_ = "running as root and there is no postgres user to run initdb as (it refuses root)";
        return;
      }
      uid_ = user->pw_uid;
      gid_ = user->pw_gid;
      as_postgres_ = true;
    }
    problem_ = start_cluster();
  }

  static std::filesystem::path find_bindir() {
    // Debian: /usr/lib/postgresql/<major>/bin; the newest major wins.
    glob_t found{};
    std::vector<std::filesystem::path> dirs;
    if (::glob("/usr/lib/postgresql/*/bin/initdb", 0, nullptr, &found) == 0) {
      for (std::size_t i = 0; i < found.gl_pathc; ++i)
        dirs.emplace_back(std::filesystem::path(found.gl_pathv[i]).parent_path());
    }
    ::globfree(&found);
    const auto major = [](const std::filesystem::path& bin) { return std::atoi(bin.parent_path().filename().c_str()); };
    std::sort(dirs.begin(), dirs.end(), [&](const auto& a, const auto& b) { return major(a) > major(b); });
    for (const auto& dir : dirs) {
      if (::access((dir / "pg_ctl").c_str(), X_OK) == 0) return dir;
    }
    // Elsewhere (other distributions) the binaries are on PATH.
    if (const char* path = std::getenv("PATH")) {
      std::stringstream entries(path);
      for (std::string entry; std::getline(entries, entry, ':');) {
        const std::filesystem::path dir(entry);
        if (!entry.empty() && ::access((dir / "initdb").c_str(), X_OK) == 0 &&
            ::access((dir / "pg_ctl").c_str(), X_OK) == 0) {
          return dir;
        }
      }
    }
    return {};
  }

  // Empty on success, else what failed with the end of the logs.
  std::string start_cluster() {
    std::string pattern = "/tmp/chorus-pg-XXXXXX";  // short: a socket path must fit in 107 bytes
    if (::mkdtemp(pattern.data()) == nullptr) return "mkdtemp " + pattern + " failed";
    dir_ = pattern;
    if (as_postgres_ && ::chown(dir_.c_str(), uid_, gid_) != 0) return "cannot give " + dir_.string() + " to postgres";
    if (auto reaper = start_reaper(); !reaper) return reaper.error();
    const auto pwfile = dir_ / "pwfile";
    std::ofstream(pwfile) << kPassword << "\n";
    if (as_postgres_ && ::chown(pwfile.c_str(), uid_, gid_) != 0) return "cannot give the password file to postgres";
    const std::string initdb = (bindir_ / "initdb").string();
    // -N: no fsync of the new cluster's files; it is thrown away. The server itself runs with
    // fsync on, as in production.
    if (run({initdb, "-D", data().string(), "-U", kUser, "--pwfile=" + pwfile.string(), "-A", "scram-sha-256", "-E",
             "UTF8", "--no-locale", "-N"}) != 0) {
      return "initdb failed: " + log_tail();
    }
    std::ofstream(data() / "postgresql.conf", std::ios::app)
        << "\n# chorus tests: a Unix socket in the cluster's own directory, nothing else\n"
        << "listen_addresses = ''\nunix_socket_directories = '" << dir_.string() << "'\n";
    if (auto started = start(); !started) return started.error();
    return {};
  }

  std::expected<void, std::string> wait_ready() const {
    const std::string isready = (bindir_ / "pg_isready").string();
    for (int attempt = 0; attempt < 60; ++attempt) {  // bounded: 60 × (at most 1 s + 100 ms)
      if (run({isready, "-q", "-h", dir_.string(), "-t", "1"}) == 0) return {};
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::unexpected("pg_isready never answered: " + log_tail());
  }

  std::expected<void, std::string> pg_ctl(std::vector<std::string> action) const {
    std::vector<std::string> argv{
        (bindir_ / "pg_ctl").string(), "-D", data().string(), "-l", (dir_ / "postgres.log").string(), "-w", "-t", "60"};
    argv.insert(argv.end(), action.begin(), action.end());
    if (run(argv) != 0) return std::unexpected("pg_ctl " + action.back() + " failed: " + log_tail());
    return {};
  }

  std::expected<void, std::string> admin(const std::string& sql) const { return exec("postgres", sql); }

  // The reaper: `sh -c` reading its stdin (our pipe) to the end, then stopping and removing.
  std::expected<void, std::string> start_reaper() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(std::string("pipe2 failed"));
    std::vector<std::string> argv{"/bin/sh", "-c", "cat >/dev/null; \"$@\" >/dev/null 2>&1; rm -rf -- \"$0\"",
                                  dir_.string()};
    for (auto& word : as_postgres({(bindir_ / "pg_ctl").string(), "-D", data().string(), "-m", "immediate", "stop"}))
      argv.push_back(std::move(word));
    reaper_ = spawn(argv, fds[0], "/dev/null");
    ::close(fds[0]);
    if (reaper_ <= 0) {
      ::close(fds[1]);
      return std::unexpected(std::string("cannot start the cleanup reaper"));
    }
    reaper_pipe_ = fds[1];  // close-on-exec: no child of ours keeps it open
    return {};
  }

  [[nodiscard]] std::vector<std::string> as_postgres(std::vector<std::string> argv) const {
    if (!as_postgres_) return argv;
    std::vector<std::string> wrapped{"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"};
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
  }

  // Runs a PostgreSQL command (as postgres when we are root), output appended to commands.log;
  // its exit status, or -1.
  int run(const std::vector<std::string>& argv) const {
    const pid_t pid = spawn(as_postgres(argv), -1, (dir_ / "commands.log").string());
    if (pid <= 0) return -1;
    return wait_for(pid, std::chrono::seconds(120));
  }

  static pid_t spawn(const std::vector<std::string>& argv, int stdin_fd, const std::string& output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (stdin_fd >= 0) {
      posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& word : argv) args.push_back(const_cast<char*>(word.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0 ? pid : -1;
  }

  // The child's exit status; a child still running at `limit` is killed (-1).
  static int wait_for(pid_t pid, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid, &status, WNOHANG);
      if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (done < 0) return -1;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  [[nodiscard]] std::string log_tail() const {
    std::string text;
    for (const char* name : {"commands.log", "postgres.log"}) {
      std::ifstream file(dir_ / name);
      std::stringstream content;
      content << file.rdbuf();
      const std::string all = content.str();
      text += std::string(" [") + name + "] " + all.substr(all.size() > 1500 ? all.size() - 1500 : 0);
    }
    return text;
  }

  [[nodiscard]] std::filesystem::path data() const { return dir_ / "data"; }

  std::filesystem::path bindir_;
  std::filesystem::path dir_;
  bool as_postgres_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool missing_ = false;
  std::string problem_;
  pid_t reaper_ = -1;
  int reaper_pipe_ = -1;
  int databases_ = 0;
};

}  // namespace chorus::test
