// strata::memtable: writes, point reads, seal and statistics. Cursors live
// in memtable_cursor.cpp; the skip list in skiplist.hpp.
#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <sched.h>

#include "memtable/memtable_core.hpp"
#include "strata/memtable.hpp"

namespace strata {
namespace detail {
namespace {

// Threads are numbered once, on first use (seeds their RNG; fallback shard
// choice where the CPU number is unavailable).
// Relaxed: only distinctness matters, not ordering.
std::atomic<unsigned> thread_counter{0};
thread_local const unsigned this_thread_number = thread_counter.fetch_add(1, std::memory_order_relaxed);

// Per-thread xorshift64* for tower heights: no shared RNG state.
thread_local std::uint64_t height_rng = 0x9E3779B97F4A7C15ull * (this_thread_number + 1);

int random_height() noexcept {
  height_rng ^= height_rng >> 12;
  height_rng ^= height_rng << 25;
  height_rng ^= height_rng >> 27;
  const std::uint64_t r = height_rng * 0x2545F4914F6CDD1Dull;
  // P(height > h) = 2^-h: each zero low bit adds a level. p = 1/2 rather
  // than LevelDB's 1/4: with the down-level prefetch in the search, more
  // levels of ~1 step each overlap misses better; measured at 1M entries:
  // gets +36 %, inserts +22 %, for ~5 more bytes per node (mean tower 2).
  const int h = 1 + std::countr_zero(r | (std::uint64_t{1} << 62));
  return std::min(h, max_height);
}

memtable::options normalized(memtable::options o) {
  if (o.shards == 0) o.shards = std::max(1u, std::thread::hardware_concurrency());
  o.first_sequence = std::clamp<sequence_number>(o.first_sequence, 1, max_sequence_number);
  o.arena_block_bytes = std::max(o.arena_block_bytes, arena::min_block_bytes);
  return o;
}

bool valid_op(std::string_view key, std::string_view value) noexcept {
  return key.size() <= memtable::max_key_size && value.size() <= memtable::max_value_size;
}

// Keeps this thread counted as "writing" so seal() waits for it.
class write_scope {
 public:
  write_scope(memtable_core& core, unsigned shard, std::uint64_t attempts) noexcept
      : counters_(core.shards[shard]), core_(core) {
    counters_.attempts.fetch_add(attempts, std::memory_order_relaxed);
    counters_.in_flight.fetch_add(1, std::memory_order_seq_cst);  // seal protocol
  }
  ~write_scope() {
    // Release: everything this writer inserted happens-before seal()
    // observing the count drop to zero.
    counters_.in_flight.fetch_sub(1, std::memory_order_release);
  }
  write_scope(const write_scope&) = delete;
  write_scope& operator=(const write_scope&) = delete;
  bool table_closed() const noexcept { return core_.closed.load(std::memory_order_seq_cst); }

 private:
  shard_counters& counters_;
  memtable_core& core_;
};

// Node heights and sizes of a batch, decided before admission so the byte
// limit can be checked for the whole batch at once.
class batch_plan {
 public:
  explicit batch_plan(std::span<const memtable::batch_op> ops) : count_(ops.size()) {
    if (count_ > inline_capacity) heap_.resize(count_);
    for (std::size_t i = 0; i < count_; ++i) {
      const int h = random_height();
      height_at(i) = static_cast<std::uint8_t>(h);
      bytes_ += arena::round_up(memtable_node::allocation_size(h, ops[i].key.size(), ops[i].value.size()));
    }
  }
  int height(std::size_t i) const noexcept { return count_ > inline_capacity ? heap_[i] : inline_[i]; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  static constexpr std::size_t inline_capacity = 16;
  std::uint8_t& height_at(std::size_t i) noexcept { return count_ > inline_capacity ? heap_[i] : inline_[i]; }
  std::size_t count_;
  std::size_t bytes_ = 0;
  std::array<std::uint8_t, inline_capacity> inline_{};
  std::vector<std::uint8_t> heap_;
};

}  // namespace

memtable_core::memtable_core(const memtable::options& opts)
    : options(normalized(opts)),
      memory(options.arena_block_bytes, options.shards, options.huge_pages),
      shards(std::make_unique<shard_counters[]>(memory.shard_count())),
      head_memory(std::make_unique<char[]>(memtable_node::allocation_size(max_height, 0, 0))),
      list(head_memory.get()),
      sequences(options.first_sequence) {}

// The shard of the CPU we run on (as RocksDB's ConcurrentArena does): two
// writers running at the same moment are on different CPUs, hence different
// shards, whatever their number; threads that share a CPU take turns on it.
// Shards tolerate sharing anyway (migration between the call and the
// allocation is harmless). sched_getcpu reads the rseq area: no syscall.
unsigned memtable_core::shard_of_this_thread() const noexcept {
  const int cpu = ::sched_getcpu();
  const unsigned n = cpu >= 0 ? static_cast<unsigned>(cpu) : this_thread_number;
  return n % memory.shard_count();
}

void memtable_core::widen_key_range(const memtable_node* n) noexcept {
  const std::string_view key = n->key();
  // Acquire loads / release CAS: we read the current extreme's key bytes,
  // which its writer published with the release CAS that installed it.
  const memtable_node* lo = min_node.load(std::memory_order_acquire);
  while (lo == nullptr || compare_user_keys(key, lo->key()) < 0) {
    if (min_node.compare_exchange_weak(lo, n, std::memory_order_release, std::memory_order_acquire)) break;
  }
  const memtable_node* hi = max_node.load(std::memory_order_acquire);
  while (hi == nullptr || compare_user_keys(key, hi->key()) > 0) {
    if (max_node.compare_exchange_weak(hi, n, std::memory_order_release, std::memory_order_acquire)) break;
  }
}

bool memtable_core::outside_key_range(std::string_view key) const noexcept {
  // Both extremes are set before any node is linked, so a reader that can
  // see an entry (its snapshot covers it) sees both non-null and covering it.
  const memtable_node* lo = min_node.load(std::memory_order_acquire);
  const memtable_node* hi = max_node.load(std::memory_order_acquire);
  if (lo == nullptr || hi == nullptr) return true;
  return compare_user_keys(key, lo->key()) < 0 || compare_user_keys(key, hi->key()) > 0;
}

namespace {

// Admission against the configured limits for `entries` new nodes of
// `bytes` in total. On success, `after` must be called once they landed.
struct admission {
  std::uint64_t entries_before = 0;
  std::uint64_t bytes_after = 0;
};

// Check-then-CAS: a request that is refused never changes the shared
// counters, so it cannot make a concurrent writer see a full table.
// (Entries are claimed first; if the bytes then do not fit, the entries are
// given back: the one window where a refused request is briefly counted.)
std::error_code admit(memtable_core& core, std::uint64_t entries, std::uint64_t bytes, admission& a) noexcept {
  if (!core.tracks_limits()) return {};
  const auto& o = core.options;
  std::uint64_t n = core.limit_entries.load(std::memory_order_relaxed);
  do {
    if (o.max_entries != 0 && n >= o.max_entries) {
      core.closed.store(true, std::memory_order_seq_cst);  // full: auto-seal
      return errc::sealed;
    }
  } while (!core.limit_entries.compare_exchange_weak(n, n + entries, std::memory_order_relaxed));
  a.entries_before = n;
  std::uint64_t b = core.limit_bytes.load(std::memory_order_relaxed);
  do {
    if (o.hard_memory_limit != 0 && b + bytes > o.hard_memory_limit) {
      core.limit_entries.fetch_sub(entries, std::memory_order_relaxed);
      return errc::out_of_memory;
    }
  } while (!core.limit_bytes.compare_exchange_weak(b, b + bytes, std::memory_order_relaxed));
  a.bytes_after = b + bytes;
  return {};
}

// Gives back an admission whose nodes never landed (abandoned or failed).
void undo_admission(memtable_core& core, std::uint64_t entries, std::uint64_t bytes) noexcept {
  if (!core.tracks_limits()) return;
  core.limit_entries.fetch_sub(entries, std::memory_order_relaxed);
  core.limit_bytes.fetch_sub(bytes, std::memory_order_relaxed);
}

void after_admission(memtable_core& core, std::uint64_t entries, const admission& a) noexcept {
  if (!core.tracks_limits()) return;
  const auto& o = core.options;
  if ((o.max_entries != 0 && a.entries_before + entries >= o.max_entries) ||
      (o.max_memory_bytes != 0 && a.bytes_after >= o.max_memory_bytes)) {
    core.closed.store(true, std::memory_order_seq_cst);  // auto-seal
  }
}

memtable_node* build_node(memtable_core& core, unsigned shard, int height, sequence_number seq,
                          const memtable::batch_op& op) {
  const std::size_t size = memtable_node::allocation_size(height, op.key.size(), op.value.size());
  char* memory = core.memory.allocate(size, shard);
  memtable_node* n = skiplist::init_node(memory, height, pack_tag(seq, op.type), op.key.size());
  n->value_size = static_cast<std::uint32_t>(op.value.size());
  char* data = const_cast<char*>(n->key_data());
  if (!op.key.empty()) std::memcpy(data, op.key.data(), op.key.size());
  if (!op.value.empty()) std::memcpy(data + op.key.size(), op.value.data(), op.value.size());
  return n;
}

void count_landed(shard_counters& c, const memtable::batch_op& op, std::size_t node_bytes) noexcept {
  c.entries.fetch_add(1, std::memory_order_relaxed);
  if (op.type == value_type::deletion) c.deletions.fetch_add(1, std::memory_order_relaxed);
  c.key_bytes.fetch_add(op.key.size(), std::memory_order_relaxed);
  c.value_bytes.fetch_add(op.value.size(), std::memory_order_relaxed);
  c.memory_used.fetch_add(node_bytes, std::memory_order_relaxed);
}

// Inserts ops[i] with sequence first_seq + i. The caller holds a write_scope.
std::error_code insert_ops(memtable_core& core, unsigned shard, sequence_number first_seq,
                           std::span<const memtable::batch_op> ops) {
  const batch_plan plan(ops);
  admission a;
  if (auto ec = admit(core, ops.size(), plan.bytes(), a)) return ec;
  std::error_code result;
  std::size_t i = 0;
  // If allocation throws mid-batch, the ops not yet inserted give their
  // admission back (bytes pro rata: an estimate on this failure path).
  struct give_back {
    memtable_core& core;
    const std::size_t& landed;
    std::size_t total;
    std::size_t bytes;
    bool armed = true;
    ~give_back() {
      if (armed && landed < total) undo_admission(core, total - landed, bytes * (total - landed) / total);
    }
  } guard{core, i, ops.size(), plan.bytes()};
  auto land = [&](memtable_node* n, bool inserted) {
    const std::size_t node_bytes =
        arena::round_up(memtable_node::allocation_size(n->height, n->key_size, n->value_size));
    if (inserted) {
      count_landed(core.shards[shard], {n->type(), n->key(), n->value()}, node_bytes);
    } else {
      // Same key and sequence already present: a caller bug in store mode.
      core.shards[shard].memory_used.fetch_add(node_bytes, std::memory_order_relaxed);
      undo_admission(core, 1, 0);  // the bytes are spent, the entry is not
      result = errc::invalid_argument;
    }
  };
  if (ops.size() == 1) {
    memtable_node* n = build_node(core, shard, plan.height(0), first_seq, ops[0]);
    core.widen_key_range(n);
    land(n, core.list.insert(n));
    i = 1;
  } else {
    // Several: built first, then linked in key order with their searches
    // overlapped (skiplist::insert_many). Until they are linked none
    // counts as landed, so a throw while building gives all of them back.
    std::vector<memtable_node*> nodes;
    nodes.reserve(ops.size());
    for (std::size_t k = 0; k < ops.size(); ++k) {
      nodes.push_back(build_node(core, shard, plan.height(k), first_seq + k, ops[k]));
      core.widen_key_range(nodes.back());
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const memtable_node* a, const memtable_node* b) { return compare_node(a, b->key(), b->tag) < 0; });
    const std::unique_ptr<bool[]> inserted(new bool[nodes.size()]);
    core.list.insert_many(nodes.data(), nodes.size(), inserted.get());
    for (std::size_t k = 0; k < nodes.size(); ++k) land(nodes[k], inserted[k]);
    i = ops.size();
  }
  guard.armed = false;
  after_admission(core, ops.size(), a);
  return result;
}

}  // namespace
}  // namespace detail

using detail::memtable_core;
using detail::memtable_node;

std::shared_ptr<memtable> memtable::create(const options& opts) {
  return std::make_shared<memtable>(private_tag{}, opts);
}

memtable::memtable(private_tag, const options& opts) : core_(std::make_unique<memtable_core>(opts)) {}
memtable::~memtable() = default;

// ---- writes ----

namespace {
std::error_code standalone_write(memtable_core& core, std::span<const memtable::batch_op> ops) {
  for (const auto& op : ops) {
    if (!detail::valid_op(op.key, op.value)) {
      core.shards[core.shard_of_this_thread()].attempts.fetch_add(ops.size(), std::memory_order_relaxed);
      return errc::invalid_argument;
    }
  }
  const unsigned shard = core.shard_of_this_thread();
  detail::write_scope scope(core, shard, ops.size());
  if (scope.table_closed()) return errc::sealed;
  const sequence_number first = core.sequences.reserve(ops.size());
  // Completed on every exit, exceptions included: an abandoned range must
  // never hold back publication (nor make seal() wait on the ring).
  const detail::range_completion done(core.sequences, first, ops.size());
  if (first + ops.size() - 1 > max_sequence_number) return errc::invalid_argument;  // sequences exhausted
  return detail::insert_ops(core, shard, first, ops);
}
}  // namespace

std::error_code memtable::try_put(std::string_view key, std::string_view value) {
  const batch_op op{value_type::value, key, value};
  return standalone_write(*core_, {&op, 1});
}

std::error_code memtable::try_erase(std::string_view key) {
  const batch_op op{value_type::deletion, key, {}};
  return standalone_write(*core_, {&op, 1});
}

std::error_code memtable::put_batch(std::span<const batch_op> ops) {
  if (ops.empty()) return {};
  return standalone_write(*core_, ops);
}

std::error_code memtable::insert(sequence_number seq, value_type type, std::string_view key, std::string_view value) {
  const batch_op op{type, key, type == value_type::deletion ? std::string_view{} : value};
  return insert_batch(seq, {&op, 1});
}

std::error_code memtable::insert_batch(sequence_number first_seq, std::span<const batch_op> ops) {
  memtable_core& core = *core_;
  const unsigned shard = core.shard_of_this_thread();
  bool valid = first_seq >= 1 && first_seq <= max_sequence_number && ops.size() <= max_sequence_number - first_seq + 1;
  for (const auto& op : ops) valid = valid && detail::valid_op(op.key, op.value);
  if (!valid) {
    core.shards[shard].attempts.fetch_add(ops.size(), std::memory_order_relaxed);
    return errc::invalid_argument;
  }
  detail::write_scope scope(core, shard, ops.size());
  if (scope.table_closed()) return errc::sealed;
  return detail::insert_ops(core, shard, first_seq, ops);
}

void memtable::publish(sequence_number seq) noexcept { core_->sequences.publish(std::min(seq, max_sequence_number)); }

memtable::get_or_insert_result memtable::get_or_insert(std::string_view key, std::string_view value) {
  memtable_core& core = *core_;
  const unsigned shard = core.shard_of_this_thread();
  if (!detail::valid_op(key, value)) {
    core.shards[shard].attempts.fetch_add(1, std::memory_order_relaxed);
    return {{}, false, errc::invalid_argument};
  }
  detail::write_scope scope(core, shard, 1);
  if (scope.table_closed()) return {{}, false, errc::sealed};
  const batch_op op{value_type::value, key, value};
  const auto newest_live = [&]() -> const memtable_node* {
    const memtable_node* newest = core.list.find_greater_or_equal(key, detail::lookup_tag(max_sequence_number));
    return newest != nullptr && newest->key() == key && newest->type() == value_type::value ? newest : nullptr;
  };
  // Fast path: the newest linked version is live. Returning it is a
  // linearizable read (an in-flight put of this key with a lower sequence
  // would sort below it) and costs no sequence number.
  if (const memtable_node* live = newest_live()) return {live->value(), false, {}};
  for (;;) {
    const sequence_number seq = core.sequences.reserve(1);
    const detail::range_completion done(core.sequences, seq, 1);
    if (seq > max_sequence_number) return {{}, false, errc::invalid_argument};
    // Wait until every lower-sequenced write is linked or abandoned: one of
    // them may be a put of this key, which sorts below ours and would
    // otherwise land after we decided the key was absent. Writes with
    // higher sequences that link first are caught by the guard below. No
    // deadlock: lower ranges never wait for higher ones.
    while (core.sequences.published() + 1 < seq) std::this_thread::yield();
    if (const memtable_node* live = newest_live()) return {live->value(), false, {}};
    const detail::batch_plan plan({&op, 1});
    detail::admission a;
    if (auto ec = detail::admit(core, 1, plan.bytes(), a)) return {{}, false, ec};
    memtable_node* n = detail::build_node(core, shard, plan.height(0), seq, op);
    core.widen_key_range(n);
    const memtable_node* live = nullptr;
    // Link only if, at the linking CAS, we become the key's newest version
    // (prev is another key) and the version we shadow is not a live value.
    const bool linked = core.list.insert(n, [&](const memtable_node* prev, const memtable_node* next) {
      if (prev != nullptr && prev->key() == key) return false;  // a newer version raced in
      if (next != nullptr && next->key() == key && next->type() == value_type::value) {
        live = next;
        return false;
      }
      return true;
    });
    if (linked) {
      detail::count_landed(core.shards[shard], op, plan.bytes());
      detail::after_admission(core, 1, a);
      return {n->value(), true, {}};
    }
    // The node stays in the arena unused; count its bytes so usage is honest.
    core.shards[shard].memory_used.fetch_add(plan.bytes(), std::memory_order_relaxed);
    detail::undo_admission(core, 1, 0);
    if (live != nullptr) return {live->value(), false, {}};
    // Otherwise a newer version raced in: look again with a fresh sequence.
  }
}

// ---- reads ----

sequence_number memtable::snapshot() const noexcept { return core_->sequences.published(); }

memtable::lookup memtable::get(std::string_view key, sequence_number snapshot) const {
  const memtable_core& core = *core_;
  if (core.outside_key_range(key)) return {};
  const memtable_node* n = core.list.find_greater_or_equal(key, detail::lookup_tag(snapshot));
  if (n == nullptr || n->key() != key) return {};
  if (n->type() == value_type::deletion) return {lookup::state::deleted, {}, n->sequence()};
  return {lookup::state::found, n->value(), n->sequence()};
}

std::optional<std::string_view> memtable::get_live(std::string_view key, sequence_number snapshot) const {
  const lookup r = get(key, snapshot);
  if (!r.found()) return std::nullopt;
  return r.value;
}

std::vector<memtable::lookup> memtable::get_many(std::span<const std::string_view> keys,
                                                 sequence_number snapshot) const {
  std::vector<lookup> out;
  out.reserve(keys.size());
  for (const auto& key : keys) out.push_back(get(key, snapshot));
  return out;
}

// ---- lifecycle ----

memtable::seal_result memtable::seal() {
  memtable_core& core = *core_;
  if (core.sealed_by_call.exchange(true, std::memory_order_acq_rel)) return {nullptr, nullptr, errc::sealed};
  core.closed.store(true, std::memory_order_seq_cst);
  for (unsigned i = 0; i < core.memory.shard_count(); ++i) {
    while (core.shards[i].in_flight.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  }
  options next = core.options;
  next.first_sequence = std::max(core.sequences.next(), core.sequences.published() + 1);
  auto fresh = create(next);
  return {shared_from_this(), std::move(fresh), {}};
}

bool memtable::is_sealed() const noexcept { return core_->closed.load(std::memory_order_seq_cst); }

bool memtable::is_under_backpressure() const noexcept {
  const memtable_core& core = *core_;
  const auto& o = core.options;
  const auto near = [](std::uint64_t used, std::size_t limit) { return limit != 0 && used * 10 >= limit * 9ull; };
  return is_sealed() || near(core.limit_bytes.load(std::memory_order_relaxed), o.max_memory_bytes) ||
         near(core.limit_entries.load(std::memory_order_relaxed), o.max_entries);
}

// ---- statistics ----

std::size_t memtable::size() const noexcept {
  return core_->sum([](auto& c) -> auto& { return c.entries; });
}
std::size_t memtable::deletions() const noexcept {
  return core_->sum([](auto& c) -> auto& { return c.deletions; });
}
std::size_t memtable::memory_usage() const noexcept {
  return core_->sum([](auto& c) -> auto& { return c.memory_used; });
}
std::size_t memtable::memory_reserved() const noexcept { return core_->memory.reserved(); }
double memtable::memory_utilization() const noexcept {
  const auto reserved = memory_reserved();
  return reserved == 0 ? 0.0 : static_cast<double>(memory_usage()) / static_cast<double>(reserved);
}
std::size_t memtable::memory_idle() const noexcept {
  const auto reserved = memory_reserved();
  const auto used = memory_usage();
  return reserved > used ? reserved - used : 0;
}
double memtable::avg_key_size() const noexcept {
  const auto n = size();
  return n == 0 ? 0.0 : static_cast<double>(core_->sum([](auto& c) -> auto& { return c.key_bytes; })) / n;
}
double memtable::avg_value_size() const noexcept {
  const auto n = size();
  return n == 0 ? 0.0 : static_cast<double>(core_->sum([](auto& c) -> auto& { return c.value_bytes; })) / n;
}
std::uint64_t memtable::total_inserts() const noexcept {
  return core_->sum([](auto& c) -> auto& { return c.attempts; });
}
std::size_t memtable::max_memory_bytes() const noexcept { return core_->options.max_memory_bytes; }
std::size_t memtable::max_entries() const noexcept { return core_->options.max_entries; }
const memtable::options& memtable::config() const noexcept { return core_->options; }

std::optional<std::string_view> memtable::min_key() const noexcept {
  const memtable_node* n = core_->min_node.load(std::memory_order_acquire);
  if (n == nullptr) return std::nullopt;
  return n->key();
}
std::optional<std::string_view> memtable::max_key() const noexcept {
  const memtable_node* n = core_->max_node.load(std::memory_order_acquire);
  if (n == nullptr) return std::nullopt;
  return n->key();
}

}  // namespace strata
