// Block cache: exact counters against a reference model, the CLOCK victim
// choice, what an eviction-heavy run may and may not return, capacity
// bounds per shard, replacement, erase and clear, blocks that outlive their
// eviction, oversize blocks, and a concurrency stress test.
// Registered as meson test `sst_block_cache` in suites `unit` and `stress`;
// CI runs `stress` under ThreadSanitizer, so the stress sizes shrink there.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <latch>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "sst/block_cache.hpp"
#include "thread_checks.hpp"
#include "util/coding.hpp"
#include "util/huge_page_slab.hpp"

// The suite below is namespace block_cache, which hides the class name.
using cache = strata::sst::block_cache;
using strata::testing::thread_checks;
using key = cache::key;
using block_ptr = cache::block_ptr;

// How Boost.Test prints blocks and block pointers in failure messages.
namespace strata::sst {
inline std::ostream& boost_test_print_type(std::ostream& os, const block_cache::block& b) {
  return os << "block of " << b.size() << " bytes";
}
inline std::ostream& boost_test_print_type(std::ostream& os, const block_cache::block_ptr& p) {
  if (!p) return os << "null block_ptr";
  return boost_test_print_type(os << "block_ptr to ", *p);
}
}  // namespace strata::sst

#if defined(__SANITIZE_THREAD__)
#define BLOCK_CACHE_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BLOCK_CACHE_TEST_TSAN 1
#endif
#endif

namespace {

constexpr std::size_t header_bytes = 32;  // table_id, block_offset, salt, filler size

// A self-describing block: it names its key, and its filler is a function of
// the salt, so a block handed out for the wrong key, or torn, or truncated,
// is detected without knowing which insert produced it.
std::string make_block(const key& k, std::uint64_t salt, std::size_t filler) {
  std::string b(header_bytes + filler, '\0');
  strata::coding::encode_fixed64(b.data(), k.table_id);
  strata::coding::encode_fixed64(b.data() + 8, k.block_offset);
  strata::coding::encode_fixed64(b.data() + 16, salt);
  strata::coding::encode_fixed64(b.data() + 24, filler);
  for (std::size_t i = 0; i < filler; ++i) b[header_bytes + i] = static_cast<char>(salt * 131 + i * 7);
  return b;
}

bool block_is_for(std::string_view b, const key& k) {
  if (b.size() < header_bytes) return false;
  const std::uint64_t salt = strata::coding::decode_fixed64(b.data() + 16);
  const std::uint64_t filler = strata::coding::decode_fixed64(b.data() + 24);
  if (strata::coding::decode_fixed64(b.data()) != k.table_id ||
      strata::coding::decode_fixed64(b.data() + 8) != k.block_offset || b.size() != header_bytes + filler) {
    return false;
  }
  for (std::size_t i = 0; i < filler; ++i) {
    if (b[header_bytes + i] != static_cast<char>(salt * 131 + i * 7)) return false;
  }
  return true;
}

std::size_t charge_of(std::size_t block_size) { return block_size + cache::entry_overhead; }

bool same_stats(const cache::stats& a, const cache::stats& b) {
  return a.hits == b.hits && a.misses == b.misses && a.inserts == b.inserts && a.evictions == b.evictions &&
         a.entries == b.entries && a.bytes == b.bytes;
}

std::string show(const cache::stats& s) {
  return "hits " + std::to_string(s.hits) + " misses " + std::to_string(s.misses) + " inserts " +
         std::to_string(s.inserts) + " evictions " + std::to_string(s.evictions) + " entries " +
         std::to_string(s.entries) + " bytes " + std::to_string(s.bytes);
}

// Every shard within its share, and the shards add up to get_stats().
void check_shards(const cache& c) {
  cache::stats sum;
  for (unsigned i = 0; i < c.shard_count(); ++i) {
    const auto s = c.get_shard_stats(i);
    BOOST_TEST(s.bytes <= c.shard_capacity());
    BOOST_TEST(s.bytes >= s.entries * cache::entry_overhead);
    sum.hits += s.hits;
    sum.misses += s.misses;
    sum.inserts += s.inserts;
    sum.evictions += s.evictions;
    sum.entries += s.entries;
    sum.bytes += s.bytes;
  }
  const auto total = c.get_stats();
  BOOST_TEST(same_stats(sum, total), show(sum) + " vs " + show(total));
  BOOST_TEST(total.bytes <= c.capacity());
}

std::uint64_t salt_of(std::string_view b) { return strata::coding::decode_fixed64(b.data() + 16); }

// The reference for a cache that never runs out of room: a map, with the
// cache's counting rules (oversize blocks are an insert and an eviction).
class unbounded_model {
 public:
  explicit unbounded_model(std::size_t capacity) : capacity_(capacity) {}

  bool lookup(const key& k) {
    if (!blocks_.contains(k)) {
      ++s_.misses;
      return false;
    }
    ++s_.hits;
    return true;
  }
  void insert(const key& k, std::size_t size) {
    ++s_.inserts;
    erase(k);
    if (charge_of(size) > capacity_) {
      ++s_.evictions;
      return;
    }
    blocks_[k] = size;
    s_.bytes += charge_of(size);
  }
  void erase(const key& k) {
    auto it = blocks_.find(k);
    if (it == blocks_.end()) return;
    s_.bytes -= charge_of(it->second);
    blocks_.erase(it);
  }
  cache::stats stats() const {
    auto s = s_;
    s.entries = blocks_.size();
    return s;
  }

 private:
  struct key_less {
    bool operator()(const key& a, const key& b) const {
      return std::pair(a.table_id, a.block_offset) < std::pair(b.table_id, b.block_offset);
    }
  };
  std::size_t capacity_;
  std::map<key, std::size_t, key_less> blocks_;
  cache::stats s_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(block_cache)

BOOST_AUTO_TEST_CASE(memory_choice) {
  BOOST_TEST(!cache(cache::huge_pages_from - 1).on_huge_pages());
  BOOST_TEST(cache(cache::huge_pages_from).on_huge_pages());
  BOOST_TEST(!cache(cache::huge_pages_from, 16, cache::memory::heap).on_huge_pages());
  BOOST_TEST(cache(4096, 1, cache::memory::huge_pages).on_huge_pages());
  // A huge-page cache's blocks come from the slab (when they fit in it).
  const auto before = strata::util::get_slab_stats();
  {
    cache c(1 << 20, 1, cache::memory::huge_pages);
    const block_ptr b = c.insert(key{1, 0}, make_block(key{1, 0}, 5, 1000));
    BOOST_TEST(strata::util::get_slab_stats().live_objects == before.live_objects + 1);
    const block_ptr big = c.insert(key{1, 4096}, make_block(key{1, 4096}, 6, strata::util::slab_max_object));
    BOOST_TEST(strata::util::get_slab_stats().live_objects == before.live_objects + 1);  // too big: the heap
    BOOST_TEST(block_is_for(*big, key{1, 4096}));
  }
  BOOST_TEST(strata::util::get_slab_stats().live_objects == before.live_objects);
}

// A block filled in place (as a table reader reads one straight into cache
// memory, trailer included): the reader may write in_place_slack bytes past
// the block's size, and the block made from it holds exactly its first
// size() bytes, on either kind of memory, cached or not; charged and
// counted like a copied insert. Memory dropped unmade is freed (the slab's
// count here, the leak checker in the sanitizer build).
BOOST_AUTO_TEST_CASE(blocks_filled_in_place) {
  for (const auto where : {cache::memory::heap, cache::memory::huge_pages}) {
    BOOST_TEST_CONTEXT("blocks " << (where == cache::memory::heap ? "on the heap" : "on huge pages")) {
      const auto before = strata::util::get_slab_stats();
      {
        cache c(1 << 20, 1, where);
        for (const std::size_t filler : {0u, 1u, 3u, 7u, 8u, 1000u, 4061u}) {
          const key k{7, filler};
          const std::string contents = make_block(k, 9, filler);
          auto memory = c.allocate(contents.size());
          BOOST_TEST(memory.size() == contents.size());
          std::memcpy(memory.data(), contents.data(), contents.size());
          std::memset(memory.data() + contents.size(), 0x5a, cache::in_place_slack);  // a trailer
          const block_ptr b = c.insert(k, std::move(memory));
          BOOST_TEST(block_is_for(*b, k));
          BOOST_TEST(block_is_for(*c.lookup(k), k));
        }
        BOOST_TEST(c.get_stats().inserts == 7u);
        BOOST_TEST(c.get_stats().bytes == 7 * (header_bytes + cache::entry_overhead) + (1 + 3 + 7 + 8 + 1000 + 4061));
        auto unmade = c.allocate(100);  // dropped without a block made of it
        std::memset(unmade.data(), 1, 100 + cache::in_place_slack);
      }
      BOOST_TEST(strata::util::get_slab_stats().live_objects == before.live_objects);
    }
  }
  const key k{8, 0};
  const std::string contents = make_block(k, 3, 50);
  auto memory = cache::allocate_uncached(contents.size());
  std::memcpy(memory.data(), contents.data(), contents.size());
  std::memset(memory.data() + contents.size(), 0x5a, cache::in_place_slack);
  const block_ptr b = cache::make_uncached(std::move(memory));
  BOOST_TEST(block_is_for(*b, k));
  BOOST_TEST(b.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(construction) {
  cache c(1 << 20);
  BOOST_TEST(c.capacity() == std::size_t{1} << 20);
  BOOST_TEST(c.shard_count() == 16u);
  BOOST_TEST(c.shard_capacity() == (std::size_t{1} << 20) / 16);
  BOOST_TEST(same_stats(c.get_stats(), {}));
  BOOST_CHECK_THROW(cache(1000, 0), std::invalid_argument);
  BOOST_CHECK_THROW(cache(1000, 3), std::invalid_argument);
  BOOST_CHECK_THROW(cache(1000, 24), std::invalid_argument);
  BOOST_CHECK_THROW(cache(1000, ::cache::max_shards * 2), std::invalid_argument);
  cache one(1000, 1);
  BOOST_TEST(one.shard_count() == 1u);
  BOOST_TEST(one.shard_capacity() == 1000u);
  cache odd(1000, 64);  // the remainder 1000 % 64 goes unused
  BOOST_TEST(odd.shard_capacity() == 15u);
  BOOST_CHECK_THROW(odd.get_shard_stats(64), std::out_of_range);
}

BOOST_AUTO_TEST_CASE(table_ids_distinct_and_keys_spread) {
  cache c(0);
  const auto a = c.new_table_id();
  const auto b = c.new_table_id();
  BOOST_TEST(a >= 1u);
  BOOST_TEST(b != a);

  // Realistic keys: a few tables, blocks 4 KiB apart. No two offsets of one
  // table may collide (the hash is a bijection per table), and the shards
  // should be filled evenly.
  std::vector<int> per_shard(c.shard_count());
  for (std::uint64_t t = 1; t <= 8; ++t) {
    std::set<std::uint64_t> hashes;
    for (std::uint64_t i = 0; i < 1024; ++i) {
      const key k{t, i * 4096};
      hashes.insert(k.hash());
      ++per_shard[c.shard_of(k)];
    }
    BOOST_TEST(hashes.size() == 1024u);
  }
  const int mean = 8 * 1024 / static_cast<int>(c.shard_count());
  for (int n : per_shard) {
    BOOST_TEST(n > mean * 3 / 4);
    BOOST_TEST(n < mean * 5 / 4);
  }
  BOOST_TEST(std::hash<key>{}(key{3, 4096}) == static_cast<std::size_t>(key{3, 4096}.hash()));
}

BOOST_AUTO_TEST_CASE(clock_victim_and_exact_counters) {
  // Which slot the hand reaches first depends on the keys' hashes, so the
  // test relies only on what CLOCK decides whatever the layout. Looking an
  // entry up marks it, so each step probes only what it must.
  constexpr std::size_t block = 100;
  cache c(3 * charge_of(block), 1);
  const key a{1, 0}, b{1, 4096}, d{1, 8192}, e{1, 12288}, f{1, 16384}, g{1, 20480}, absent{2, 0};
  for (const key& k : {a, b, d}) BOOST_TEST(*c.insert(k, std::string(block, 'a')) == std::string(block, 'a'));
  BOOST_TEST(same_stats(c.get_stats(), {0, 0, 3, 0, 3, 3 * charge_of(block)}), show(c.get_stats()));

  // a, b, d are marked (inserted): the hand clears every mark in one turn,
  // then evicts one of them on the next. Never e, the block being inserted.
  c.insert(e, std::string(block, 'e'));
  BOOST_TEST(same_stats(c.get_stats(), {0, 0, 4, 1, 3, 3 * charge_of(block)}), show(c.get_stats()));
  BOOST_TEST(c.lookup(absent) == nullptr);
  std::vector<key> survivors;  // looking them up marks them
  for (const key& k : {a, b, d}) {
    if (c.lookup(k) != nullptr) survivors.push_back(k);
  }
  BOOST_TEST_REQUIRE(survivors.size() == 2u);
  BOOST_TEST(same_stats(c.get_stats(), {2, 2, 4, 1, 3, 3 * charge_of(block)}), show(c.get_stats()));

  // All three entries are marked again; inserting f clears them all and
  // evicts one, leaving the other two unmarked. Mark one of those two (m);
  // the other (u) is then the only unmarked entry, so the next insert must
  // evict exactly u, whichever slot the hand starts from.
  c.insert(f, std::string(block, 'f'));
  const std::vector<key> three{survivors[0], survivors[1], e};
  key m = three[0];
  if (c.lookup(m) == nullptr) {  // three[0] was f's victim: the other two are left
    m = three[1];
    BOOST_TEST_REQUIRE(c.lookup(m) != nullptr);
  }
  // The two others: f's victim and u, not told apart (a lookup would mark u).
  std::vector<key> candidates;
  for (const key& k : three) {
    if (!(k == m)) candidates.push_back(k);
  }
  c.insert(g, std::string(block, 'g'));
  // g's insert evicted u; the other candidate was already gone.
  BOOST_TEST(c.lookup(candidates[0]) == nullptr);
  BOOST_TEST(c.lookup(candidates[1]) == nullptr);
  BOOST_TEST(c.lookup(m) != nullptr);
  BOOST_TEST(c.lookup(f) != nullptr);
  BOOST_TEST(c.lookup(g) != nullptr);
  const auto s = c.get_stats();
  BOOST_TEST(s.inserts == 6u);
  BOOST_TEST(s.evictions == 3u);  // 6 inserted, 3 fit
  BOOST_TEST(s.entries == 3u);
  BOOST_TEST(s.bytes == 3 * charge_of(block));
}

BOOST_AUTO_TEST_CASE(hot_blocks_survive_a_stream_of_cold_ones) {
  // Half the cache is a hot set, read after every insert of a block that is
  // never read again (a scan through a cache serving point reads). CLOCK
  // keeps the hot set: a hot block goes only if the hand finds every cold
  // block marked too. A policy blind to use (FIFO, random) loses a hot block
  // about every other insert here.
  constexpr std::size_t block = 64;
  cache c(8 * charge_of(block), 1);
  std::vector<key> hot;
  for (std::uint64_t i = 0; i < 4; ++i) hot.push_back({1, i * 4096});
  for (const key& k : hot) c.insert(k, std::string(block, 'h'));
  std::uint64_t hot_lookups = 0, hot_hits = 0;
  for (std::uint64_t i = 0; i < 2000; ++i) {
    c.insert(key{2, i * 4096}, std::string(block, 'c'));
    for (const key& k : hot) {
      const bool hit = c.lookup(k) != nullptr;
      if (!hit) c.insert(k, std::string(block, 'h'));  // as a reader would after a miss
      if (i >= 16) {                                   // after the first turns of the hand
        ++hot_lookups;
        hot_hits += hit;
      }
    }
  }
  BOOST_TEST(hot_hits * 100 >= hot_lookups * 95, hot_hits << " of " << hot_lookups << " hot lookups hit");
}

BOOST_AUTO_TEST_CASE(matches_reference_model_without_pressure) {
  // Random operations on one shard with room for everything but oversize
  // blocks, compared step by step with a map: hit or miss of every lookup,
  // the block's contents, and every counter after every operation.
  std::mt19937_64 rng(20240601);
  const std::size_t capacity = 64 * charge_of(450);
  cache c(capacity, 1);
  unbounded_model model(capacity);
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> salts;
  for (int op = 0; op < 20000; ++op) {
    const key k{rng() % 3, (rng() % 16) * 4096};
    const auto r = rng() % 10;
    if (r < 5) {
      const bool model_hit = model.lookup(k);
      const block_ptr b = c.lookup(k);
      BOOST_REQUIRE_EQUAL(b != nullptr, model_hit);
      if (b) {
        BOOST_REQUIRE(block_is_for(*b, k));
        const std::uint64_t latest = salts[std::pair(k.table_id, k.block_offset)];
        BOOST_REQUIRE_EQUAL(salt_of(*b), latest);  // the latest insert's
      }
    } else if (r < 9) {
      const std::size_t filler = rng() % 100 == 0 ? capacity : rng() % 400;
      const std::uint64_t salt = rng();
      model.insert(k, header_bytes + filler);
      const block_ptr b = c.insert(k, make_block(k, salt, filler));
      salts[{k.table_id, k.block_offset}] = salt;
      BOOST_REQUIRE(b != nullptr);
      BOOST_REQUIRE(block_is_for(*b, k));
    } else {
      model.erase(k);
      c.erase(k);
    }
    BOOST_REQUIRE_MESSAGE(same_stats(c.get_stats(), model.stats()),
                          "op " << op << ": " << show(c.get_stats()) << " vs model " << show(model.stats()));
  }
}

void under_pressure_returns_only_the_latest_blocks_with(cache::memory where) {
  // Random operations on one shard with room for about 10 blocks. Evictions
  // are CLOCK's to choose, so the check is what may be returned: a hit is
  // always the block of the latest insert of its key, never an erased one;
  // and the counters add up: hits + misses = lookups, inserts exact, bytes
  // within capacity, and at the end the entries found by lookups are
  // exactly entries / bytes.
  std::mt19937_64 rng(99);
  const std::size_t capacity = 10 * charge_of(150);
  cache c(capacity, 1, where);
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::pair<std::uint64_t, std::size_t>> live;  // salt, size
  std::uint64_t lookups = 0, inserts = 0, hits = 0;
  for (int op = 0; op < 20000; ++op) {
    const key k{rng() % 3, (rng() % 16) * 4096};
    const auto id = std::pair(k.table_id, k.block_offset);
    const auto r = rng() % 10;
    if (r < 5) {
      ++lookups;
      const block_ptr b = c.lookup(k);
      if (b) {
        ++hits;
        BOOST_REQUIRE(live.contains(id));
        BOOST_REQUIRE(block_is_for(*b, k));
        BOOST_REQUIRE_EQUAL(salt_of(*b), live[id].first);
      }
    } else if (r < 9) {
      const auto kind = rng() % 50;
      const std::size_t filler = kind == 0 ? capacity : kind < 5 ? capacity / 2 : rng() % 300;
      const std::uint64_t salt = rng();
      ++inserts;
      const block_ptr b = c.insert(k, make_block(k, salt, filler));
      BOOST_REQUIRE(block_is_for(*b, k));
      live[id] = {salt, header_bytes + filler};
    } else {
      c.erase(k);
      live.erase(id);
    }
    const auto s = c.get_stats();
    BOOST_REQUIRE(s.bytes <= capacity);
    BOOST_REQUIRE_EQUAL(s.hits + s.misses, lookups);
    BOOST_REQUIRE_EQUAL(s.hits, hits);
    BOOST_REQUIRE_EQUAL(s.inserts, inserts);
    BOOST_REQUIRE(s.entries <= live.size());
    BOOST_REQUIRE(s.inserts - s.evictions >= s.entries);
  }
  const auto before = c.get_stats();
  BOOST_TEST(before.evictions > 1000u);  // the run did put the cache under pressure
  std::uint64_t found = 0, bytes = 0;
  for (const auto& [id, v] : live) {
    if (c.lookup(key{id.first, id.second}) != nullptr) {
      ++found;
      bytes += charge_of(v.second);
    }
  }
  BOOST_TEST(found == before.entries);
  BOOST_TEST(bytes == before.bytes);
}

BOOST_AUTO_TEST_CASE(under_pressure_returns_only_the_latest_blocks) {
  for (const auto where : {cache::memory::heap, cache::memory::huge_pages}) {
    BOOST_TEST_CONTEXT("blocks " << (where == cache::memory::heap ? "on the heap" : "on huge pages")) {
      under_pressure_returns_only_the_latest_blocks_with(where);
    }
  }
}

void capacity_respected_per_shard_with(cache::memory where) {
  std::mt19937_64 rng(7);
  const std::size_t capacity = 64 * 1024;
  cache c(capacity, cache::default_shards, where);  // 16 shards of 4 KiB
  std::uint64_t inserted = 0;
  for (int i = 0; i < 20000; ++i) {
    const key k{1 + rng() % 4, (rng() % 2000) * 4096};
    // Up to 3 KiB, and now and then larger than a shard's share.
    const std::size_t filler = rng() % 20 == 0 ? 4096 : rng() % 3072;
    c.insert(k, make_block(k, rng(), filler));
    ++inserted;
    const auto s = c.get_stats();
    BOOST_REQUIRE(s.bytes <= capacity);
    if (i % 500 == 0) check_shards(c);
  }
  check_shards(c);
  const auto s = c.get_stats();
  BOOST_TEST(s.inserts == inserted);
  // The cache is full: each shard has less free room than one more block.
  BOOST_TEST(s.bytes > capacity / 2);
  BOOST_TEST(s.entries > 16u);
  BOOST_TEST(s.inserts - s.evictions >= s.entries);  // the rest were replaced
}

BOOST_AUTO_TEST_CASE(capacity_respected_per_shard) {
  for (const auto where : {cache::memory::heap, cache::memory::huge_pages}) {
    BOOST_TEST_CONTEXT("blocks " << (where == cache::memory::heap ? "on the heap" : "on huge pages")) {
      capacity_respected_per_shard_with(where);
    }
  }
}

BOOST_AUTO_TEST_CASE(replace_erase_clear) {
  cache c(4 * charge_of(1000), 1);
  const key a{1, 0}, b{1, 4096}, d{1, 8192};
  const block_ptr first = c.insert(a, std::string(100, 'x'));
  BOOST_TEST(c.get_stats().bytes == charge_of(100));

  // Replacement: bytes follow the new size, the entry count does not change,
  // lookups see the new block, and a reader of the old one keeps it.
  c.insert(a, std::string(300, 'y'));
  BOOST_TEST(same_stats(c.get_stats(), {0, 0, 2, 0, 1, charge_of(300)}), show(c.get_stats()));
  BOOST_TEST(*c.lookup(a) == std::string(300, 'y'));
  BOOST_TEST(*first == std::string(100, 'x'));
  c.insert(a, std::string(50, 'z'));
  BOOST_TEST(c.get_stats().bytes == charge_of(50));

  // A larger replacement evicts others to make room, never itself.
  cache small(3 * charge_of(10), 1);
  for (const key& k : {a, b, d}) small.insert(k, std::string(10, 'o'));
  small.insert(a, std::string(charge_of(10) * 2, 'L'));
  BOOST_TEST(*small.lookup(a) == std::string(charge_of(10) * 2, 'L'));
  BOOST_TEST(small.get_stats().entries == 1u);
  BOOST_TEST(small.get_stats().bytes == charge_of(charge_of(10) * 2));
  BOOST_TEST(small.get_stats().evictions == 2u);

  // Erase.
  c.insert(b, std::string(200, 'b'));
  c.insert(d, std::string(400, 'd'));
  BOOST_TEST(c.get_stats().bytes == charge_of(50) + charge_of(200) + charge_of(400));
  c.erase(b);
  BOOST_TEST(c.lookup(b) == nullptr);
  BOOST_TEST(c.get_stats().bytes == charge_of(50) + charge_of(400));
  BOOST_TEST(c.get_stats().entries == 2u);
  c.erase(b);  // absent: nothing happens
  c.erase(key{99, 99});
  BOOST_TEST(c.get_stats().entries == 2u);
  BOOST_TEST(c.get_stats().evictions == 0u);  // erase is not an eviction

  // Clear keeps the cumulative counters, drops entries and bytes.
  const block_ptr held = c.lookup(d);
  const auto before = c.get_stats();
  c.clear();
  const auto after = c.get_stats();
  BOOST_TEST(same_stats(after, {before.hits, before.misses, before.inserts, before.evictions, 0, 0}), show(after));
  BOOST_TEST(c.lookup(a) == nullptr);
  BOOST_TEST(c.lookup(d) == nullptr);
  BOOST_TEST(*held == std::string(400, 'd'));
  // Usable after clear, eviction included.
  for (int i = 0; i < 10; ++i) c.insert(key{3, std::uint64_t(i)}, std::string(1000, 'r'));
  BOOST_TEST(c.get_stats().entries == 4u);
  BOOST_TEST(c.get_stats().evictions == 6u);
  BOOST_TEST(c.lookup(key{3, 9}) != nullptr);  // the last insert is never its own victim
  check_shards(c);
}

void block_outlives_eviction_with(cache::memory where) {
  auto c = std::make_unique<cache>(2 * charge_of(64), 1, where);
  const key k{1, 0};
  const block_ptr from_insert = c->insert(k, make_block(k, 42, 32));
  const block_ptr from_lookup = c->lookup(k);
  BOOST_TEST(from_insert == from_lookup);  // one shared block, no copy
  const std::string expected(from_insert->view());
  const char* data = from_insert->data();

  for (std::uint64_t i = 1; i <= 4; ++i) c->insert(key{1, i * 4096}, make_block(key{1, i * 4096}, i, 32));
  BOOST_TEST(c->lookup(k) == nullptr);
  BOOST_TEST(c->get_stats().evictions >= 1u);
  BOOST_TEST(*from_lookup == expected);
  BOOST_TEST(from_lookup->data() == data);   // the same bytes, not moved
  BOOST_TEST(from_insert.use_count() == 2);  // only the two readers hold it now

  c.reset();  // and even the cache itself may go
  BOOST_TEST(block_is_for(*from_insert, k));
}

BOOST_AUTO_TEST_CASE(block_outlives_eviction) {
  for (const auto where : {cache::memory::heap, cache::memory::huge_pages}) {
    BOOST_TEST_CONTEXT("blocks " << (where == cache::memory::heap ? "on the heap" : "on huge pages")) {
      block_outlives_eviction_with(where);
    }
  }
}

BOOST_AUTO_TEST_CASE(oversize_blocks) {
  const std::size_t share = 1000;
  cache c(share, 1);
  const key small{1, 0}, big{1, 4096};
  c.insert(small, std::string(100, 's'));

  // One byte over the share: returned, not retained, the others untouched.
  const std::string contents(share - cache::entry_overhead + 1, 'B');
  const block_ptr b = c.insert(big, contents);
  BOOST_TEST(*b == contents);
  BOOST_TEST(c.lookup(big) == nullptr);
  BOOST_TEST(c.lookup(small) != nullptr);
  BOOST_TEST(same_stats(c.get_stats(), {1, 1, 2, 1, 1, charge_of(100)}), show(c.get_stats()));

  // An oversize replacement removes the stale block: a lookup must not
  // return what the caller has just replaced.
  c.insert(small, std::string(5000, 'S'));
  BOOST_TEST(c.lookup(small) == nullptr);
  BOOST_TEST(same_stats(c.get_stats(), {1, 2, 3, 2, 0, 0}), show(c.get_stats()));

  // Exactly the share fits, and evicts everything else.
  c.insert(small, std::string(10, 's'));
  const block_ptr exact = c.insert(big, std::string(share - cache::entry_overhead, 'E'));
  BOOST_TEST(c.lookup(big) == exact);
  BOOST_TEST(c.lookup(small) == nullptr);
  BOOST_TEST(c.get_stats().bytes == share);

  // With shards, the limit is the shard's share, not the whole capacity.
  cache sharded(16 * share, 16);
  const block_ptr p = sharded.insert(big, std::string(2 * share, 'x'));
  BOOST_TEST(p->size() == 2 * share);
  BOOST_TEST(sharded.lookup(big) == nullptr);
  BOOST_TEST(sharded.get_stats().entries == 0u);

  // A zero-capacity cache retains nothing and still hands blocks back.
  cache none(0);
  BOOST_TEST(*none.insert(small, "abc") == "abc");
  BOOST_TEST(none.lookup(small) == nullptr);
  BOOST_TEST(same_stats(none.get_stats(), {0, 1, 1, 1, 0, 0}), show(none.get_stats()));
  // The empty block still costs its overhead.
  cache tiny(cache::entry_overhead - 1, 1);
  tiny.insert(small, "");
  BOOST_TEST(tiny.get_stats().entries == 0u);
}

void concurrent_lookup_insert_erase_with(cache::memory where) {
#ifdef BLOCK_CACHE_TEST_TSAN
  constexpr int ops_per_thread = 30000;
#else
  constexpr int ops_per_thread = 100000;
#endif
  constexpr int threads = 4;
  constexpr std::size_t capacity = 256 * 1024;  // ~450 blocks of ~550 bytes of charge
  cache c(capacity, cache::default_shards, where);
  std::vector<std::uint64_t> tables;
  for (int i = 0; i < 8; ++i) tables.push_back(c.new_table_id());
  constexpr std::uint64_t offsets_per_table = 256;  // 2048 keys: ~4x what fits

  thread_checks checks;
  std::vector<std::uint64_t> lookups(threads), inserts(threads);
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 rng(1000 + t);
      // Blocks from hits, re-verified at the end: they must survive the
      // evictions, replacements and clears the other threads cause meanwhile.
      std::vector<std::pair<key, block_ptr>> held;
      start.arrive_and_wait();
      for (int op = 0; op < ops_per_thread; ++op) {
        const key k{tables[rng() % tables.size()], (rng() % offsets_per_table) * 4096};
        const auto r = rng() % 100;
        if (r < 50) {
          ++lookups[t];
          if (block_ptr b = c.lookup(k)) {
            if (!THREAD_CHECK(checks, block_is_for(*b, k))) break;
            if (held.size() < 16) {
              held.emplace_back(k, std::move(b));
            } else if (rng() % 64 == 0) {
              held[rng() % held.size()] = {k, std::move(b)};
            }
          }
        } else if (r < 90) {
          ++inserts[t];
          const block_ptr b = c.insert(k, make_block(k, rng(), 32 + rng() % 768));
          if (!THREAD_CHECK(checks, b != nullptr && block_is_for(*b, k))) break;
        } else {
          c.erase(k);
        }
        // Two clears mid-run, none at the end: the final checks want a full cache.
        if (t == 0 && (op == ops_per_thread / 3 || op == 2 * ops_per_thread / 3)) c.clear();
        if (op % 64 == 0) {
          const auto s = c.get_stats();
          if (!THREAD_CHECK(checks, s.bytes <= capacity)) break;
          if (!THREAD_CHECK(checks, s.bytes >= s.entries * cache::entry_overhead)) break;
          if (!THREAD_CHECK(checks, s.hits + s.misses <= std::uint64_t{threads} * ops_per_thread)) break;
        }
      }
      for (const auto& [k, b] : held) THREAD_CHECK(checks, block_is_for(*b, k));
    });
  }
  for (auto& w : workers) w.join();
  BOOST_TEST(checks.ok(), checks.report());

  std::uint64_t total_lookups = 0, total_inserts = 0;
  for (int t = 0; t < threads; ++t) {
    total_lookups += lookups[t];
    total_inserts += inserts[t];
  }
  const auto s = c.get_stats();
  BOOST_TEST(s.hits + s.misses == total_lookups);
  BOOST_TEST(s.inserts == total_inserts);
  BOOST_TEST(s.hits > 0u);
  BOOST_TEST(s.evictions > 0u);
  BOOST_TEST(s.entries > 0u);
  check_shards(c);
  BOOST_TEST_MESSAGE("block_cache stress: " << show(s));
}

BOOST_AUTO_TEST_CASE(concurrent_lookup_insert_erase) {
  for (const auto where : {cache::memory::heap, cache::memory::huge_pages}) {
    BOOST_TEST_CONTEXT("blocks " << (where == cache::memory::heap ? "on the heap" : "on huge pages")) {
      concurrent_lookup_insert_erase_with(where);
    }
  }
}

BOOST_AUTO_TEST_CASE(concurrent_table_ids_distinct) {
  constexpr int threads = 4, per_thread = 10000;
  cache c(0);
  std::vector<std::vector<std::uint64_t>> ids(threads);
  std::latch start(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < per_thread; ++i) ids[t].push_back(c.new_table_id());
    });
  }
  for (auto& w : workers) w.join();
  std::set<std::uint64_t> all;
  for (const auto& v : ids) all.insert(v.begin(), v.end());
  BOOST_TEST(all.size() == std::size_t{threads} * per_thread);
  BOOST_TEST(*all.begin() >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
