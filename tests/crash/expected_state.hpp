// tests/crash/expected_state.hpp — the oracle of the kill -9 test (RocksDB
// db_stress's "expected state"): a file mapped MAP_SHARED by the child and
// by the parent. Stores to a shared mapping land in the page cache, so a
// SIGKILL loses none of them: whatever the child recorded before it died
// is what the parent reads.
//
// One 64-bit slot per key says which version of the key the db must hold:
// the last acknowledged write (committed), and while a write is in flight,
// its version (pending). A worker marks its keys pending before it calls
// the db and commits them after the acknowledgement, so after a kill a
// key's db state is either the committed one or, if pending, the pending
// one. Exactly one writer owns each key, so one pending write per key
// suffices. Versions are never reused (issued only grows), so a write that
// was lost and later resurfaces is caught.
//
// The header also carries per-worker batch records (to check that a batch
// in flight at the kill is all or nothing) and the child's last sample of
// its db stats (to tell whether a flush or compaction was running).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace strata::crash {

// What a slot says about one key.
struct key_state {
  std::uint32_t committed = 0;  // version of the last acknowledged write; 0: never written
  bool committed_erased = false;
  std::uint32_t issued = 0;  // highest version ever handed out (>= committed)
  bool pending = false;      // a write of version `issued` may or may not have landed
  bool pending_erased = false;

  static constexpr std::uint32_t max_version = (1u << 28) - 1;

  std::uint64_t encode() const {
    return std::uint64_t{committed} | (std::uint64_t{committed_erased} << 28) | (std::uint64_t{issued} << 32) |
           (std::uint64_t{pending_erased} << 60) | (std::uint64_t{pending} << 63);
  }
  static key_state decode(std::uint64_t bits) {
    key_state s;
    s.committed = static_cast<std::uint32_t>(bits & max_version);
    s.committed_erased = ((bits >> 28) & 1) != 0;
    s.issued = static_cast<std::uint32_t>((bits >> 32) & max_version);
    s.pending_erased = ((bits >> 60) & 1) != 0;
    s.pending = ((bits >> 63) & 1) != 0;
    return s;
  }
  // Whether the committed state is "no value".
  bool committed_absent() const { return committed == 0 || committed_erased; }
};

// One operation of a batch: the key and the state it writes.
struct batch_op {
  std::uint64_t key = 0;
  std::uint64_t version = 0;
  std::uint64_t erased = 0;
};

inline constexpr std::size_t max_batch_ops = 8;
inline constexpr std::size_t max_workers = 64;

// The batch a worker has in flight; active from just before the write call
// until every key of it is committed.
struct batch_record {
  std::uint64_t active = 0;
  std::uint64_t count = 0;
  batch_op ops[max_batch_ops];
};

struct state_header {
  std::uint64_t magic = 0;
  std::uint64_t num_keys = 0;
  std::uint64_t workers = 0;
  // Child progress, reset by the parent before each child.
  std::uint64_t child_started = 0;  // the child runs (before db::open)
  std::uint64_t opened = 0;         // the child's db::open completed
  std::uint64_t open_micros = 0;    // how long the child took from start to an open db
  std::uint64_t acked_writes = 0;   // write calls acknowledged by this child
  std::uint64_t reads_checked = 0;
  // The child's last db stats sample (every few ms).
  std::uint64_t stats_samples = 0;
  std::uint64_t flushes = 0;
  std::uint64_t compactions = 0;
  std::uint64_t compactions_running = 0;
  std::uint64_t immutable_memtables = 0;
  std::uint64_t l0_files = 0;
  std::uint64_t table_files = 0;
  std::uint64_t recovered_records = 0;
  batch_record batches[max_workers];
};

inline constexpr std::uint64_t state_magic = 0x5354524154414b39ull;  // "STRATAK9"

// Atomic access to a field of the mapping.
inline std::uint64_t load(std::uint64_t& field) {
  return std::atomic_ref<std::uint64_t>(field).load(std::memory_order_seq_cst);
}
inline void store(std::uint64_t& field, std::uint64_t value) {
  std::atomic_ref<std::uint64_t>(field).store(value, std::memory_order_seq_cst);
}
inline void add(std::uint64_t& field, std::uint64_t delta) {
  std::atomic_ref<std::uint64_t>(field).fetch_add(delta, std::memory_order_seq_cst);
}

// The mapped state file.
class expected_state {
 public:
  // Parent: a fresh file for `num_keys` keys, all never written.
  static expected_state create(const std::string& path, std::uint32_t num_keys, std::uint32_t workers);
  // Child: the file the parent made.
  static expected_state attach(const std::string& path);

  expected_state(expected_state&& other) noexcept;
  expected_state& operator=(expected_state&&) = delete;
  expected_state(const expected_state&) = delete;
  ~expected_state();

  state_header& header() const { return *reinterpret_cast<state_header*>(base_); }
  std::uint32_t num_keys() const { return static_cast<std::uint32_t>(header().num_keys); }
  std::uint32_t workers() const { return static_cast<std::uint32_t>(header().workers); }

  key_state get(std::uint32_t key) const { return key_state::decode(load(slots()[key])); }
  void set(std::uint32_t key, const key_state& s) const { store(slots()[key], s.encode()); }

 private:
  expected_state(void* base, std::size_t bytes) : base_(base), bytes_(bytes) {}
  static std::size_t slots_offset();
  std::uint64_t* slots() const { return reinterpret_cast<std::uint64_t*>(static_cast<char*>(base_) + slots_offset()); }

  void* base_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace strata::crash
