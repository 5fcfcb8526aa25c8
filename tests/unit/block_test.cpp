// Data/index block format: build from sorted internal keys, read back with
// every iterator move, against a std::map model; damaged bytes never crash.
#include <boost/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "sst/block_builder.hpp"
#include "sst/block_reader.hpp"
#include "sst/internal_key.hpp"
#include "sst/table_index.hpp"
#include "sst_model.hpp"

using namespace strata;
using namespace strata::sst;

namespace {

using model = strata::testing::sst_model;

model random_entries(std::mt19937_64& rng, std::size_t n) {
  model m;
  const std::vector<std::string> users = {"", std::string("\0", 1), "a", "ab", "abc", "b", "user:0001", "\xff\xfe"};
  while (m.size() < n) {
    std::string user;
    if (rng() % 3 == 0) {
      user = users[rng() % users.size()];  // many versions of a few keys
    } else {
      user = "k" + std::to_string(rng() % 100000);
      if (rng() % 4 == 0) user.push_back(static_cast<char>(rng() % 3));
    }
    const auto type = rng() % 5 == 0 ? value_type::deletion : value_type::value;
    std::string value(rng() % 10 == 0 ? rng() % 5000 : rng() % 40, '\0');
    for (auto& c : value) c = static_cast<char>(rng());
    m[make_internal_key(user, 1 + rng() % 1000000, type)] = type == value_type::value ? value : "";
  }
  return m;
}

std::string build(const model& m, int restart_interval) {
  block_builder b(restart_interval);
  for (const auto& [k, v] : m) b.add(k, v);
  BOOST_REQUIRE_EQUAL(b.entries(), m.size());
  const std::size_t estimate = b.size_estimate();
  const std::string out(b.finish());
  BOOST_REQUIRE_EQUAL(out.size(), estimate);
  return out;
}

void check_against_model(const std::string& bytes, const model& m, std::mt19937_64& rng) {
  const block_reader reader(bytes);
  BOOST_REQUIRE(reader.valid());
  std::vector<std::pair<std::string, std::string>> want(m.begin(), m.end());
  auto it = reader.new_iterator();
  BOOST_REQUIRE(!it.valid());
  it.seek_to_first();
  for (const auto& [k, v] : want) {
    BOOST_REQUIRE(it.valid());
    BOOST_REQUIRE(it.key() == k);
    BOOST_REQUIRE(it.value() == v);
    it.next();
  }
  BOOST_REQUIRE(!it.valid());
  BOOST_REQUIRE(!it.corrupted());
  it.seek_to_last();
  for (auto w = want.rbegin(); w != want.rend(); ++w) {
    BOOST_REQUIRE(it.valid());
    BOOST_REQUIRE(it.key() == w->first);
    it.prev();
  }
  BOOST_REQUIRE(!it.valid());
  for (int i = 0; i < 300; ++i) {
    // Targets: existing keys, and user keys at random snapshots between them.
    std::string target = rng() % 2 && !want.empty() ? want[rng() % want.size()].first
                                                    : make_internal_key("k" + std::to_string(rng() % 100000),
                                                                        rng() % 1000000, value_type::value);
    it.seek(target);
    auto pos = m.lower_bound(target);
    if (pos == m.end()) {
      BOOST_REQUIRE(!it.valid());
      continue;
    }
    BOOST_REQUIRE(it.valid());
    BOOST_REQUIRE(it.key() == pos->first);
    // A few steps either way from there.
    for (int s = 0; s < 3 && it.valid(); ++s) {
      if (rng() % 2) {
        it.next();
        ++pos;
        if (pos == m.end()) {
          BOOST_REQUIRE(!it.valid());
          break;
        }
      } else {
        it.prev();
        if (pos == m.begin()) {
          BOOST_REQUIRE(!it.valid());
          break;
        }
        --pos;
      }
      BOOST_REQUIRE(it.key() == pos->first);
      BOOST_REQUIRE(it.value() == pos->second);
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(block)

BOOST_AUTO_TEST_CASE(internal_keys_order_newest_version_first) {
  const auto a5 = make_internal_key("a", 5, value_type::value);
  const auto a9 = make_internal_key("a", 9, value_type::deletion);
  const auto b1 = make_internal_key("b", 1, value_type::value);
  BOOST_TEST(compare_internal_keys(a9, a5) < 0);
  BOOST_TEST(compare_internal_keys(a5, b1) < 0);
  BOOST_TEST(compare_internal_keys(a5, a5) == 0);
  parsed_internal_key p;
  BOOST_REQUIRE(parse_internal_key(a9, p));
  BOOST_TEST(p.user_key == "a");
  BOOST_TEST(p.sequence == 9u);
  BOOST_TEST((p.type == value_type::deletion));
  BOOST_TEST(!parse_internal_key("short", p));
  BOOST_TEST(!parse_internal_key(std::string(7, 'x') + std::string("\x07\0\0\0\0\0\0\0", 8), p));  // type 7
}

BOOST_AUTO_TEST_CASE(round_trip_against_a_model) {
  for (int restart : {1, 2, 16, 1000}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      BOOST_TEST_CONTEXT("restart interval " << restart << " seed " << seed) {
        std::mt19937_64 rng(seed);
        const auto m = random_entries(rng, 1 + rng() % 2000);
        check_against_model(build(m, restart), m, rng);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(key_deltas_of_every_length_round_trip) {
  // A step copies the unshared bytes of a key in pieces chosen by their
  // count (0, 1-3, 4-7, 8-15, 16-32, longer), into the iterator's inline
  // buffer or, past 48 bytes, its heap buffer: cover every piece size in
  // both, and check that each was drawn.
  for (int restart : {2, 16}) {
    std::mt19937_64 rng(77 + restart);
    const std::string stem = [&] {
      std::string s(120, '\0');
      for (auto& c : s) c = static_cast<char>('a' + rng() % 26);
      return s;
    }();
    model m;
    while (m.size() < 3000) {
      // A shared head of random length, then a random tail of random length.
      std::string user = stem.substr(0, rng() % 70);
      const std::size_t tail = rng() % 60;
      for (std::size_t i = 0; i < tail; ++i) user.push_back(static_cast<char>('a' + rng() % 26));
      m[make_internal_key(user, 1 + rng() % 1000, value_type::value)] = std::to_string(rng() % 1000);
      // Versions of one user key whose sequences differ only in high bytes
      // share all but the last 1-5 bytes of their tags: the short deltas.
      if (rng() % 4 == 0) {
        for (int v = 0; v < 3; ++v) {
          const std::uint64_t sequence = 5 + ((1 + rng() % 200) << (8 * (2 + rng() % 5)));
          m[make_internal_key(user, sequence, value_type::value)] = "v";
        }
      }
    }
    std::vector<int> drawn(6, 0);  // unshared byte counts: 0, 1-3, 4-7, 8-15, 16-32, 33+
    std::string previous;
    std::size_t index = 0;
    for (const auto& [k, v] : m) {
      // Entry i is a restart point when i % restart == 0: it shares nothing.
      std::size_t shared = 0;
      if (index++ % static_cast<std::size_t>(restart) != 0) {
        while (shared < k.size() && shared < previous.size() && k[shared] == previous[shared]) ++shared;
      }
      const std::size_t n = k.size() - shared;
      ++drawn[n == 0 ? 0 : n < 4 ? 1 : n < 8 ? 2 : n < 16 ? 3 : n <= 32 ? 4 : 5];
      previous = k;
    }
    for (std::size_t range = 1; range < drawn.size(); ++range) BOOST_TEST_REQUIRE(drawn[range] > 0, "range " << range);
    BOOST_TEST_CONTEXT("restart interval " << restart) { check_against_model(build(m, restart), m, rng); }
  }
}

BOOST_AUTO_TEST_CASE(empty_and_single_entry_blocks) {
  std::mt19937_64 rng(1);
  const model empty;
  const auto bytes = build(empty, 16);
  BOOST_TEST(bytes.size() == 8u);  // one restart offset and the count
  check_against_model(bytes, empty, rng);
  const model one{{make_internal_key("only", 1, value_type::value), "v"}};
  check_against_model(build(one, 16), one, rng);
}

BOOST_AUTO_TEST_CASE(prefix_compression_shrinks_shared_prefixes) {
  model m;
  for (int i = 0; i < 1000; ++i) {
    m[make_internal_key("a-long-common-prefix-" + std::to_string(100000 + i), 1, value_type::value)] = "v";
  }
  std::size_t raw = 0;
  for (const auto& [k, v] : m) raw += k.size() + v.size();
  const auto bytes = build(m, 16);
  BOOST_TEST(bytes.size() < raw / 2, bytes.size() << " bytes for " << raw << " raw");
}

BOOST_AUTO_TEST_CASE(damaged_blocks_never_crash_or_read_outside) {
  std::mt19937_64 rng(9);
  const auto m = random_entries(rng, 300);
  const auto good = build(m, 16);
  auto exercise = [&](const std::string& bytes) {
    const block_reader reader(bytes);
    auto it = reader.new_iterator();
    int steps = 0;
    for (it.seek_to_first(); it.valid() && steps < 10000; it.next()) ++steps;
    for (it.seek_to_last(); it.valid() && steps < 20000; it.prev()) ++steps;
    it.seek(make_internal_key("k5", 77, value_type::value));
    if (it.valid()) it.prev();
  };
  for (std::size_t len = 0; len < good.size(); len += 1 + len / 50) exercise(good.substr(0, len));
  for (int i = 0; i < 3000; ++i) {
    std::string bad = good;
    for (int flips = 0; flips < 1 + static_cast<int>(rng() % 4); ++flips) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    exercise(bad);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 200, '\0');
    for (auto& c : junk) c = static_cast<char>(rng() % 3 ? rng() % 8 : rng());
    exercise(junk);
  }
  const block_reader truncated(good.substr(0, 3));
  BOOST_TEST(!truncated.valid());
  BOOST_TEST(truncated.new_iterator().corrupted());
}

namespace {

// Every version (sequences 900, 5, 1) of each of `users`.
model every_version(const std::vector<std::string>& users) {
  model m;
  for (const auto& u : users) {
    for (sequence_number s : {900, 5, 1}) m[make_internal_key(u, s, value_type::value)] = "";
  }
  return m;
}

// An index block with `m`'s keys as separators, decoded and checked against
// std::lower_bound for targets at each of its user keys and at `probes`,
// at snapshots around the sequences used.
void check_index_seeks(const model& m, std::vector<std::string> probes) {
  block_builder b(1);
  std::uint64_t offset = 0;
  for (const auto& [k, v] : m) {
    std::string h;
    encode_handle({offset, 10}, h);
    offset += 14;
    b.add(k, h);
  }
  const std::string bytes(b.finish());
  table_index index;
  std::string why;
  BOOST_REQUIRE_MESSAGE(table_index::decode(bytes, index, why), why);
  BOOST_REQUIRE_EQUAL(index.size(), m.size());
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) {
    keys.push_back(k);
    probes.emplace_back(user_key_of(k));
  }
  for (const auto& u : probes) {
    for (sequence_number s : {max_sequence_number, sequence_number{901}, sequence_number{900}, sequence_number{7},
                              sequence_number{3}, sequence_number{0}}) {
      const lookup_key target(u, s);
      const auto want =
          std::lower_bound(keys.begin(), keys.end(), std::string(target.internal_key()),
                           [](const std::string& a, const std::string& t) { return compare_internal_keys(a, t) < 0; }) -
          keys.begin();
      BOOST_TEST_CONTEXT("user key '" << u << "' snapshot " << s) {
        const std::size_t got = index.seek(target.internal_key());
        BOOST_TEST(got == static_cast<std::size_t>(want));
        if (got < index.size()) BOOST_TEST(index.handle(got).offset == 14 * got);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(decoded_index_seeks_like_a_lower_bound) {
  // Separators whose 8-byte prefixes tie (short keys, zero bytes, shared
  // 8-byte heads) force the full comparison; targets around each of them.
  check_index_seeks(every_version({"", std::string("\0", 1), "a", std::string("a\0", 2), "ab", "abcdefgh", "abcdefgh\0",
                                   "abcdefgh1", "abcdefgi", "b", "\xff\xff"}),
                    {"c", "abcdefgh0", std::string("a\0\0", 3), "\xff\xff\xff"});
}

BOOST_AUTO_TEST_CASE(an_index_whose_separators_share_a_head_seeks_past_it) {
  // Every separator starts "user:00000" (zero-padded ids, as fill_bench and
  // many schemas write): the prefixes are taken after that head. Targets
  // below it (shorter, a proper prefix of it, smaller bytes), equal to it,
  // above it, and inside the range, where the suffixes' 8-byte prefixes
  // tie ("user:000001234567" and "...8") or not.
  check_index_seeks(
      every_version({"user:000001", "user:0000012", "user:000001234567", "user:0000012345678", "user:0000012345679",
                     "user:00000124", "user:00000199", std::string("user:00000199\0", 14), "user:000002"}),
      {"", "u", "user:", "user:0000", "user:00000", "user:000000", "user:000000\xff", "user:0000011", "user:00000123",
       "user:0000012345", std::string("user:000001234567\0", 18), "user:00000125", "user:0000019", "user:000001999",
       "user:0000020", "user:000003", "user:1", "usf", "\xff"});
}

BOOST_AUTO_TEST_CASE(an_index_ending_in_a_short_successor_seeks_past_the_head) {
  // A table's last separator is usually the short successor of its last
  // key ("usf" after "user:..."; "1" after "0000...9"), which shares no
  // head with the rest: one version of it, so the head comes from the
  // others.
  model m;
  for (const std::string u : {"user:000001", "user:0000012", "user:000001234567", "user:00000199", "user:000002"}) {
    m[make_internal_key(u, 5, value_type::value)] = "";
  }
  m[make_internal_key("usf", max_sequence_number, value_type::value)] = "";
  check_index_seeks(m, {"", "user:", "user:0000", "user:0000015", "user:0000021", "user:1", "use", "usez",
                        std::string("usf\0", 4), "usg", "\xff"});
}

BOOST_AUTO_TEST_CASE(a_damaged_index_is_refused_at_decode) {
  table_index index;
  std::string why;
  // Separators out of order.
  block_builder b(1);
  std::string h;
  encode_handle({0, 10}, h);
  b.add(make_internal_key("b", 1, value_type::value), h);
  const std::string first(b.finish());
  BOOST_TEST(table_index::decode(first, index, why));
  block_builder bad(1);
  bad.add(make_internal_key("b", 1, value_type::value), h);
  bad.add(make_internal_key("c", 1, value_type::value), "\xff");  // a handle cut short
  BOOST_TEST(!table_index::decode(bad.finish(), index, why));
  BOOST_TEST(why.find("handle") != std::string::npos);
  block_builder shortkey(1);
  shortkey.add("abc", h);  // no room for a tag
  BOOST_TEST(!table_index::decode(shortkey.finish(), index, why));
  BOOST_TEST(!table_index::decode("garbage", index, why));
}

BOOST_AUTO_TEST_SUITE_END()
