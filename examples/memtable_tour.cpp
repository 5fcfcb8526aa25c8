// examples/memtable_tour.cpp — the memtable on its own (include/strata/memtable.hpp):
// several writer threads fill one lock-free table,
// a snapshot is taken mid-way, the table seals itself at its entry limit and
// hands over to a fresh one, and the frozen table is read back in order, as
// a flush to disk would. Prints what it did and checks it as it goes; exits
// non-zero if anything disagrees.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "strata/memtable.hpp"

int main() {
  using namespace std::chrono;
  strata::memtable::options opts;
  opts.max_entries = 200'000;  // auto-seal here, as a store's write buffer would
  auto table = strata::memtable::create(opts);

  constexpr int writers = 2, per_writer = 100'000;
  const auto start = steady_clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&table, w] {
      for (int i = 0; i < per_writer; ++i) {
        const std::string key = fmt::format("user:{:08}", i * writers + w);
        if (!table->put(key, fmt::format("value of {}", key))) std::abort();
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(5));
  const auto snap = table->snapshot();  // a point in time, mid-run
  for (auto& t : threads) t.join();
  const double secs = duration<double>(steady_clock::now() - start).count();

  fmt::print("inserted {} entries from {} threads in {:.3f} s ({:.2f} M puts/s)\n", table->size(), writers, secs,
             static_cast<double>(table->size()) / secs / 1e6);
  fmt::print("auto-sealed at {} entries: {}\n", opts.max_entries, table->is_sealed());
  fmt::print("memory: {:.1f} MiB used of {:.1f} MiB reserved ({:.0f}% utilised), avg key {:.0f} B, value {:.0f} B\n",
             table->memory_usage() / 1048576.0, table->memory_reserved() / 1048576.0, table->memory_utilization() * 100,
             table->avg_key_size(), table->avg_value_size());

  std::size_t at_snapshot = 0;
  for (auto e : table->entries({.snapshot = snap})) at_snapshot += e.sequence <= snap;
  fmt::print("snapshot at sequence {} sees exactly {} entries\n", snap, at_snapshot);
  if (at_snapshot != snap) return 1;

  auto [frozen, fresh, error] = table->seal();
  if (error) return 1;
  if (auto ec = table->try_put("late", "write"); ec != strata::errc::sealed) return 1;
  fresh->put("user:new", "lands in the fresh table");
  fmt::print("sealed: frozen table keeps {} entries; fresh table continues at sequence {}\n", frozen->size(),
             fresh->get("user:new").sequence);

  auto c = frozen->new_cursor();
  c.seek("user:00150000");
  fmt::print("cursor seek(\"user:00150000\") -> {} = {}\n", c.key(), c.value());
  c.prev();
  fmt::print("cursor prev()                 -> {} = {}\n", c.key(), c.value());

  std::string previous;
  std::size_t flushed = 0;
  for (auto e : frozen->entries()) {  // what a flush to an SST would write
    if (!previous.empty() && !(previous < e.key)) return 1;
    previous = e.key;
    ++flushed;
  }
  fmt::print("flush pass read {} entries in key order\n", flushed);
  return flushed == frozen->size() ? 0 : 1;
}
