#include "common/priority_inheritance_mutex.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace chorus {
namespace {

// Lock errors on a mutex this class initialised mean memory corruption or a bug (EDEADLK is only
// reported by error-checking mutexes, EAGAIN only by recursive ones): continuing would break the
// data it guards, so the process stops with the reason.
void check(int error, const char* what) {
  if (error == 0) return;
  std::fprintf(stderr, "PriorityInheritanceMutex: %s failed: error %d\n", what, error);
  std::abort();
}

}  // namespace

PriorityInheritanceMutex::PriorityInheritanceMutex() {
  pthread_mutexattr_t attributes;
  check(pthread_mutexattr_init(&attributes), "pthread_mutexattr_init");
  // ENOTSUP only where the kernel has no PI futexes: a plain mutex then, and protocol() says so.
  if (pthread_mutexattr_setprotocol(&attributes, PTHREAD_PRIO_INHERIT) == 0) protocol_ = PTHREAD_PRIO_INHERIT;
  check(pthread_mutex_init(&mutex_, &attributes), "pthread_mutex_init");
  pthread_mutexattr_destroy(&attributes);
}

PriorityInheritanceMutex::~PriorityInheritanceMutex() {
  pthread_mutex_destroy(&mutex_);
}

void PriorityInheritanceMutex::lock() {
  check(pthread_mutex_lock(&mutex_), "pthread_mutex_lock");
}

void PriorityInheritanceMutex::unlock() {
  check(pthread_mutex_unlock(&mutex_), "pthread_mutex_unlock");
}

bool PriorityInheritanceMutex::try_lock() {
  const int error = pthread_mutex_trylock(&mutex_);
  if (error == EBUSY) return false;
  check(error, "pthread_mutex_trylock");
  return true;
}

}  // namespace chorus
