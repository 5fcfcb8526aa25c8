#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <latch>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "thread_checks.hpp"
#include "util/huge_page_slab.hpp"
#include "util/huge_pages.hpp"

#if defined(__SANITIZE_THREAD__)
#define SLAB_TEST_TSAN 1
#endif

namespace util = strata::util;
using strata::testing::thread_checks;

namespace {

struct object {
  unsigned char* p;
  std::size_t bytes;
  unsigned char fill;
};

object make(std::size_t bytes, unsigned char fill) {
  auto* p = static_cast<unsigned char*>(util::slab_allocate(bytes));
  std::memset(p, fill, bytes);
  return {p, bytes, fill};
}

bool intact(const object& o) {
  for (std::size_t i = 0; i < o.bytes; ++i) {
    if (o.p[i] != o.fill) return false;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(huge_page_slab)

BOOST_AUTO_TEST_CASE(size_classes) {
  BOOST_TEST(util::slab_class_size(1) == 256u);
  BOOST_TEST(util::slab_class_size(256) == 256u);
  BOOST_TEST(util::slab_class_size(257) == 512u);
  BOOST_TEST(util::slab_class_size(4096 + 16) == 4352u);
  BOOST_TEST(util::slab_class_size(8192) == 8192u);
  BOOST_TEST(util::slab_class_size(8193) == 9216u);
  BOOST_TEST(util::slab_class_size(util::slab_max_object) == util::slab_max_object);
  for (std::size_t b = 1; b <= util::slab_max_object; b += 97) {
    const std::size_t c = util::slab_class_size(b);
    BOOST_REQUIRE(c >= b);
    BOOST_REQUIRE(c - b < (b <= 8192 ? 256u : 1024u));  // the waste bound the header promises
  }
  BOOST_CHECK_THROW(util::slab_allocate(0), std::bad_alloc);
  BOOST_CHECK_THROW(util::slab_allocate(util::slab_max_object + 1), std::bad_alloc);
}

BOOST_AUTO_TEST_CASE(objects_are_disjoint_aligned_and_kept) {
  // Many objects of mixed sizes, each filled with its own byte: an overlap
  // or a reuse of live memory would break some object's fill.
  std::mt19937_64 rng(3);
  const auto before = util::get_slab_stats();
  std::vector<object> live;
  for (int i = 0; i < 3000; ++i) {
    const std::size_t bytes = rng() % 4 == 0 ? 1 + rng() % util::slab_max_object : 4000 + rng() % 400;
    live.push_back(make(bytes, static_cast<unsigned char>(i)));
    BOOST_REQUIRE(reinterpret_cast<std::uintptr_t>(live.back().p) % 256 == 0);
    if (rng() % 3 == 0) {  // free a random one: its hole gets reused
      const std::size_t victim = rng() % live.size();
      BOOST_REQUIRE(intact(live[victim]));
      util::slab_free(live[victim].p, live[victim].bytes);
      live[victim] = live.back();
      live.pop_back();
    }
  }
  for (const object& o : live) BOOST_REQUIRE(intact(o));
  auto s = util::get_slab_stats();
  BOOST_TEST(s.live_objects == before.live_objects + live.size());
  std::uint64_t bytes = 0;
  for (const object& o : live) bytes += util::slab_class_size(o.bytes);
  BOOST_TEST(s.live_bytes == before.live_bytes + bytes);
  BOOST_TEST(s.mapped_bytes == s.chunks * util::huge_page_size);
  BOOST_TEST(s.mapped_bytes >= s.live_bytes);

  for (const object& o : live) util::slab_free(o.p, o.bytes);
  s = util::get_slab_stats();
  BOOST_TEST(s.live_objects == before.live_objects);
  BOOST_TEST(s.live_bytes == before.live_bytes);
  // Emptied chunks went back to the kernel: at most one per size class stays
  // (empty_chunks_are_unmapped_and_holes_reused checks it closely).
  std::size_t classes = 0;
  for (std::size_t b = 1; b <= util::slab_max_object; ++b) classes += util::slab_class_size(b) == b;
  BOOST_TEST(classes == 88u);
  BOOST_TEST(s.chunks <= before.chunks + classes);
}

BOOST_AUTO_TEST_CASE(empty_chunks_are_unmapped_and_holes_reused) {
  constexpr std::size_t bytes = 30000;  // the 30 KiB class
  const std::size_t per_chunk = (util::huge_page_size - 256) / util::slab_class_size(bytes);
  const auto before = util::get_slab_stats();
  std::vector<object> live;
  for (std::size_t i = 0; i < 5 * per_chunk; ++i) live.push_back(make(bytes, static_cast<unsigned char>(i)));
  // (The class may have kept one empty chunk from an earlier test.)
  BOOST_TEST(util::get_slab_stats().chunks >= before.chunks + 4);

  // A freed object's place is the next one handed out.
  unsigned char* hole = live[7].p;
  util::slab_free(hole, bytes);
  live[7] = make(bytes, 0xee);
  BOOST_TEST(live[7].p == hole);

  for (const object& o : live) BOOST_REQUIRE(intact(o));
  for (const object& o : live) util::slab_free(o.p, o.bytes);
  BOOST_TEST(util::get_slab_stats().chunks <= before.chunks + 1);  // the class keeps at most one
}

BOOST_AUTO_TEST_CASE(concurrent_allocate_and_cross_thread_free) {
  // Threads allocate, pass objects to a neighbour through a shared pool and
  // free the neighbour's: every object stays intact until freed, and the
  // totals return to where they were. Run under TSan in the stress suite.
  constexpr int threads = 4;
#ifdef SLAB_TEST_TSAN
  constexpr int ops = 4000;
#else
  constexpr int ops = 40000;
#endif
  const auto before = util::get_slab_stats();
  std::vector<std::vector<object>> handed(threads);
  std::vector<std::mutex> handed_mu(threads);
  thread_checks checks;
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(100 + t);
      std::vector<object> mine;
      start.arrive_and_wait();
      for (int i = 0; i < ops; ++i) {
        const auto r = rng() % 10;
        if (r < 5) {
          const std::size_t size = rng() % 8 == 0 ? 1 + rng() % 20000 : 4000 + rng() % 600;
          mine.push_back(make(size, static_cast<unsigned char>(rng())));
        } else if (r < 7 && !mine.empty()) {  // hand one to the next thread
          std::lock_guard lock(handed_mu[(t + 1) % threads]);
          handed[(t + 1) % threads].push_back(mine.back());
          mine.pop_back();
        } else {  // free one of ours, or one handed to us
          object o{};
          {
            std::lock_guard lock(handed_mu[t]);
            if (!handed[t].empty()) {
              o = handed[t].back();
              handed[t].pop_back();
            }
          }
          if (o.p == nullptr && !mine.empty()) {
            o = mine[rng() % mine.size()];
            std::erase_if(mine, [&](const object& m) { return m.p == o.p; });
          }
          if (o.p != nullptr) {
            if (!THREAD_CHECK(checks, intact(o))) break;
            util::slab_free(o.p, o.bytes);
          }
        }
      }
      for (const object& o : mine) {
        THREAD_CHECK(checks, intact(o));
        util::slab_free(o.p, o.bytes);
      }
    });
  }
  for (auto& w : workers) w.join();
  for (const auto& pool : handed) {
    for (const object& o : pool) {
      BOOST_REQUIRE(intact(o));
      util::slab_free(o.p, o.bytes);
    }
  }
  BOOST_TEST(checks.ok(), checks.report());
  const auto s = util::get_slab_stats();
  BOOST_TEST(s.live_objects == before.live_objects);
  BOOST_TEST(s.live_bytes == before.live_bytes);
}

BOOST_AUTO_TEST_SUITE_END()
