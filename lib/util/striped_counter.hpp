// util/striped_counter.hpp — a statistics counter that many threads bump
// without sharing a cache line.
//
// A plain std::atomic counter bumped by every get on two cores moves its
// cache line between them on each add (~100 ns a time on this VM, and a
// get touches several such counters). Here each thread adds to one of
// `stripes` slots, each on its own cache line, picked once per thread;
// load() sums them.
//
// Thread safety: add() and load() may run concurrently from any threads.
// Memory order: relaxed everywhere. The counts publish no data: a reader
// only wants a number, and every add is counted exactly once (atomic RMW),
// so a load after all adders are joined (or otherwise synchronised with)
// sees their exact total; a load racing with adds sees some of them.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace strata::util {

class striped_counter {
 public:
  void add(std::uint64_t n) noexcept { stripes_[this_thread_stripe()].value.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t load() const noexcept {
    std::uint64_t total = 0;
    for (const auto& s : stripes_) total += s.value.load(std::memory_order_relaxed);
    return total;
  }

 private:
  static constexpr std::size_t stripes = 16;
  struct alignas(64) stripe {
    std::atomic<std::uint64_t> value{0};
  };
  // Threads take stripes in turn as they first count (relaxed: the index
  // only spreads threads out; any value is correct).
  static std::size_t this_thread_stripe() noexcept {
    static std::atomic<std::size_t> next{0};
    thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed) % stripes;
    return mine;
  }
  std::array<stripe, stripes> stripes_{};
};

}  // namespace strata::util
