// The interposed pthread lock functions of bench/lock_count.h.
#include "bench/lock_count.h"

#include <dlfcn.h>
#include <pthread.h>

#include <atomic>

namespace litepool::bench {
namespace {

std::atomic<uint64_t> g_locks{0};

// libc's own function, looked up once. dlsym may itself lock (and land
// here); by then the first lookup has finished on this thread or another.
template <typename Fn>
Fn Next(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

using MutexFn = int (*)(pthread_mutex_t*);
using RwlockFn = int (*)(pthread_rwlock_t*);

}  // namespace

uint64_t LocksTaken() { return g_locks.load(std::memory_order_relaxed); }

}  // namespace litepool::bench

using litepool::bench::g_locks;

extern "C" {

int pthread_mutex_lock(pthread_mutex_t* m) {
  static auto next = litepool::bench::Next<litepool::bench::MutexFn>("pthread_mutex_lock");
  g_locks.fetch_add(1, std::memory_order_relaxed);
  return next(m);
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  static auto next = litepool::bench::Next<litepool::bench::MutexFn>("pthread_mutex_trylock");
  g_locks.fetch_add(1, std::memory_order_relaxed);
  return next(m);
}

int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  static auto next = litepool::bench::Next<litepool::bench::RwlockFn>("pthread_rwlock_rdlock");
  g_locks.fetch_add(1, std::memory_order_relaxed);
  return next(l);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  static auto next = litepool::bench::Next<litepool::bench::RwlockFn>("pthread_rwlock_wrlock");
  g_locks.fetch_add(1, std::memory_order_relaxed);
  return next(l);
}

}  // extern "C"
