// tests/corruption/trial.hpp — one corruption trial: copies the reference
// db to a fresh directory with one file damaged, optionally runs
// `strata verify` on the damaged copy first (it must change nothing), then
// opens the copy through the public API, gets every key the history ever
// wrote, scans everything forward, closes, and judges it all (verdict.hpp).
//
// Each stage has a time limit; a stage that exceeds it is a hang, which
// ends the process with the trial's description on stderr (a hung db
// cannot be torn down safely). A crash is caught by Boost.Test, whose
// last checkpoint names the trial.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "../unit/temp_dir.hpp"
#include "cli_verify.hpp"
#include "damage.hpp"
#include "expectation.hpp"
#include "reference_db.hpp"
#include "strata/db.hpp"
#include "verdict.hpp"

namespace strata::corruption {

struct trial_report {
  expectation expected;
  observation observed;
  verdict judged;
  std::optional<cli_result> verify;
  bool detectable = false;  // open or a read reported an error, or open must fail
};

namespace trial_detail {

namespace asio = boost::asio;

inline void run_or_die(asio::io_context& ctx, asio::awaitable<void> work, const std::string& what) {
  auto done = asio::co_spawn(ctx, std::move(work), asio::use_future);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::cerr << "HANG (not done after 60 s): " << what << std::endl;
      std::_Exit(3);
    }
    ctx.restart();
    ctx.run_for(std::chrono::milliseconds(20));
    if (ctx.stopped()) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  done.get();
}

inline std::map<std::string, std::string> directory_contents(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    out[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

// Open, every get, one forward scan, close: all that a reader of the
// damaged db could see.
inline asio::awaitable<void> read_everything(std::string dir, options o, const std::set<std::string>& keys,
                                             observation& seen) {
  const auto executor = co_await asio::this_coro::executor;
  auto [open_error, d] = co_await db::open(executor, dir, o, asio::as_tuple(asio::use_awaitable));
  if (open_error) {
    seen.open_error = open_error;
    seen.open_message = last_open_error();
    co_return;
  }
  seen.recovered_records = d->stats().recovered_records;
  for (const auto& key : keys) {
    read_options ro;
    auto [error, value] = co_await d->get(key, ro, asio::as_tuple(asio::use_awaitable));
    key_read r{.key = key, .error = error, .value = std::move(value), .message = error ? d->last_error() : ""};
    seen.gets.push_back(std::move(r));
  }
  {
    read_options ro;
    auto it = d->scan(ro);
    co_await it->seek_to_first();
    while (it->valid()) {
      seen.scan.entries.emplace_back(std::string(it->key()), std::string(it->value()));
      if (seen.scan.entries.size() > keys.size()) break;  // more entries than keys: judged as wrong
      if (!it->try_next()) co_await it->next();
    }
    seen.scan.error = it->error();
    seen.scan.message = it->message();
  }
  auto [close_error] = co_await d->close(asio::as_tuple(asio::use_awaitable));
  (void)close_error;  // a db that met damage may fail its final sync; only a hang matters here
}

}  // namespace trial_detail

// keep_at: if set, a copy of the damaged db is left there (for replays).
inline trial_report run_trial(boost::asio::io_context& ctx, const reference_db& ref, const damage& d,
                              bool error_on_corrupt_wal, const std::string* cli, const std::string& what,
                              const std::optional<std::string>& keep_at = std::nullopt) {
  using namespace trial_detail;
  testing::temp_dir scratch;
  const std::string dir = scratch.path() + "/db";
  std::filesystem::create_directory(dir);
  for (std::size_t i = 0; i < ref.files.size(); ++i) {
    const auto& f = ref.files[i];
    std::ofstream out(dir + "/" + f.name, std::ios::binary);
    const std::string bytes = i == d.file ? d.apply(f.bytes) : f.bytes;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  if (keep_at) {
    std::filesystem::remove_all(*keep_at);
    std::filesystem::create_directories(*keep_at);
    std::filesystem::copy(dir, *keep_at, std::filesystem::copy_options::recursive);
  }

  trial_report report;
  report.expected = expect(ref, d, error_on_corrupt_wal);
  std::vector<std::string> verify_problems;
  if (cli != nullptr) {
    const auto before = directory_contents(dir);
    report.verify = run_verify(*cli, dir, scratch.path());
    if (directory_contents(dir) != before) verify_problems.push_back("strata verify changed the db directory");
  }

  options o = ref.open_options;
  o.error_on_corrupt_wal = error_on_corrupt_wal;
  o.create_if_missing = false;
  run_or_die(ctx, read_everything(dir, o, ref.history.keys, report.observed), what);

  const observation& seen = report.observed;
  // Damage verify must find: what the db reported, and what the format
  // says open must refuse (even if the db let it through).
  report.detectable =
      static_cast<bool>(seen.open_error) || static_cast<bool>(seen.scan.error) || report.expected.open_must_fail;
  for (const auto& g : seen.gets) report.detectable = report.detectable || static_cast<bool>(g.error);
  report.judged = judge(report.expected, ref.files[d.file], seen);
  if (report.verify) {
    const cli_result& v = *report.verify;
    if (v.code == -1) verify_problems.push_back("strata verify hung (killed after 60 s)");
    if (v.code != 0 && v.code != 1)
      verify_problems.push_back("strata verify exited with " + std::to_string(v.code) + ": " + v.err);
    if (report.detectable && v.code == 0)
      verify_problems.push_back(
          "strata verify found nothing wrong in damage that the db reported or must report;"
          " its output:\n" +
          v.out);
  }
  if (!verify_problems.empty()) {
    report.judged.result = outcome::failed;
    report.judged.problems.insert(report.judged.problems.end(), verify_problems.begin(), verify_problems.end());
  }
  return report;
}

}  // namespace strata::corruption
