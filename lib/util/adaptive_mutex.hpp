// util/adaptive_mutex.hpp — a mutex that spins for a moment before it sleeps.
//
// glibc's PTHREAD_MUTEX_ADAPTIVE_NP: a thread that finds it locked retries
// for a bounded number of iterations (glibc.pthread.mutex_spin_count, 100 by
// default) before it waits on a futex. For locks held for a microsecond or
// two by threads on different cores, such as the db's state mutex between
// the WAL thread and the callers, the wait usually ends while spinning: no
// sleep, and no wake-up, which on a VM costs an inter-processor interrupt
// and some tens of microseconds before the sleeper runs again.
//
// Meets Lockable (std::lock_guard, std::unique_lock, std::scoped_lock);
// not for std::condition_variable (use std::condition_variable_any).
// Thread safety: that of a mutex. Not recursive; unlocking from a thread
// that does not hold it is undefined, as for std::mutex.
#pragma once

#include <pthread.h>

namespace strata::util {

class adaptive_mutex {
 public:
  adaptive_mutex() noexcept {
    pthread_mutexattr_t attributes;
    pthread_mutexattr_init(&attributes);
    pthread_mutexattr_settype(&attributes, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mutex_, &attributes);
    pthread_mutexattr_destroy(&attributes);
  }
  ~adaptive_mutex() { pthread_mutex_destroy(&mutex_); }
  adaptive_mutex(const adaptive_mutex&) = delete;
  adaptive_mutex& operator=(const adaptive_mutex&) = delete;

  // Errors (EDEADLK, EINVAL) only come from misuse, as with std::mutex.
  void lock() noexcept { pthread_mutex_lock(&mutex_); }
  bool try_lock() noexcept { return pthread_mutex_trylock(&mutex_) == 0; }
  void unlock() noexcept { pthread_mutex_unlock(&mutex_); }

 private:
  pthread_mutex_t mutex_;
};

}  // namespace strata::util
