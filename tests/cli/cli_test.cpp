// tests/cli/cli_test.cpp — drives the `strata` command-line tool
// (examples/strata_cli) as a user would: runs the built binary in a fresh
// temporary directory per test and checks its output and exit codes
// (0 ok, 1 runtime failure, 2 bad command line).
//
// The binary's path is the first argument that is not an option, e.g.
//   cli_test /path/to/build/examples/strata_cli/strata
//   cli_test --log_level=test_suite -- /path/to/strata
// (meson passes it: tests/cli/meson.build).
#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace fs = std::filesystem;

namespace {

std::string strata_binary() {
  const auto& suite = boost::unit_test::framework::master_test_suite();
  for (int i = 1; i < suite.argc; ++i) {
    const std::string arg = suite.argv[i];
    if (!arg.empty() && arg[0] != '-') return arg;
  }
  if (const char* env = std::getenv("STRATA_CLI")) return env;
  throw std::runtime_error("usage: cli_test [boost.test options] [--] /path/to/strata");
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct result {
  int code = -1;
  std::string out, err;
};

std::ostream& operator<<(std::ostream& os, const result& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

// A fresh directory per test (removed with its contents at the end), in
// which the tool runs; `db` is the db path the tests use inside it.
struct cli_fixture {
  fs::path root;
  std::string db;

  cli_fixture() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/strata-cli-test-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root = pattern;
    db = (root / "db").string();
  }
  ~cli_fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  cli_fixture(const cli_fixture&) = delete;
  cli_fixture& operator=(const cli_fixture&) = delete;

  // Runs `strata args...` with stdout and stderr captured in files and
  // stdin from /dev/null; waits for it.
  result run(const std::vector<std::string>& args) const {
    const std::string binary = strata_binary();
    const std::string out_path = (root / "stdout").string(), err_path = (root / "stderr").string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&actions, root.c_str());
    std::vector<std::string> argv_storage{binary};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("posix_spawn " + binary + " failed: " + std::to_string(rc));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw std::runtime_error("waitpid failed");
    }
    result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_all(out_path);
    r.err = read_all(err_path);
    return r;
  }

  // Runs and requires exit code `expected`.
  result expect(int expected, const std::vector<std::string>& args) const {
    result r = run(args);
    BOOST_TEST_INFO("strata " << join(args));
    BOOST_TEST_INFO(r);
    BOOST_TEST(r.code == expected);
    return r;
  }

  void put(const std::string& key, const std::string& value, bool create = false) const {
    std::vector<std::string> args{"put", db, key, value};
    if (create) args.emplace_back("--create");
    expect(0, args);
  }

  // The db's files with this extension (".sst", ".log"), sorted.
  std::vector<fs::path> files(const std::string& extension) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(db)) {
      if (e.path().extension() == extension) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string join(const std::vector<std::string>& args) {
    std::string s;
    for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
    return s;
  }
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The number after "name:" on the line that starts with it (dump-sst's properties).
long property(const std::string& text, const std::string& name) {
  for (const auto& line : lines(text)) {
    const auto at = line.find(name + ":");
    if (at != std::string::npos && line.find_first_not_of(' ') == at) {
      return std::stol(line.substr(at + name.size() + 1));
    }
  }
  return -1;
}

void flip_byte(const fs::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x20));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cli, cli_fixture)

BOOST_AUTO_TEST_CASE(put_then_get_round_trips) {
  put("greeting", "hello world", /*create=*/true);
  const result r = expect(0, {"get", db, "greeting"});
  BOOST_TEST(r.out == "hello world\n");
  put("greeting", "replaced", false);
  BOOST_TEST(expect(0, {"get", db, "greeting"}).out == "replaced\n");
  // Keys starting with '-' after --.
  expect(0, {"put", db, "--", "-dash", "v"});
  BOOST_TEST(expect(0, {"get", db, "--", "-dash"}).out == "v\n");
}

BOOST_AUTO_TEST_CASE(get_of_a_missing_key_exits_1) {
  put("present", "1", true);
  const result r = expect(1, {"get", db, "absent"});
  BOOST_TEST(r.out.empty());
  BOOST_TEST(contains(r.err, "(not found)"));
}

BOOST_AUTO_TEST_CASE(scan_with_a_prefix_lists_exactly_its_keys_in_order) {
  put("user:2", "grace", true);
  put("user:10", "barbara");
  put("video:1", "clip");
  put("user:1", "ada");
  put("use", "no");
  put("user;", "no");
  put("user:3", std::string("bin\x01\xff", 5));
  const result r = expect(0, {"scan", db, "--prefix", "user:"});
  const std::vector<std::string> want{"user:1 => ada", "user:10 => barbara", "user:2 => grace",
                                      "user:3 => bin\\x01\\xff"};
  BOOST_TEST(lines(r.out) == want, boost::test_tools::per_element());

  BOOST_TEST(lines(expect(0, {"scan", db, "--prefix=user:", "--limit", "2", "--keys-only"}).out) ==
                 (std::vector<std::string>{"user:1", "user:10"}),
             boost::test_tools::per_element());
  BOOST_TEST(lines(expect(0, {"scan", db}).out).size() == 7u);
  BOOST_TEST(expect(0, {"scan", db, "--prefix", "nothing"}).out.empty());
}

BOOST_AUTO_TEST_CASE(delete_removes_the_key) {
  put("a", "1", true);
  put("b", "2");
  expect(0, {"delete", db, "a", "--sync"});
  expect(1, {"get", db, "a"});
  BOOST_TEST(expect(0, {"get", db, "b"}).out == "2\n");
  BOOST_TEST(lines(expect(0, {"scan", db}).out) == (std::vector<std::string>{"b => 2"}),
             boost::test_tools::per_element());
  expect(0, {"delete", db, "never-there"});
}

BOOST_AUTO_TEST_CASE(stats_and_compact_succeed_and_compact_keeps_the_data) {
  for (int i = 0; i < 6; ++i) put("k" + std::to_string(i), "v" + std::to_string(i), i == 0);
  const result stats = expect(0, {"stats", db});
  BOOST_TEST(contains(stats.out, "table_files="));
  BOOST_TEST(contains(stats.out, "level "));
  const result compact = expect(0, {"compact", db});
  BOOST_TEST(contains(compact.out, "before:"));
  BOOST_TEST(contains(compact.out, "after:  1 table file,"));
  for (int i = 0; i < 6; ++i) {
    BOOST_TEST(expect(0, {"get", db, "k" + std::to_string(i)}).out == "v" + std::to_string(i) + "\n");
  }
  BOOST_TEST(lines(expect(0, {"scan", db}).out).size() == 6u);
}

BOOST_AUTO_TEST_CASE(dump_sst_of_a_compacted_table_shows_its_entry_count) {
  for (int i = 0; i < 8; ++i) put("key" + std::to_string(i), "value" + std::to_string(i), i == 0);
  put("key3", "overwritten");
  expect(0, {"delete", db, "key5"});
  expect(0, {"compact", db});
  const auto tables = files(".sst");
  BOOST_TEST_REQUIRE(tables.size() == 1u);
  // Compaction to the last level keeps one version per live key: 8 - 1 deleted.
  const result r = expect(0, {"dump-sst", tables[0].string()});
  BOOST_TEST(property(r.out, "entries") == 7);
  BOOST_TEST(property(r.out, "deletions") == 0);
  BOOST_TEST(contains(r.out, "smallest key:      key0"));
  BOOST_TEST(contains(r.out, "largest key:       key7"));
  const result e = expect(0, {"dump-sst", tables[0].string(), "--entries"});
  BOOST_TEST(contains(e.out, "key3 @9 put => overwritten"));
  BOOST_TEST(!contains(e.out, "key5 @"));
  BOOST_TEST(contains(e.out, "7 entries read"));
}

BOOST_AUTO_TEST_CASE(dump_wal_of_the_live_wal_shows_the_puts) {
  put("first", "1", true);
  put("second", "2");
  put("third", std::string("x\ny", 3));
  // The last put is in a live WAL (the next open would flush it); earlier
  // ones may have been flushed to tables by the opens after them.
  std::string wal_dumps;
  for (const auto& log : files(".log")) wal_dumps += expect(0, {"dump-wal", log.string()}).out;
  BOOST_TEST(contains(wal_dumps, "sequence 3, 1 op\n  put third => x\\x0ay\n"));
  std::string table_dumps;
  for (const auto& t : files(".sst")) table_dumps += expect(0, {"dump-sst", t.string(), "--entries"}).out;
  for (const std::string key : {"first => 1", "second => 2"}) {
    BOOST_TEST_INFO(key);
    BOOST_TEST((contains(wal_dumps, "put " + key) || contains(table_dumps, key.substr(0, key.find(' ')) + " @")));
  }
}

BOOST_AUTO_TEST_CASE(verify_of_a_healthy_db_exits_0) {
  for (int i = 0; i < 5; ++i) put("k" + std::to_string(i), std::string(100, 'a' + i), i == 0);
  expect(0, {"compact", db});
  put("after-compact", "in the WAL");
  const result r = expect(0, {"verify", db});
  BOOST_TEST(contains(r.out, "all OK"));
  BOOST_TEST(contains(r.out, "CURRENT: OK"));
  BOOST_TEST(contains(r.out, files(".sst").at(0).filename().string() + ": OK"));
}

BOOST_AUTO_TEST_CASE(verify_after_flipping_a_table_byte_exits_1_and_names_the_file) {
  for (int i = 0; i < 50; ++i) put("key" + std::to_string(i), std::string(40, 'a' + i % 26), i == 0);
  expect(0, {"compact", db});
  const auto tables = files(".sst");
  BOOST_TEST_REQUIRE(tables.size() == 1u);
  flip_byte(tables[0], fs::file_size(tables[0]) / 2);
  const result r = expect(1, {"verify", db});
  BOOST_TEST(contains(r.out, tables[0].filename().string() + ": DAMAGED"));
  BOOST_TEST(contains(r.out, tables[0].string()));  // the library's message, with the full path
  BOOST_TEST(contains(r.out, "1 DAMAGED"));
  BOOST_TEST(fs::file_size(tables[0]) > 0u);  // verify repaired nothing and deleted nothing
  expect(1, {"dump-sst", tables[0].string(), "--entries"});
}

BOOST_AUTO_TEST_CASE(bad_usage_exits_2) {
  put("k", "v", true);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"no-such-command"},
           {"get", db},
           {"get", db, "k", "extra"},
           {"put", db, "k"},
           {"scan", db, "--limit", "many"},
           {"scan", db, "--limit"},
           {"scan", db, "--no-such-option"},
           {"get", db, "-k"},
           {"put", db, "k", "v", "--sync=yes"},
       }) {
    const result r = expect(2, args);
    BOOST_TEST(!r.err.empty());
  }
  BOOST_TEST(contains(expect(0, {"--help"}).out, "verify"));
  BOOST_TEST(contains(expect(0, {"scan", "--help"}).out, "--prefix P"));
  BOOST_TEST(expect(0, {"get", db, "k"}).out == "v\n");  // nothing above changed the db
}

BOOST_AUTO_TEST_CASE(a_wrong_directory_is_an_error_and_is_not_created) {
  const std::string wrong = (root / "no-such-db").string();
  const result r = expect(1, {"get", wrong, "k"});
  BOOST_TEST(contains(r.err, wrong));
  BOOST_TEST(!fs::exists(wrong));
  expect(1, {"put", wrong, "k", "v"});
  expect(1, {"scan", wrong});
  expect(1, {"verify", wrong});
  BOOST_TEST(!fs::exists(wrong));
  // A directory that is not a db is left untouched (no LOCK file appears).
  fs::create_directory(wrong);
  expect(1, {"stats", wrong});
  BOOST_TEST(fs::is_empty(wrong));
  expect(1, {"dump-sst", (root / "missing.sst").string()});
  expect(1, {"dump-wal", (root / "missing.log").string()});
}

BOOST_AUTO_TEST_SUITE_END()
