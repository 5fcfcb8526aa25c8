// tests/unit/bench_flags_test.cpp — strata_bench reads db_bench's flags,
// refuses what it does not know, and derives its counts as documented.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "bench/flags.hpp"

namespace bench = strata::bench;

namespace {

std::optional<std::string> parse(std::vector<const char*> args, bench::bench_flags& out) {
  args.insert(args.begin(), "strata_bench");
  return bench::parse_flags(static_cast<int>(args.size()), args.data(), out);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bench_flags)

BOOST_AUTO_TEST_CASE(db_bench_flags_are_read) {
  bench::bench_flags f;
  const auto error = parse({"--benchmarks=fillseq,readrandom,ycsb_b",
                            "--num=5000",
                            "--reads=700",
                            "--writes=300",
                            "--key_size=20",
                            "--value_size=64",
                            "--threads=3",
                            "--coroutines=8",
                            "--sync",
                            "--disable_wal=1",
                            "--use_existing_db=0",
                            "--db=/tmp/x",
                            "--write_buffer_size=65536",
                            "--cache_size=1048576",
                            "--bloom_bits=0",
                            "--compression_type=lz4",
                            "--histogram",
                            "--engine=leveldb",
                            "--compare",
                            "--json=/tmp/r.json",
                            "--ycsb_records=900",
                            "--ycsb_operations=1100",
                            "--seed=9",
                            "--progress=0",
                            "--rival_threads=64"},
                           f);
  BOOST_TEST(!error.has_value());
  BOOST_TEST((f.benchmarks == std::vector<std::string>{"fillseq", "readrandom", "ycsb_b"}));
  BOOST_TEST(f.num == 5000u);
  BOOST_TEST(f.read_count() == 700u);
  BOOST_TEST(f.write_count() == 300u);
  BOOST_TEST(f.key_size == 20u);
  BOOST_TEST(f.value_size == 64u);
  BOOST_TEST(f.ycsb_value_size() == 64u);  // given: YCSB uses it too
  BOOST_TEST(f.threads == 3u);
  BOOST_TEST(f.coroutines == 8u);
  BOOST_TEST(f.rival_threads == 64u);
  BOOST_TEST(f.sync);
  BOOST_TEST(f.disable_wal);
  BOOST_TEST(!f.use_existing_db);
  BOOST_TEST(f.db == "/tmp/x");
  BOOST_TEST(f.write_buffer_size == 65536u);
  BOOST_TEST(f.cache_size == 1048576u);
  BOOST_TEST(f.bloom_bits == 0);
  BOOST_TEST(f.compression_type == "lz4");
  BOOST_TEST(f.histogram);
  BOOST_TEST(f.engine == "leveldb");
  BOOST_TEST(f.compare);
  BOOST_TEST(f.json == "/tmp/r.json");
  BOOST_TEST(f.record_count() == 900u);
  BOOST_TEST(f.operation_count() == 1100u);
  BOOST_TEST(f.seed == 9u);
  BOOST_TEST(f.progress == 0);
}

BOOST_AUTO_TEST_CASE(defaults_derive_counts_as_documented) {
  bench::bench_flags f;
  BOOST_TEST(!parse({"--num=4000"}, f).has_value());
  BOOST_TEST(f.read_count() == 4000u);
  BOOST_TEST(f.write_count() == 4000u);
  BOOST_TEST(f.record_count() == 4000u);
  BOOST_TEST(f.operation_count() == 4000u);
  BOOST_TEST(f.value_size == 100u);
  BOOST_TEST(f.ycsb_value_size() == 1000u);  // YCSB's 10 fields x 100 bytes
  BOOST_TEST(f.engine == "strata");
  BOOST_TEST(!f.compare);
  BOOST_TEST(f.progress == -1);
  BOOST_TEST(f.reads == -1);
  BOOST_TEST(!parse({"--reads=10"}, f).has_value());
  BOOST_TEST(f.operation_count() == 10u);  // YCSB operations follow --reads
}

BOOST_AUTO_TEST_CASE(bad_flags_are_refused_with_a_message) {
  const std::vector<std::vector<const char*>> bad{
      {"--nmu=5"},          {"--num=five"},    {"--num="},          {"--num=0"},         {"--threads=0"},
      {"--benchmarks=fly"}, {"--benchmarks="}, {"--sync=maybe"},    {"--engine=sqlite"}, {"--compression_type=snappy"},
      {"positional"},       {"--key_size=4"},  {"--bloom_bits=-1"}, {"--reads=-5x"},
  };
  for (const auto& args : bad) {
    bench::bench_flags f;
    const auto error = parse(args, f);
    BOOST_TEST_INFO("args: " << args.front());
    BOOST_TEST(error.has_value());
    if (error) BOOST_TEST(error->starts_with("strata_bench:"));
  }
}

BOOST_AUTO_TEST_CASE(help_returns_the_usage) {
  bench::bench_flags f;
  const auto text = parse({"--help"}, f);
  BOOST_REQUIRE(text.has_value());
  BOOST_TEST(text->starts_with("usage: strata_bench"));
  BOOST_TEST(text->find("--benchmarks") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
