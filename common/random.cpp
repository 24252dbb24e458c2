#include "common/random.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace chorus {
namespace {

constexpr std::size_t kBlockBytes = 4096;

// Bumped in a forked child (pthread_atfork): every thread buffer filled under an older value is
// stale, so the child never repeats the parent's pending bytes.
std::atomic<std::uint64_t> fork_generation{0};

void on_fork_child() {
  fork_generation.fetch_add(1, std::memory_order_relaxed);
}

bool register_fork_handler() {
  return ::pthread_atfork(nullptr, nullptr, &on_fork_child) == 0;
}

[[noreturn]] void no_randomness(const char* what) {
  // No logging layer here (common/log may itself need ids): stderr, then stop. Carrying on would
  // make every tag, Call-ID and ICE password guessable.
  std::fprintf(stderr, "chorus: no kernel randomness (%s: %s); stopping\n", what, std::strerror(errno));
  std::abort();
}

// /dev/urandom, for kernels without getrandom(2) (before 3.17) or a seccomp filter that denies it.
void fill_from_urandom(std::uint8_t* out, std::size_t size) {
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) no_randomness("open /dev/urandom");
  while (size > 0) {
    const ssize_t got = ::read(fd, out, size);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      ::close(fd);
      no_randomness("read /dev/urandom");
    }
    out += got;
    size -= static_cast<std::size_t>(got);
  }
  ::close(fd);
}

// getrandom(2) without flags blocks only until the pool is first initialised at boot, and returns
// short (or EINTR) for requests over 256 bytes when a signal arrives: loop until full.
void fill_from_kernel(std::uint8_t* out, std::size_t size) {
  while (size > 0) {
    const ssize_t got = ::getrandom(out, size, 0);
    if (got > 0) {
      out += got;
      size -= static_cast<std::size_t>(got);
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else {
      fill_from_urandom(out, size);
      return;
    }
  }
}

struct Block {
  std::array<std::uint8_t, kBlockBytes> bytes{};
  std::size_t used = kBlockBytes;  // everything used: the first draw refills
  std::uint64_t generation = 0;
};

Block& block() {
  static const bool registered = register_fork_handler();
  (void)registered;  // if registration failed (ENOMEM at start), fork safety is lost, not randomness
  thread_local Block instance;
  return instance;
}

// Copies `size` (≤ kBlockBytes) bytes out of this thread's buffer, refilling it when it runs short
// or was inherited across fork(), and wipes what it hands out.
void take(std::uint8_t* out, std::size_t size) {
  Block& b = block();
  const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (b.generation != generation) {
    b.generation = generation;
    b.used = kBlockBytes;
  }
  std::size_t done = 0;
  while (done < size) {
    if (b.used == kBlockBytes) {
      fill_from_kernel(b.bytes.data(), kBlockBytes);
      b.used = 0;
    }
    const std::size_t n = std::min(size - done, kBlockBytes - b.used);
    std::memcpy(out + done, b.bytes.data() + b.used, n);
    std::memset(b.bytes.data() + b.used, 0, n);
    b.used += n;
    done += n;
  }
}

}  // namespace

std::uint64_t random_u64() {
  std::uint64_t value = 0;
  take(reinterpret_cast<std::uint8_t*>(&value), sizeof value);
  return value;
}

std::uint64_t random_below(std::uint64_t bound) {
  if (bound == 0) return 0;
  // Values at or above the largest multiple of `bound` are redrawn, so every residue is equally likely.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    const std::uint64_t draw = random_u64();
    if (draw < limit) return draw % bound;
  }
}

void random_bytes(std::span<std::uint8_t> out) {
  if (out.size() >= kBlockBytes) {
    fill_from_kernel(out.data(), out.size());  // no point staging a block-sized request
    return;
  }
  take(out.data(), out.size());
}

std::string random_alphanumeric(std::size_t length) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string token(length, '\0');
  std::uint64_t bits = 0;
  int left = 0;
  for (char& c : token) {
    // Six bits a character, rejecting 62 and 63 so every character is equally likely.
    for (;;) {
      if (left == 0) {
        bits = random_u64();
        left = 10;
      }
      const auto index = static_cast<std::size_t>(bits & 0x3f);
      bits >>= 6;
      --left;
      if (index < 62) {
        c = kAlphabet[index];
        break;
      }
    }
  }
  return token;
}

}  // namespace chorus
