#include "common/random.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

namespace chorus {
namespace random_test {

// One u64 is 8 bytes of a 4 KiB per-thread block: 512 draws per refill.
constexpr std::size_t kDrawsPerBlock = 4096 / 8;
constexpr std::size_t kStreamLength = 8;

using Stream = std::array<std::uint64_t, kStreamLength>;

Stream draw_stream() {
  Stream stream{};
  for (auto& value : stream) value = random_u64();
  return stream;
}

// Forks a child that draws kStreamLength values and writes them back over a pipe.
Stream stream_from_child() {
  std::array<int, 2> fds{};
  EXPECT_EQ(::pipe(fds.data()), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const Stream stream = draw_stream();
    const auto written = ::write(fds[1], stream.data(), sizeof stream);
    ::_exit(written == static_cast<ssize_t>(sizeof stream) ? 0 : 1);
  }
  ::close(fds[1]);
  Stream stream{};
  std::size_t got = 0;
  while (got < sizeof stream) {
    const auto n = ::read(fds[0], reinterpret_cast<char*>(stream.data()) + got, sizeof stream - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(got, sizeof stream);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return stream;
}

bool share_a_value(const Stream& a, const Stream& b) {
  return std::ranges::any_of(a, [&](std::uint64_t value) { return std::ranges::find(b, value) != b.end(); });
}

// Pearson's chi-square of observed counts against an equal expectation.
double chi_square(const std::vector<std::size_t>& counts) {
  double total = 0;
  for (auto count : counts) total += static_cast<double>(count);
  const double expected = total / static_cast<double>(counts.size());
  double sum = 0;
  for (auto count : counts) sum += (static_cast<double>(count) - expected) * (static_cast<double>(count) - expected);
  return sum / expected;
}

TEST(Random, ForkedChildrenDoNotRepeatTheParentsBufferedStream) {
  // The parent's buffer holds unread bytes when it forks; a child that used them would hand out
  // the same tags and Call-IDs as its parent (a seeded PRNG copied by fork does exactly that).
  (void)random_u64();
  const Stream first_child = stream_from_child();
  const Stream second_child = stream_from_child();
  const Stream parent = draw_stream();
  EXPECT_FALSE(share_a_value(parent, first_child));
  EXPECT_FALSE(share_a_value(parent, second_child));
  EXPECT_FALSE(share_a_value(first_child, second_child));
}

TEST(Random, DrawsAcrossBufferRefillsNeverRepeatAndAreBitBalanced) {
  // Three refills and a part block: 64-bit values from a CSPRNG collide with probability ~1e-13.
  const std::size_t draws = 3 * kDrawsPerBlock + 7;
  std::set<std::uint64_t> seen;
  std::size_t ones = 0;
  for (std::size_t i = 0; i < draws; ++i) {
    const std::uint64_t value = random_u64();
    seen.insert(value);
    ones += static_cast<std::size_t>(std::popcount(value));
  }
  EXPECT_EQ(seen.size(), draws);
  // 98,752 fair bits: mean half, standard deviation ~157; 1,600 is more than ten deviations.
  const double bits = static_cast<double>(draws * 64);
  EXPECT_NEAR(static_cast<double>(ones), bits / 2, 1600.0);
}

TEST(Random, ThreadsDrawIndependentStreams) {
  Stream other{};
  std::thread worker([&] { other = draw_stream(); });
  worker.join();
  EXPECT_FALSE(share_a_value(draw_stream(), other));
}

TEST(Random, RandomBytesFillsSmallAndLargerThanABlockRequests) {
  // 10,000 bytes bypass the buffer, 100 come out of it; together a byte histogram near uniform.
  std::vector<std::uint8_t> large(10000, 0);
  std::vector<std::uint8_t> small(100, 0);
  random_bytes(large);
  random_bytes(small);
  std::vector<std::size_t> counts(256, 0);
  for (auto byte : large) ++counts[byte];
  for (auto byte : small) ++counts[byte];
  // 255 degrees of freedom: mean 255, standard deviation ~22.6; 400 is over six deviations.
  EXPECT_LT(chi_square(counts), 400.0);
  EXPECT_NE(std::ranges::count(small, 0), 100);
  random_bytes({});  // an empty request is fine
}

TEST(Random, AlphanumericTokensUseEveryCharacterEvenly) {
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::vector<std::size_t> counts(kAlphabet.size(), 0);
  for (int i = 0; i < 20000; ++i) {
    const std::string token = random_alphanumeric(31);  // 620,000 characters, 10,000 of each expected
    ASSERT_EQ(token.size(), 31u);
    for (char c : token) {
      const auto at = kAlphabet.find(c);
      ASSERT_NE(at, std::string_view::npos) << "not alphanumeric: " << static_cast<int>(c);
      ++counts[at];
    }
  }
  // 61 degrees of freedom: mean 61, standard deviation ~11; a modulo bias (62, 63 folded onto
  // two characters) would give chi-square in the thousands.
  EXPECT_LT(chi_square(counts), 150.0);
  EXPECT_TRUE(random_alphanumeric(0).empty());
}

TEST(Random, RandomBelowIsUniformWithinItsBound) {
  std::vector<std::size_t> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const std::uint64_t value = random_below(7);
    ASSERT_LT(value, 7u);
    ++counts[value];
  }
  EXPECT_LT(chi_square(counts), 40.0);  // 6 degrees of freedom: mean 6, sd ~3.5
  EXPECT_EQ(random_below(1), 0u);
  EXPECT_EQ(random_below(0), 0u);
}

}  // namespace random_test
}  // namespace chorus
