// tests/linearizability/linearizability_checker.cpp — the WGL search
// (Wing & Gong with Lowe's memoization) over each key's sub-history; see
// the header for what is decided and why per key.
//
// Four exact reductions keep real histories (dozens of operations in
// flight on one key, tens of thousands per key) near linear; each is argued
// where it is used, and the unit tests cross-check the whole against an
// exhaustive search:
//  - a register value that no get returned is as good as any other such
//    value, so all of them are one state ("unobserved");
//  - a move that leaves the state as it is and can never matter later (a
//    get of the current value; a write of an unobserved value while the
//    state is unobserved) is made first and alone, as a forced move;
//  - of the interchangeable writes (same effect) that could go next, only
//    the one that responded first is tried;
//  - no write may go while gets of the current value are still to come and
//    no remaining write can restore it (with unique values, this refutes a
//    write made too early at once).
// Writes are tried earliest response first (the order a store usually
// applies them in; it changes no verdict).
// The linearized set is stored compactly: operations are numbered in
// invocation order, so it is mostly a prefix (count of full leading words,
// then the few words after them).
#include "linearizability_checker.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace strata::testing::linearizability {

namespace {

// The register's value: the index of a distinct written value, or one of
// these.
using register_value = int;
constexpr register_value absent = -1;
constexpr register_value never_written = -2;  // a get result no put wrote
constexpr register_value unobserved = -3;     // a value no get returned

std::string quoted(const std::string& s) {
  constexpr std::size_t shown = 48;
  if (s.size() <= shown) return "\"" + s + "\"";
  return "\"" + s.substr(0, shown) + "...\"(" + std::to_string(s.size()) + " bytes)";
}

// One operation of a key's sub-history, with its values resolved.
struct key_op {
  const operation* op;
  register_value value;   // put: the written value's index; get: the returned one's; erase: absent
  register_value effect;  // writes: the state they leave (unobserved when no get can tell)
  bool returned;
  // Operations of one class are interchangeable: writes leaving the same
  // state, or gets of the same value.
  std::size_t equivalence_class = 0;
  bool is_get() const noexcept { return op->kind == op_kind::get; }
};

// A call or return event in WGL's doubly linked list.
struct event {
  int op = -1;  // -1: the list head
  bool is_call = false;
  event* match = nullptr;  // call: its return (nullptr if it never returned)
  event* prev = nullptr;
  event* next = nullptr;
};

// Removes an operation's call and return from the list (it is linearized);
// restore() undoes it exactly, in reverse order (dancing links).
void lift(event* call) {
  call->prev->next = call->next;
  if (call->next != nullptr) call->next->prev = call->prev;
  if (event* ret = call->match; ret != nullptr) {
    ret->prev->next = ret->next;
    if (ret->next != nullptr) ret->next->prev = ret->prev;
  }
}

void restore(event* call) {
  if (event* ret = call->match; ret != nullptr) {
    ret->prev->next = ret;
    if (ret->next != nullptr) ret->next->prev = ret;
  }
  call->prev->next = call;
  if (call->next != nullptr) call->next->prev = call;
}

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The set of linearized operations, with an incremental (Zobrist) hash and
// a compact canonical form: the number of leading all-ones words, then the
// words up to the last non-zero one.
class op_set {
 public:
  explicit op_set(std::size_t n) : words_((n + 63) / 64, 0), zobrist_(n) {
    for (std::size_t i = 0; i < n; ++i) zobrist_[i] = mix64(2 * i + 1);
  }

  void flip(std::size_t i) {
    const std::size_t w = i / 64;
    words_[w] ^= std::uint64_t{1} << (i % 64);
    hash_ ^= zobrist_[i];
    if ((words_[w] >> (i % 64)) & 1) {
      end_ = std::max(end_, w + 1);
      while (full_ < words_.size() && words_[full_] == ~std::uint64_t{0}) ++full_;
    } else {
      full_ = std::min(full_, w);
      while (end_ > 0 && words_[end_ - 1] == 0) --end_;
    }
  }
  std::uint64_t hash() const noexcept { return hash_; }
  std::size_t full_words() const noexcept { return full_; }
  std::vector<std::uint64_t> tail() const {
    const std::size_t from = std::min(full_, words_.size());
    return {words_.begin() + static_cast<std::ptrdiff_t>(from),
            words_.begin() + static_cast<std::ptrdiff_t>(std::max(end_, from))};
  }

 private:
  std::vector<std::uint64_t> words_;
  std::vector<std::uint64_t> zobrist_;
  std::uint64_t hash_ = 0;
  std::size_t full_ = 0;  // leading words that are all ones
  std::size_t end_ = 0;   // one past the last non-zero word
};

// A memoized configuration: which operations are linearized, and the state
// they leave.
struct configuration {
  std::size_t full_words;
  std::vector<std::uint64_t> tail;
  register_value value;
  std::uint64_t hash;
};
struct configuration_hash {
  std::size_t operator()(const configuration& c) const noexcept { return c.hash; }
};
struct configuration_equal {
  bool operator()(const configuration& a, const configuration& b) const noexcept {
    return a.hash == b.hash && a.value == b.value && a.full_words == b.full_words && a.tail == b.tail;
  }
};

// Where the search got deepest: the first pending operation that had to
// take effect and could not, and what was around it.
struct dead_end {
  std::size_t depth = 0;  // operations linearized
  int op = -1;
  int last_linearized = -1;
  register_value state = absent;
  int stranded_get = -1;  // a get still to read `state`, which no write can restore
  std::vector<int> candidates;
  std::size_t candidate_count = 0;
};

struct key_result {
  verdict outcome = verdict::linearizable;
  std::string explanation;
  std::size_t states = 0;
};

class key_checker {
 public:
  key_checker(const std::string& key, std::vector<const operation*> ops, const check_options& options)
      : key_(key), options_(options) {
    for (const operation* op : ops) {
      if (op->kind == op_kind::put && !op->value)
        throw std::invalid_argument("a put without a value: " + describe(*op));
      if (op->response != never_returned && op->response < op->invoke) {
        throw std::invalid_argument("response before invoke: " + describe(*op));
      }
    }
    // Invocation order keeps the linearized set close to a prefix.
    std::stable_sort(ops.begin(), ops.end(), [](const operation* a, const operation* b) {
      return a->invoke != b->invoke ? a->invoke < b->invoke : a->response < b->response;
    });
    // Distinct written values get indices; with unique values (the fast
    // case) each index also names the one put that wrote it. first_writer_:
    // the put of each value invoked first.
    std::unordered_map<std::string, register_value> index;
    for (const operation* op : ops) {
      if (op->kind != op_kind::put) continue;
      auto [it, fresh] = index.emplace(*op->value, static_cast<register_value>(values_.size()));
      if (fresh) {
        values_.push_back(*op->value);
        first_writer_.push_back(op);
      }
    }
    std::vector<bool> observed(values_.size(), false);
    bool absent_observed = false;
    for (const operation* op : ops) {
      register_value v = absent;
      if (op->kind == op_kind::put || (op->kind == op_kind::get && op->value)) {
        auto it = index.find(*op->value);
        v = it == index.end() ? never_written : it->second;
      }
      if (op->kind == op_kind::get && v >= 0) observed[static_cast<std::size_t>(v)] = true;
      absent_observed |= op->kind == op_kind::get && v == absent;
      ops_.push_back({op, v, v, op->response != never_returned});
    }
    // Values no get returned are indistinguishable to the rest of the
    // history: one state stands for all of them.
    for (key_op& o : ops_) {
      if (o.is_get()) continue;
      if (o.value == absent ? !absent_observed : !observed[static_cast<std::size_t>(o.value)]) o.effect = unobserved;
    }
    initial_ = absent_observed ? absent : unobserved;
    for (key_op& o : ops_) {
      const auto id = static_cast<std::size_t>((o.is_get() ? o.value : o.effect) - unobserved);
      o.equivalence_class = 2 * id + (o.is_get() ? 1 : 0);
      classes_ = std::max(classes_, o.equivalence_class + 1);
    }
  }

  key_result run() {
    if (auto why = impossible_read(); !why.empty()) return {verdict::not_linearizable, why, 0};
    return search();
  }

 private:
  std::string value_text(register_value v) const {
    if (v == absent) return "absent";
    if (v == unobserved) return "a value no get returned";
    return quoted(values_[static_cast<std::size_t>(v)]);
  }

  std::string prefix() const { return "key " + quoted(key_) + " (" + std::to_string(ops_.size()) + " ops): "; }

  // Reads no linearization can explain, whatever the interleaving: cheap to
  // find, and a clearer explanation than the search's.
  std::string impossible_read() const {
    for (const key_op& o : ops_) {
      if (!o.is_get() || o.value == absent) continue;
      if (o.value == never_written) {
        return prefix() + describe(*o.op) + " returned a value that no put on this key wrote";
      }
      const operation& writer = *first_writer_[static_cast<std::size_t>(o.value)];
      if (writer.invoke > o.op->response) {
        return prefix() + describe(*o.op) + " returned a value first written by " + describe(writer) +
               ", invoked after the get had returned";
      }
    }
    return {};
  }

  key_result search() {
    const std::size_t n = ops_.size();
    // The event list, in real-time order; at equal timestamps calls come
    // first (the two operations then count as concurrent: permissive).
    std::vector<event> events(2 * n + 1);
    std::vector<event*> order;
    order.reserve(2 * n);
    std::size_t used = 1;
    std::size_t completed_left = 0;
    for (std::size_t i = 0; i < n; ++i) {
      event* call = &events[used++];
      call->op = static_cast<int>(i);
      call->is_call = true;
      order.push_back(call);
      if (ops_[i].returned) {
        event* ret = &events[used++];
        ret->op = static_cast<int>(i);
        ret->match = call;
        call->match = ret;
        order.push_back(ret);
        ++completed_left;
      }
    }
    const auto time_of = [&](const event* e) {
      const operation& op = *ops_[static_cast<std::size_t>(e->op)].op;
      return e->is_call ? op.invoke : op.response;
    };
    std::stable_sort(order.begin(), order.end(), [&](const event* a, const event* b) {
      const auto ta = time_of(a), tb = time_of(b);
      if (ta != tb) return ta < tb;
      return a->is_call && !b->is_call;
    });
    event* head = &events[0];
    event* last = head;
    for (event* e : order) {
      last->next = e;
      e->prev = last;
      last = e;
    }
    // The candidates to go next are the calls before the first return: any
    // other call was invoked after some pending operation responded.

    // A forced move: a candidate that leaves the state as it is and cannot
    // matter later. Given any linearization from here, moving it to the
    // front gives another: nothing pending responded before it was invoked,
    // so real-time order holds; everything before its old place sees the
    // same state; and after its old place nothing changes either. For a get
    // of the current value that is because a get changes nothing; for a
    // write of an unobserved value while the state is unobserved, because
    // in the old order it left an unobserved value, which only a write can
    // follow. So it is tried first and alone. Without this, k concurrent
    // gets of one value (or k writes nobody read) cost 2^k states.
    register_value state = initial_;
    const auto forced_move = [&]() -> event* {
      for (event* e = head->next; e != nullptr && e->is_call; e = e->next) {
        const key_op& o = ops_[static_cast<std::size_t>(e->op)];
        if (o.is_get() ? o.value == state : state == unobserved && o.effect == unobserved) return e;
      }
      return nullptr;
    };

    // Stranded reads: while the state is a value that unlinearized gets
    // returned and no unlinearized write can bring back, every one of those
    // gets must come before any write, so no write may go next. (With
    // unique values this refutes a write linearized too early at once,
    // instead of after exploring everything that follows it.)
    const auto slot = [](register_value v) { return static_cast<std::size_t>(v - unobserved); };
    std::vector<std::size_t> gets_left(values_.size() + 3, 0), writers_left(values_.size() + 3, 0);
    for (const key_op& o : ops_) {
      if (o.is_get()) {
        ++gets_left[slot(o.value)];
      } else {
        ++writers_left[slot(o.effect)];
      }
    }
    const auto count_left = [&](const key_op& o, int delta) {
      auto& left = o.is_get() ? gets_left[slot(o.value)] : writers_left[slot(o.effect)];
      left = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(left) + delta);
    };
    const auto writes_blocked = [&] {
      return state != unobserved && gets_left[slot(state)] > 0 && writers_left[slot(state)] == 0;
    };

    // When no move is forced, the candidates worth trying are writes (no
    // candidate get returns the current value, or it would be forced), and
    // of those in one class (leaving the same state) only the one that
    // responded first (ties: the lower index). Given a linearization from here that starts
    // with another one, X, swapping X with that first responder Y gives
    // another: the states are the same; whatever had to precede either is
    // already linearized (both are candidates); and whatever had to follow
    // X (invoked after X responded) was invoked after Y responded too, so
    // it came after Y's old place, where X now is. (An op that never
    // returned responds last; if Y never appears in that linearization,
    // neither returned, and Y replaces X.) So k such candidates cost k
    // configurations instead of 2^k. Sorted by response, the first of each
    // class is kept; they are then tried in that order, which is the order
    // a store usually applies writes in, so the search rarely backtracks.
    std::vector<event*> pool;  // every level's candidates, stacked
    std::vector<char> class_taken(classes_, 0);
    const auto push_candidates = [&] {
      const std::size_t begin = pool.size();
      for (event* e = head->next; e != nullptr && e->is_call; e = e->next) {
        if (!ops_[static_cast<std::size_t>(e->op)].is_get()) pool.push_back(e);
      }
      const auto response_then_index = [&](const event* a, const event* b) {
        const auto ra = ops_[static_cast<std::size_t>(a->op)].op->response;
        const auto rb = ops_[static_cast<std::size_t>(b->op)].op->response;
        return ra != rb ? ra < rb : a->op < b->op;
      };
      std::sort(pool.begin() + static_cast<std::ptrdiff_t>(begin), pool.end(), response_then_index);
      std::size_t kept = begin;
      for (std::size_t i = begin; i < pool.size(); ++i) {
        const std::size_t c = ops_[static_cast<std::size_t>(pool[i]->op)].equivalence_class;
        if (class_taken[c]) continue;
        class_taken[c] = 1;
        pool[kept++] = pool[i];
      }
      pool.resize(kept);
      for (std::size_t i = begin; i < kept; ++i) {
        class_taken[ops_[static_cast<std::size_t>(pool[i]->op)].equivalence_class] = 0;
      }
    };

    // One level per configuration on the current path: its candidates (a
    // range of the pool), the next one to try, and the move that led on.
    struct level {
      std::size_t begin, end, next;
      bool forced;
      event* chosen = nullptr;
      register_value before = absent;
    };
    std::vector<level> levels;
    const auto open_level = [&] {
      level l{pool.size(), 0, pool.size(), false};
      if (event* f = forced_move(); f != nullptr) {
        pool.push_back(f);
        l.forced = true;
      } else if (!writes_blocked()) {
        push_candidates();
      }
      l.end = pool.size();
      levels.push_back(l);
    };

    op_set linearized(n);
    std::unordered_set<configuration, configuration_hash, configuration_equal> seen;
    dead_end deepest;  // for the explanation

    open_level();
    while (completed_left > 0) {
      level& l = levels.back();
      if (l.next == l.end) {
        // No way on from this configuration. The first pending return is
        // the operation that had to take effect and could not.
        const std::size_t depth = levels.size() - 1;
        if (deepest.op < 0 || depth > deepest.depth) {
          event* first_return = head->next;
          while (first_return->is_call) first_return = first_return->next;
          deepest = {depth, first_return->op, depth == 0 ? -1 : levels[depth - 1].chosen->op, state, -1, {}, 0};
          for (event* e = head->next; e != first_return; e = e->next) {
            if (e->op == deepest.op) continue;
            ++deepest.candidate_count;
            if (deepest.candidates.size() < 6) deepest.candidates.push_back(e->op);
          }
          if (writes_blocked()) {  // name one of the stranded gets (unlinearized, so still listed)
            for (event* e = first_return; e != nullptr && deepest.stranded_get < 0; e = e->next) {
              const key_op& o = ops_[static_cast<std::size_t>(e->op)];
              if (e->is_call && o.is_get() && o.value == state) deepest.stranded_get = e->op;
            }
          }
        }
        pool.resize(l.begin);
        levels.pop_back();
        if (levels.empty()) {
          return {verdict::not_linearizable, explain(deepest), seen.size()};
        }
        level& parent = levels.back();
        state = parent.before;
        linearized.flip(static_cast<std::size_t>(parent.chosen->op));
        restore(parent.chosen);
        count_left(ops_[static_cast<std::size_t>(parent.chosen->op)], +1);
        if (ops_[static_cast<std::size_t>(parent.chosen->op)].returned) ++completed_left;
        if (parent.forced) parent.next = parent.end;  // the forced move failed: so does everything here
        continue;
      }
      event* e = pool[l.next++];
      const auto op = static_cast<std::size_t>(e->op);
      const key_op& o = ops_[op];
      const register_value before = state;
      if (!o.is_get()) state = o.effect;
      linearized.flip(op);
      configuration c{linearized.full_words(), linearized.tail(), state, linearized.hash()};
      c.hash ^= mix64(static_cast<std::uint64_t>(static_cast<std::int64_t>(state)) + 0x51ed);
      if (!seen.insert(std::move(c)).second) {
        // Explored from there before, and it failed.
        state = before;
        linearized.flip(op);
        if (l.forced) l.next = l.end;  // ... which dooms this configuration too
        continue;
      }
      if (options_.max_states_per_key != 0 && seen.size() > options_.max_states_per_key) {
        return {verdict::unknown,
                prefix() + "gave up after exploring " + std::to_string(seen.size()) +
                    " states (max_states_per_key); no verdict",
                seen.size()};
      }
      l.chosen = e;
      l.before = before;
      lift(e);
      count_left(o, -1);
      if (o.returned) --completed_left;
      open_level();
    }
    return {verdict::linearizable, {}, seen.size()};
  }

  std::string explain(const dead_end& d) const {
    if (d.op < 0) return prefix() + "not linearizable";  // (the search always records where it got stuck)
    const operation& stuck = *ops_[static_cast<std::size_t>(d.op)].op;
    std::ostringstream s;
    s << prefix() << "not linearizable. The search linearized at most " << d.depth << " of " << ops_.size() << " ops";
    if (d.last_linearized >= 0)
      s << " (the last: " << describe(*ops_[static_cast<std::size_t>(d.last_linearized)].op) << ")";
    s << "; the register then holds " << value_text(d.state);
    if (d.stranded_get >= 0) {
      s << ", which " << describe(*ops_[static_cast<std::size_t>(d.stranded_get)].op)
        << " has yet to read and no remaining write restores";
    }
    s << ", and " << describe(stuck) << " must take effect before its response at " << stuck.response << " but cannot";
    if (d.candidate_count == 0) {
      s << "; no other op was pending then.";
    } else {
      s << "; none of the " << d.candidate_count << " other ops invoked before then leads to a linearization:";
      for (int c : d.candidates) s << "\n  " << describe(*ops_[static_cast<std::size_t>(c)].op);
      if (d.candidate_count > d.candidates.size()) s << "\n  ...";
    }
    return s.str();
  }

  const std::string& key_;
  const check_options& options_;
  std::vector<key_op> ops_;
  std::vector<std::string> values_;
  std::vector<const operation*> first_writer_;
  register_value initial_ = absent;
  std::size_t classes_ = 0;
};

}  // namespace

std::ostream& operator<<(std::ostream& out, verdict v) {
  switch (v) {
    case verdict::linearizable:
      return out << "linearizable";
    case verdict::not_linearizable:
      return out << "not linearizable";
    case verdict::unknown:
      return out << "unknown";
  }
  return out << "verdict(" << static_cast<int>(v) << ")";
}

std::string describe(const operation& op) {
  std::ostringstream s;
  switch (op.kind) {
    case op_kind::put:
      s << "put(" << quoted(op.key) << ", " << (op.value ? quoted(*op.value) : "?") << ")";
      break;
    case op_kind::erase:
      s << "erase(" << quoted(op.key) << ")";
      break;
    case op_kind::get:
      s << "get(" << quoted(op.key) << ") -> " << (op.value ? quoted(*op.value) : "absent");
      break;
  }
  s << " @[" << op.invoke << ",";
  if (op.response == never_returned) {
    s << "never returned]";
  } else {
    s << op.response << "]";
  }
  return s.str();
}

check_result check(const std::vector<operation>& history, const check_options& options) {
  // Ordered by key, so that the verdict (which key is reported first) does
  // not depend on recording order.
  std::map<std::string, std::vector<const operation*>> by_key;
  for (const operation& op : history) {
    if (op.kind == op_kind::get && op.response == never_returned) continue;  // it constrains nothing
    by_key[op.key].push_back(&op);
  }
  check_result result;
  for (auto& [key, ops] : by_key) {
    result.operations += ops.size();
    result.max_key_operations = std::max(result.max_key_operations, ops.size());
    ++result.keys;
    key_checker checker(key, std::move(ops), options);
    key_result r = checker.run();
    result.states_explored += r.states;
    if (r.outcome != verdict::linearizable) {
      result.outcome = r.outcome;
      result.explanation = std::move(r.explanation);
      break;
    }
  }
  return result;
}

}  // namespace strata::testing::linearizability
