// Concurrency: writers, readers, snapshots and seal racing each other.
// Registered in meson suites `unit` and `stress`; CI runs `stress` under
// ThreadSanitizer. Sizes are modest so a TSan run stays within seconds.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "strata/memtable.hpp"
#include "thread_checks.hpp"

using strata::errc;
using strata::memtable;
using strata::sequence_number;
using strata::testing::thread_checks;

namespace {

std::string key_of(int writer, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "k%08d-w%02d", i, writer);
  return buf;
}

// Walks a cursor view and checks it is strictly ordered; returns its entries.
std::vector<std::pair<std::string, sequence_number>> walk_checked(const memtable& t, const memtable::cursor_options& o,
                                                                  thread_checks& checks) {
  std::vector<std::pair<std::string, sequence_number>> out;
  for (auto e : t.entries(o)) {
    if (!out.empty()) {
      const auto& [pk, ps] = out.back();
      const bool ordered = o.all_versions ? (pk < e.key || (pk == e.key && ps > e.sequence)) : pk < e.key;
      if (!THREAD_CHECK(checks, ordered)) break;
    }
    if (!THREAD_CHECK(checks, e.sequence <= *o.snapshot)) break;
    out.emplace_back(std::string(e.key), e.sequence);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(memtable_stress)

BOOST_AUTO_TEST_CASE(writers_and_readers_disjoint_and_overlapping_keys) {
  thread_checks checks;
  constexpr int writers = 4, per_writer = 3000;
  memtable::options o;
  o.shards = 2;  // fewer shards than writer threads
  o.arena_block_bytes = 16 * 1024;
  auto t = memtable::create(o);
  std::atomic<int> done{0};
  std::latch start(writers + 2);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < per_writer; ++i) {
        THREAD_CHECK(checks, t->put(key_of(w, i), std::to_string(i)));         // disjoint
        THREAD_CHECK(checks, t->get_live(key_of(w, i)) == std::to_string(i));  // reads its own write
        THREAD_CHECK(checks, t->put("shared" + std::to_string(i % 50), "x"));  // overlapping
      }
      done.fetch_add(1);
    });
  }
  std::atomic<int> scans{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      do {  // at least one pass, however fast the writers are
        memtable::cursor_options co;
        co.snapshot = t->snapshot();
        co.all_versions = r == 1;
        walk_checked(*t, co, checks);
        auto c = t->new_cursor(co);  // backward too
        c.seek_to_last();
        std::string last;
        bool first = true;
        for (int steps = 0; c.valid() && steps < 200; ++steps, c.prev()) {
          if (!first && !co.all_versions) THREAD_CHECK(checks, std::string(c.key()) < last);
          last = c.key();
          first = false;
        }
        scans.fetch_add(1);
      } while (done.load() < writers);
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(scans.load() > 0);
  BOOST_TEST(t->size() == static_cast<std::size_t>(2 * writers * per_writer));
  BOOST_TEST(t->snapshot() == static_cast<sequence_number>(2 * writers * per_writer));
  for (int w = 0; w < writers; ++w) {
    for (int i = 0; i < per_writer; ++i) BOOST_REQUIRE(*t->get_live(key_of(w, i)) == std::to_string(i));
  }
  for (int i = 0; i < 50; ++i) BOOST_REQUIRE(t->contains("shared" + std::to_string(i)));
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(snapshot_taken_mid_run_sees_exactly_the_versions_up_to_it) {
  thread_checks checks;
  constexpr int writers = 3, per_writer = 2000;
  auto t = memtable::create();
  std::latch start(writers + 1);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int i = 0; i < per_writer; ++i) {
        if (i % 7 == 0) {
          THREAD_CHECK(checks, t->erase("hot" + std::to_string(i % 13)));
        } else {
          THREAD_CHECK(checks, t->put(i % 3 ? key_of(w, i) : "hot" + std::to_string(i % 13), std::to_string(w)));
        }
      }
    });
  }
  start.arrive_and_wait();
  std::vector<std::pair<sequence_number, std::vector<std::pair<std::string, sequence_number>>>> seen;
  for (int k = 0; k < 20; ++k) {
    memtable::cursor_options co;
    co.snapshot = t->snapshot();
    co.all_versions = true;
    auto entries = walk_checked(*t, co, checks);
    // Publication is strict: every sequence 1..S is an entry, no holes.
    BOOST_REQUIRE_EQUAL(entries.size(), *co.snapshot);
    seen.emplace_back(*co.snapshot, std::move(entries));
    std::this_thread::yield();
  }
  for (auto& th : threads) th.join();
  for (const auto& [snap, entries] : seen) {  // the same snapshot read again after all writes: identical
    memtable::cursor_options co;
    co.snapshot = snap;
    co.all_versions = true;
    BOOST_REQUIRE(walk_checked(*t, co, checks) == entries);
  }
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(seal_racing_writers_loses_nothing) {
  thread_checks checks;
  for (int round = 0; round < 5; ++round) {
    constexpr int writers = 4;
    auto t = memtable::create();
    std::vector<std::vector<std::string>> acked(writers);
    std::vector<std::vector<std::string>> refused(writers);
    std::latch start(writers + 1);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        start.arrive_and_wait();
        for (int i = 0;; ++i) {
          const auto key = key_of(w, i);
          const auto ec = t->try_put(key, "v");
          if (ec) {
            THREAD_CHECK(checks, (ec == errc::sealed));
            refused[w].push_back(key);
            if (refused[w].size() > 10) return;
          } else {
            THREAD_CHECK(checks, refused[w].empty());  // once refused, never accepted again
            acked[w].push_back(key);
          }
        }
      });
    }
    start.arrive_and_wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + round));
    auto s = t->seal();
    BOOST_REQUIRE(!s.error);
    const auto frozen_size = t->size();  // seal waited for writers in flight
    for (auto& th : threads) th.join();
    std::size_t total = 0;
    for (int w = 0; w < writers; ++w) {
      total += acked[w].size();
      for (const auto& k : acked[w]) BOOST_REQUIRE(t->contains(k));
      for (const auto& k : refused[w]) BOOST_REQUIRE(t->get(k).absent());
    }
    BOOST_TEST(frozen_size == total);
    BOOST_TEST(t->size() == total);  // nothing landed after the seal
    BOOST_TEST(t->snapshot() == total);
    BOOST_TEST(s.fresh->empty());
    BOOST_TEST(s.fresh->put("after", "seal"));
    BOOST_TEST(s.fresh->get("after").sequence == total + 1);
  }
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(auto_seal_racing_writers_lands_exactly_the_limit) {
  thread_checks checks;
  memtable::options o;
  o.max_entries = 5000;
  auto t = memtable::create(o);
  std::atomic<int> acked{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0;; ++i) {
        if (t->try_put(key_of(w, i), "v")) return;
        acked.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(acked.load() == 5000);
  BOOST_TEST(t->size() == 5000u);
  BOOST_TEST(t->is_sealed());
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(get_or_insert_races_have_one_winner_per_key) {
  thread_checks checks;
  constexpr int threads_n = 4, keys = 500;
  auto t = memtable::create();
  std::vector<std::vector<std::string>> got(threads_n, std::vector<std::string>(keys));
  std::atomic<int> winners{0};
  std::latch start(threads_n);
  std::vector<std::thread> threads;
  for (int w = 0; w < threads_n; ++w) {
    threads.emplace_back([&, w] {
      start.arrive_and_wait();
      for (int k = 0; k < keys; ++k) {
        const auto r = t->get_or_insert("key" + std::to_string(k), "from" + std::to_string(w));
        THREAD_CHECK(checks, !r.error);
        if (r.inserted) winners.fetch_add(1);
        got[w][k] = r.value;
      }
    });
  }
  for (auto& th : threads) th.join();
  BOOST_TEST(winners.load() == keys);
  BOOST_TEST(t->size() == static_cast<std::size_t>(keys));
  for (int k = 0; k < keys; ++k) {
    for (int w = 1; w < threads_n; ++w) BOOST_REQUIRE(got[w][k] == got[0][k]);
    BOOST_REQUIRE(*t->get_live("key" + std::to_string(k)) == got[0][k]);
  }
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(get_or_insert_racing_put_is_linearizable) {
  // If get_or_insert says it inserted into an absent key, no put of that key
  // may end up ordered before it (a put that sorts below the inserted
  // version would mean the key was not absent at the insert).
  thread_checks checks;
  constexpr int keys = 3000;
  auto t = memtable::create();
  std::vector<char> inserted(keys);
  std::vector<std::string> seen(keys);
  std::latch start(2);
  std::thread putter([&] {
    start.arrive_and_wait();
    for (int k = 0; k < keys; ++k) THREAD_CHECK(checks, t->put("k" + std::to_string(k), "put"));
  });
  std::thread getter([&] {
    start.arrive_and_wait();
    for (int k = 0; k < keys; ++k) {
      const auto r = t->get_or_insert("k" + std::to_string(k), "goi");
      THREAD_CHECK(checks, !r.error);
      inserted[static_cast<std::size_t>(k)] = r.inserted;
      seen[static_cast<std::size_t>(k)] = r.value;
    }
  });
  putter.join();
  getter.join();
  BOOST_TEST(checks.ok(), checks.report());
  for (int k = 0; k < keys; ++k) {
    const auto key = "k" + std::to_string(k);
    std::vector<std::string> versions;  // newest first
    auto c = t->new_cursor({.snapshot = {}, .all_versions = true});
    for (c.seek(key); c.valid() && c.key() == key; c.next()) versions.emplace_back(c.value());
    if (inserted[static_cast<std::size_t>(k)]) {
      BOOST_REQUIRE(seen[static_cast<std::size_t>(k)] == "goi");
      BOOST_REQUIRE_MESSAGE(versions.back() == "goi", key << ": a put sorts below the inserted version");
    } else {
      BOOST_REQUIRE(seen[static_cast<std::size_t>(k)] == "put");
    }
  }
}

BOOST_AUTO_TEST_CASE(short_lived_threads_more_than_shards) {
  thread_checks checks;
  memtable::options o;
  o.shards = 2;
  o.arena_block_bytes = 4096;
  auto t = memtable::create(o);
  for (int wave = 0; wave < 10; ++wave) {
    std::vector<std::thread> threads;
    for (int w = 0; w < 6; ++w) {
      threads.emplace_back([&, w, wave] {
        for (int i = 0; i < 200; ++i) THREAD_CHECK(checks, t->put(key_of(wave * 10 + w, i), std::string(i % 300, 'x')));
      });
    }
    for (auto& th : threads) th.join();
  }
  BOOST_TEST(t->size() == 10u * 6 * 200);
  for (int wave = 0; wave < 10; ++wave) {
    for (int w = 0; w < 6; ++w) {
      for (int i = 0; i < 200; ++i) {
        BOOST_REQUIRE(t->get(key_of(wave * 10 + w, i)).value == std::string(i % 300, 'x'));
      }
    }
  }
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(store_mode_concurrent_batches_publish_atomically) {
  thread_checks checks;
  // Store mode as the db uses it: a sequence range per batch, inserted by
  // several threads, published in order; a reader at the published point
  // sees each batch whole or not at all.
  constexpr int threads_n = 3, batches = 400, batch_size = 4;
  auto t = memtable::create();
  std::atomic<sequence_number> next{1};
  std::mutex publish_mu;
  std::set<sequence_number> completed;  // batch first seqs done, not yet published
  sequence_number published = 0;
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    while (!stop.load()) {
      memtable::cursor_options co;
      co.snapshot = t->snapshot();
      co.all_versions = true;
      const auto entries = walk_checked(*t, co, checks);
      THREAD_CHECK(checks, (entries.size() % batch_size) == (0u));
      THREAD_CHECK(checks, (entries.size()) == (*co.snapshot));
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < threads_n; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < batches; ++b) {
        const sequence_number first = next.fetch_add(batch_size);
        std::vector<std::string> keys;
        for (int i = 0; i < batch_size; ++i) keys.push_back(key_of(w, b * batch_size + i));
        std::vector<memtable::batch_op> ops;
        for (const auto& k : keys) ops.push_back({strata::value_type::value, k, "v"});
        THREAD_CHECK(checks, !t->insert_batch(first, ops));
        std::lock_guard lock(publish_mu);  // the store's in-order publication, simplified
        completed.insert(first);
        while (!completed.empty() && *completed.begin() == published + 1) {
          published += batch_size;
          completed.erase(completed.begin());
        }
        t->publish(published);
      }
    });
  }
  for (auto& th : writers) th.join();
  stop.store(true);
  reader.join();
  BOOST_TEST(t->snapshot() == static_cast<sequence_number>(threads_n * batches * batch_size));
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_CASE(large_batches_over_shared_keys_link_every_version) {
  // Batches of 40 ops over a small shared key space: the threads' sorted,
  // interleaved searches go stale under each other's inserts and under
  // their own batch's earlier nodes, so linking walks on from outdated
  // neighbours all the time. Every version must land exactly once, in
  // order, while a reader walks the list.
  thread_checks checks;
  constexpr int threads_n = 3, batches = 150, batch_size = 40, key_space = 64;
  auto t = memtable::create();
  std::atomic<sequence_number> next{1};
  std::atomic<bool> stop{false};
  std::thread reader([&] {
    memtable::cursor_options co;
    co.all_versions = true;
    co.snapshot = strata::max_sequence_number;
    while (!stop.load()) walk_checked(*t, co, checks);
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < threads_n; ++w) {
    writers.emplace_back([&, w] {
      std::uint32_t x = 12345u + static_cast<std::uint32_t>(w);
      for (int b = 0; b < batches; ++b) {
        const sequence_number first = next.fetch_add(batch_size);
        std::vector<std::string> keys;
        for (int i = 0; i < batch_size; ++i) {
          x = x * 1103515245u + 12345u;
          keys.push_back(key_of(0, static_cast<int>((x >> 16) % key_space)));
        }
        std::vector<memtable::batch_op> ops;
        for (const auto& k : keys) ops.push_back({strata::value_type::value, k, "v"});
        THREAD_CHECK(checks, !t->insert_batch(first, ops));
      }
    });
  }
  for (auto& th : writers) th.join();
  stop.store(true);
  reader.join();
  constexpr std::size_t total = std::size_t{threads_n} * batches * batch_size;
  BOOST_TEST(t->size() == total);
  t->publish(total);
  memtable::cursor_options co;
  co.all_versions = true;
  co.snapshot = t->snapshot();
  const auto entries = walk_checked(*t, co, checks);
  BOOST_TEST(entries.size() == total);
  std::set<sequence_number> seqs;
  for (const auto& e : entries) seqs.insert(e.second);
  BOOST_TEST(seqs.size() == total);
  BOOST_TEST(*seqs.begin() == 1u);
  BOOST_TEST(*seqs.rbegin() == total);
  BOOST_TEST(checks.ok(), checks.report());
}

BOOST_AUTO_TEST_SUITE_END()
