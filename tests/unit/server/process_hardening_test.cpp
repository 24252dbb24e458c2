// Issue 12, "Process": descriptor sizing, signal dispositions, owner-only files and the SIGHUP diff.
// Whatever changes process-wide state (rlimits, signal dispositions) runs in a forked child, so
// the test binary itself is left as it was.
#include "server/process_hardening.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "server/domain_store.hpp"

namespace chorus::server {
namespace process_hardening_test {

// Runs `body` in a forked child; true when the child exited 0 (false if a signal killed it).
bool in_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) return 0;
  return info.st_mode & 07777U;
}

class OwnerOnlyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device seed;
    dir_ = std::filesystem::temp_directory_path() /
           ("chorus-process-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path write(const std::string& name, unsigned mode) {
    const auto path = dir_ / name;
    std::ofstream(path) << "secret\n";
    std::filesystem::permissions(path, static_cast<std::filesystem::perms>(mode));
    return path;
  }
  std::filesystem::path dir_;
};

TEST(FitMaxCalls, LowersAConfiguredValueThatDoesNotFit) {
  // 4096 descriptors: 1024 kept aside, 3072 left for calls of 6 each.
  const auto capacity = fit_max_calls(2000, 6, 4096);
  EXPECT_EQ(capacity.fits, 512u);
  EXPECT_TRUE(capacity.lowered);
  EXPECT_EQ(capacity.max_calls, 512u);
}

TEST(FitMaxCalls, KeepsAValueThatFits) {
  const auto capacity = fit_max_calls(2000, 6, 1048576);
  EXPECT_FALSE(capacity.lowered);
  EXPECT_EQ(capacity.max_calls, 2000u);
  EXPECT_EQ(capacity.fits, (1048576u - kFdReserve) / 6);
}

TEST(WarmPortPairs, KeepOnlyWhatEachCallsShareLeavesOver) {
  // A call holds its pair (2) and a SIP connection (1) of its 6: three descriptors, 1.5 pairs, are left.
  EXPECT_EQ(warm_port_pairs(2000, 6), 3000u);
  EXPECT_EQ(warm_port_pairs(2000, 4), 1000u);
  EXPECT_EQ(warm_port_pairs(2000, 3), 0u);  // nothing left over: every released pair is closed
  EXPECT_EQ(warm_port_pairs(2000, 2), 0u);
  EXPECT_EQ(warm_port_pairs(0, 6), 0u);
}

TEST(FitMaxCalls, ASmallLimitKeepsAQuarterAsReserve) {
  // The common soft default: 256 kept aside, 768 / 6 = 128 calls rather than none.
  EXPECT_EQ(fd_reserve(1024), 256u);
  const auto capacity = fit_max_calls(2000, 6, 1024);
  EXPECT_EQ(capacity.fits, 128u);
  EXPECT_EQ(capacity.max_calls, 128u);
  EXPECT_TRUE(capacity.lowered);
}

TEST(FitMaxCalls, AnAbsurdlySmallLimitStillAllowsOneCall) {
  const auto capacity = fit_max_calls(10, 6, 4);
  EXPECT_EQ(capacity.fits, 1u);
  EXPECT_EQ(capacity.max_calls, 1u);
}

TEST(RaiseNofileLimit, RaisesTheSoftLimitToTheHardOne) {
  EXPECT_TRUE(in_child([] {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max < 512) return 10;
    limit.rlim_cur = 256;  // as a service manager's default might start us
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 11;
    auto raised = raise_nofile_limit();
    if (!raised) return 12;
    if (raised->soft_before != 256) return 13;
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 14;
    const bool unlimited = limit.rlim_max == RLIM_INFINITY;
    if (!unlimited && (limit.rlim_cur != limit.rlim_max || raised->soft != limit.rlim_max)) return 15;
    if (unlimited && (limit.rlim_cur <= 256 || raised->soft != limit.rlim_cur)) return 16;
    return 0;
  }));
}

TEST(IgnorePipeAndHangup, SignalsThatWouldKillTheProcessAreIgnored) {
  // Without the dispositions the child dies of SIGHUP (its default action) or SIGPIPE (a write
  // to a pipe nobody reads, as stderr piped into a logger that exited).
  EXPECT_FALSE(in_child([] {
    ::raise(SIGHUP);
    return 0;
  })) << "the default SIGHUP action terminates (the test's premise)";
  EXPECT_TRUE(in_child([] {
    if (!ignore_pipe_and_hangup()) return 10;
    ::raise(SIGHUP);
    ::raise(SIGPIPE);
    int fds[2];
    if (::pipe(fds) != 0) return 11;
    ::close(fds[0]);
    const char byte = 'x';
    const auto written = ::write(fds[1], &byte, 1);
    return written == -1 && errno == EPIPE ? 0 : 12;
  }));
}

TEST_F(OwnerOnlyFiles, PrivateFileIsOwnerOnlyWhateverTheUmask) {
  const mode_t old = ::umask(0);
  const auto created = create_private_file(dir_ / "fresh.db");
  ::umask(old);
  ASSERT_TRUE(created.has_value()) << created.error();
  EXPECT_EQ(mode_of(dir_ / "fresh.db"), 0600u);
}

TEST_F(OwnerOnlyFiles, ExistingFileIsLeftAsItWas) {
  const auto path = write("old.db", 0644);
  ASSERT_TRUE(create_private_file(path).has_value());
  EXPECT_EQ(mode_of(path), 0644u) << "an operator's file is reported, never changed";
  std::ifstream in(path);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "secret");
}

TEST_F(OwnerOnlyFiles, CreatingInAMissingFolderIsAnErrorNamingThePath) {
  const auto created = create_private_file(dir_ / "missing" / "x.db");
  ASSERT_FALSE(created.has_value());
  EXPECT_NE(created.error().find("missing/x.db"), std::string::npos) << created.error();
}

TEST_F(OwnerOnlyFiles, ExposedFilesAreThoseGroupOrOthersMayAccess) {
  const std::vector<std::filesystem::path> paths{write("private", 0600), write("group", 0640), write("world", 0604),
                                                 dir_ / "absent"};
  const auto exposed = exposed_files(paths);
  ASSERT_EQ(exposed.size(), 2u);
  EXPECT_EQ(exposed[0].path, dir_ / "group");
  EXPECT_EQ(exposed[0].mode, 0640u);
  EXPECT_EQ(exposed[1].path, dir_ / "world");
  EXPECT_EQ(exposed[1].mode, 0604u);
}

TEST_F(OwnerOnlyFiles, StoreAndItsWalAndShmAreOwnerOnlyUnderAPermissiveUmask) {
  const mode_t old = ::umask(022);  // what a shell usually gives: files 0644
  auto store = open_store(dir_);
  ::umask(old);
  ASSERT_TRUE(store.has_value()) << store.error();
  // The WAL journal (sqlite_store.cpp) keeps -wal and -shm beside the database while it is open.
  for (const char* name : {"chorus.db", "chorus.db-wal", "chorus.db-shm"}) {
    ASSERT_TRUE(std::filesystem::exists(dir_ / name)) << name;
    EXPECT_EQ(mode_of(dir_ / name), 0600u) << name;
  }
}

TEST(SecretFiles, NameTheStoreItsJournalTheAdminTokenAndConfiguredKeys) {
  Config config;
  config.data_dir = "/srv/chorus";
  config.tls_key = "/etc/chorus/tls.key";
  const auto files = secret_files(config);
  const std::vector<std::filesystem::path> expected{"/srv/chorus/chorus.db", "/srv/chorus/chorus.db-wal",
                                                    "/srv/chorus/chorus.db-shm", "/srv/chorus/admin-token",
                                                    "/etc/chorus/tls.key"};
  EXPECT_EQ(files, expected);
}

TEST(ChangedSettings, NamesWhatDiffersIncludingASecretWithoutShowingIt) {
  Config before;
  Config after = before;
  EXPECT_TRUE(changed_settings(before, after).empty());
  after.log_level = LogLevel::kWarn;
  after.max_calls = 10;
  after.admin_token = "a-new-token-0123456789";
  const auto changed = changed_settings(before, after);
  EXPECT_EQ(changed, (std::vector<std::string>{"admin_token", "log_level", "max_calls"}));
}

}  // namespace process_hardening_test
}  // namespace chorus::server
