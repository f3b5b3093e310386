#include "actors/sync/storage_writer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"

namespace tidegate::actors {
namespace {

using clock_type = std::chrono::steady_clock;

/// One write request, as the writer thread queues it.
struct queued_write {
  uint64_t id = 0;
  storage::write_batch batch;
  size_t ops = 0;     // appends, dedupes and deletes of `batch`
  size_t weight = 1;  // max(ops, 1): what max_batch_ops counts
  clock_type::time_point queued_at;
};

/// The outcome of one request: an empty error means committed.
struct write_outcome {
  uint64_t id = 0;
  caf::error error;
};

/// What the writer thread sends its facade after each group commit, and once when it stops.
struct commit_report {
  std::vector<write_outcome> outcomes;
  bool final = false;  // the thread has stopped: no report follows
};

}  // namespace
}  // namespace tidegate::actors

// Local only: the writer thread and its facade live in one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::commit_report)

namespace tidegate::actors {
namespace {

size_t ops_of(const storage::write_batch& batch) {
  return batch.appends.size() + batch.dedupes.size() + batch.deletes.size() + batch.puts.size();
}

template <class T>
void move_append(std::vector<T>& to, std::vector<T>& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

template <class T>
std::vector<T> move_range(std::vector<T>& from, size_t begin, size_t end) {
  return {std::make_move_iterator(from.begin() + static_cast<ptrdiff_t>(begin)),
          std::make_move_iterator(from.begin() + static_cast<ptrdiff_t>(end))};
}

caf::error to_error(const storage::storage_status& status) {
  return status ? to_caf_error(*status) : caf::error{};
}

/// The write side of the store and the queue feeding it, shared by the writer thread and its
/// owner (writer_thread): the thread keeps it alive until it returns, whatever happens first.
/// The queue and stop flags are guarded by mu_; the rest belongs to the thread alone, except
/// the stats, which are atomics any thread may read.
class writer_core {
 public:
  writer_core(storage::lmdb_env& env, storage::oplog_store& store, writer_config cfg,
              caf::actor_addr facade)
      : env_(env), store_(store), cfg_(std::move(cfg)), facade_(std::move(facade)) {}

  /// Queues a request for the next group commit.
  void push(uint64_t id, storage::write_batch batch) {
    queued_write w;
    w.id = id;
    w.ops = ops_of(batch);
    w.weight = std::max<size_t>(w.ops, 1);
    w.batch = std::move(batch);
    w.queued_at = clock_type::now();
    {
      std::lock_guard<std::mutex> guard(mu_);
      queued_ops_ += w.weight;
      queue_.push_back(std::move(w));
    }
    cv_.notify_one();
  }

  /// Asks the thread to finish its current commit, fail the queued requests and return.
  /// `orphaned`: nobody joins it, so it must not touch the environment any more.
  void stop(bool orphaned) {
    {
      std::lock_guard<std::mutex> guard(mu_);
      stop_ = true;
      orphaned_ = orphaned_ || orphaned;
    }
    cv_.notify_one();
  }

  /// The retention the next maintenance run enforces (any thread).
  void set_retention(retention_list next) {
    std::lock_guard<std::mutex> guard(mu_);
    next_retention_ = std::move(next);
  }

  writer_stats stats() const {
    writer_stats s;
    s.acked = acked_.load();
    s.failed = failed_.load();
    s.ops = ops_.load();
    s.groups = groups_.load();
    s.commits = commits_.load();
    s.fallbacks = fallbacks_.load();
    s.syncs = syncs_.load();
    s.sync_failures = sync_failures_.load();
    return s;
  }

  /// The writer thread's loop.
  void run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (queue_.empty() && !stop_) {
        if (cv_.wait_until(lock, next_maintenance_) == std::cv_status::timeout) {
          lock.unlock();
          housekeeping();
          lock.lock();
        }
      }
      if (stop_) {
        break;
      }
      if (cfg_.max_delay_us > 0) {  // linger for followers, bounded by time and count
        auto deadline = queue_.front().queued_at + std::chrono::microseconds(cfg_.max_delay_us);
        cv_.wait_until(lock, deadline,
                       [this] { return stop_ || queued_ops_ >= cfg_.max_batch_ops; });
        if (stop_) {
          break;  // nothing of this group started: it fails with the rest of the queue
        }
      }
      auto group = take_group();
      lock.unlock();
      report(commit_group(group), false);
      lock.lock();
      if (orphaned_) {
        break;  // the report ended the facade (see ~writer_thread): the environment may be gone
      }
      lock.unlock();
      housekeeping();  // busy writers trim on time too
      lock.lock();
    }
    std::deque<queued_write> rest;
    rest.swap(queue_);
    queued_ops_ = 0;
    bool orphaned = orphaned_;
    lock.unlock();
    std::vector<write_outcome> outcomes;
    outcomes.reserve(rest.size());
    for (auto& w : rest) {
      outcomes.push_back({w.id, caf::make_error(storage_writer_errc::stopped)});
    }
    failed_ += outcomes.size();
    if (!orphaned) {
      stop_syncer();
      if (unsynced_.exchange(false)) {
        sync_now();
      }
    }
    report(std::move(outcomes), true);
  }

  /// The periodic sync's loop (durability::periodic), on a thread of its own: env.sync()
  /// blocks for as long as the disk takes to write what the last interval dirtied (tens of
  /// ms under load), and commits go on meanwhile instead of queueing behind it. LMDB's
  /// mdb_env_sync takes no lock: it only flushes what is already committed.
  void run_syncer() {
    std::unique_lock<std::mutex> lock(sync_mu_);
    for (;;) {
      sync_cv_.wait_for(lock, std::chrono::milliseconds(cfg_.sync_interval_ms),
                        [this] { return sync_stop_; });
      if (sync_stop_) {
        return;
      }
      if (unsynced_.exchange(false)) {
        lock.unlock();
        sync_now();
        lock.lock();
      }
    }
  }

  /// Ends run_syncer() after its current sync (idempotent; any thread).
  void stop_syncer() {
    {
      std::lock_guard<std::mutex> guard(sync_mu_);
      sync_stop_ = true;
    }
    sync_cv_.notify_one();
  }

 private:
  // Requests in arrival order up to max_batch_ops (at least one). Called under mu_.
  std::vector<queued_write> take_group() {
    std::vector<queued_write> group;
    size_t taken = 0;
    while (!queue_.empty()) {
      auto weight = queue_.front().weight;
      if (!group.empty() && taken + weight > cfg_.max_batch_ops) {
        break;
      }
      // A merged batch applies every truncate first: one is only merged as the group's
      // first request, so that it never goes before an append an earlier request made.
      if (!group.empty() && !queue_.front().batch.truncates.empty()) {
        break;
      }
      taken += weight;
      group.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_ops_ -= taken;
    return group;
  }

  // Commits `group` in one transaction if it can, else as much of it as is good.
  std::vector<write_outcome> commit_group(std::vector<queued_write>& group) {
    if (cfg_.before_commit) {
      cfg_.before_commit();
    }
    ++groups_;
    std::vector<write_outcome> outcomes;
    outcomes.reserve(group.size());
    if (group.size() == 1) {
      auto status = store_.apply_growing(group.front().batch);
      outcomes.push_back({group.front().id, to_error(status)});
      count(outcomes, group, !status ? 1 : 0);
      return outcomes;
    }
    // Move every request's entries into one batch, remembering where each one's end. The
    // merged batch applies truncates (only the first request has any, take_group()), rebases,
    // appends, then dedupes, deletes, puts and erases: the same result as applying the
    // requests one by one, unless a request deletes an op a later one appends, which no caller
    // does (an op is deleted only once delivered, so after its append was acked), or a rebase
    // passes an append of an earlier request (then the group falls back to one by one, below).
    struct ends {
      size_t appends, dedupes, deletes, puts, erases, rebases, truncates;
    };
    storage::write_batch merged;
    std::vector<ends> bounds;
    bounds.reserve(group.size());
    for (auto& w : group) {
      move_append(merged.appends, w.batch.appends);
      move_append(merged.dedupes, w.batch.dedupes);
      move_append(merged.deletes, w.batch.deletes);
      move_append(merged.puts, w.batch.puts);
      move_append(merged.erases, w.batch.erases);
      move_append(merged.rebases, w.batch.rebases);
      move_append(merged.truncates, w.batch.truncates);
      bounds.push_back({merged.appends.size(), merged.dedupes.size(), merged.deletes.size(),
                        merged.puts.size(), merged.erases.size(), merged.rebases.size(),
                        merged.truncates.size()});
    }
    auto status = store_.apply_growing(merged);
    if (!status) {
      for (auto& w : group) {
        outcomes.push_back({w.id, caf::error{}});
      }
      count(outcomes, group, 1);
      return outcomes;
    }
    auto code = status->code;
    if (code != storage::storage_errc::version_conflict
        && code != storage::storage_errc::bad_record) {
      // map_full (even after growing), io, corrupt, other: the transaction was aborted, so
      // nothing of any request was written and every request fails. The callers must not ack
      // anything of them: a later request may depend on an earlier one of the same group.
      auto err = to_caf_error(*status);
      for (auto& w : group) {
        outcomes.push_back({w.id, err});
      }
      count(outcomes, group, 0);
      return outcomes;
    }
    // One request is bad: apply them one by one (in order), so that it fails alone. A failed
    // apply left `merged` as it was, so each request's entries are still in their ranges.
    ++fallbacks_;
    uint64_t commits = 0;
    ends from{0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < group.size(); ++i) {
      storage::write_batch one;
      one.appends = move_range(merged.appends, from.appends, bounds[i].appends);
      one.dedupes = move_range(merged.dedupes, from.dedupes, bounds[i].dedupes);
      one.deletes = move_range(merged.deletes, from.deletes, bounds[i].deletes);
      one.puts = move_range(merged.puts, from.puts, bounds[i].puts);
      one.erases = move_range(merged.erases, from.erases, bounds[i].erases);
      one.rebases = move_range(merged.rebases, from.rebases, bounds[i].rebases);
      one.truncates = move_range(merged.truncates, from.truncates, bounds[i].truncates);
      from = bounds[i];
      auto one_status = store_.apply_growing(one);
      if (!one_status) {
        ++commits;
      }
      outcomes.push_back({group[i].id, to_error(one_status)});
    }
    count(outcomes, group, commits);
    return outcomes;
  }

  void count(const std::vector<write_outcome>& outcomes, const std::vector<queued_write>& group,
             uint64_t commits) {
    for (size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes[i].error) {
        ++failed_;
      } else {
        ++acked_;
        ops_ += group[i].ops;  // (the batches themselves may have been moved out)
      }
    }
    commits_ += commits;
    if (commits > 0 && env_.mode() == storage::durability::periodic) {
      unsynced_ = true;
    }
  }

  // Runs retention when it is due. Thread only.
  void housekeeping() {
    if (clock_type::now() >= next_maintenance_) {
      maintain();
    }
  }

  // Deletes expired dedupe entries and ops beyond each bucket's retention, bounded per run.
  // Failures are logged and retried next run: retention is never needed for correctness.
  void maintain() {
    next_maintenance_ = clock_type::now() + std::chrono::milliseconds(cfg_.maintenance_interval_ms);
    auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
    {
      std::lock_guard<std::mutex> guard(mu_);
      if (next_retention_) {
        retention_ = std::move(*next_retention_);
        next_retention_.reset();
      }
    }
    bool deleted = false;
    if (auto expired = store_.expire_dedupe(now_ms, cfg_.max_maintenance_deletes)) {
      deleted = *expired > 0;
    } else {
      std::cerr << "tidegate: storage_writer: dedupe expiry: " << expired.error().detail << "\n";
    }
    if (cfg_.receipt_ttl_ms != 0 || cfg_.dead_letter_ttl_ms != 0) {
      storage::delivery_expiry rule;
      rule.receipts_before_ms = cfg_.receipt_ttl_ms != 0 && now_ms > cfg_.receipt_ttl_ms
                                    ? now_ms - cfg_.receipt_ttl_ms
                                    : 0;
      rule.dead_letters_before_ms = cfg_.dead_letter_ttl_ms != 0 && now_ms > cfg_.dead_letter_ttl_ms
                                        ? now_ms - cfg_.dead_letter_ttl_ms
                                        : 0;
      if (auto expired =
              store_.expire_delivery(rule, cfg_.max_maintenance_deletes, delivery_cursor_)) {
        deleted = deleted || *expired > 0;
      } else {
        std::cerr << "tidegate: storage_writer: delivery expiry: " << expired.error().detail
                  << "\n";
      }
    }
    for (const auto& [bucket, policy] : retention_) {
      auto stats = store_.compact(bucket, policy, now_ms, cfg_.max_maintenance_deletes,
                                  compact_cursors_[bucket]);
      if (!stats) {
        std::cerr << "tidegate: storage_writer: retention of bucket " << int{bucket} << ": "
                  << stats.error().detail << "\n";
        continue;
      }
      deleted = deleted || stats->deleted > 0;
    }
    if (deleted && env_.mode() == storage::durability::periodic) {
      unsynced_ = true;
    }
  }

  // Flushes the commits made since the last sync (periodic mode; the syncer thread, or the
  // writer thread once the syncer stopped). In that mode an ack means "committed to the OS":
  // a process crash loses nothing, but a machine crash or power loss loses what was acked
  // since the last successful sync (at most ~sync_interval_ms of acks, plus one sync's time).
  void sync_now() {
    auto err = env_.sync();
    ++syncs_;
    if (err) {
      ++sync_failures_;
      unsynced_ = true;  // retried on the next interval
      std::cerr << "tidegate: storage_writer: sync failed (" << storage::to_string(err->code)
                << ": " << err->detail << "); retrying in " << cfg_.sync_interval_ms << " ms\n";
    }
    if (cfg_.after_sync) {
      cfg_.after_sync();
    }
  }

  void report(std::vector<write_outcome> outcomes, bool final) {
    // A weak handle: the facade owns this thread, never the other way round. If the facade is
    // gone, the report is dropped and the facade's destructor failed its requests.
    if (auto facade = caf::actor_cast<caf::actor>(facade_)) {
      caf::anon_send(facade, committed_atom_v, commit_report{std::move(outcomes), final});
    }
  }

  storage::lmdb_env& env_;
  storage::oplog_store& store_;
  const writer_config cfg_;
  const caf::actor_addr facade_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<queued_write> queue_;  // guarded by mu_
  size_t queued_ops_ = 0;           // guarded by mu_: the weights in queue_
  bool stop_ = false;               // guarded by mu_
  bool orphaned_ = false;           // guarded by mu_

  clock_type::time_point next_maintenance_ = clock_type::now();  // thread only
  std::optional<retention_list> next_retention_;                 // guarded by mu_
  std::map<uint8_t, storage::compact_cursor> compact_cursors_;   // thread only
  retention_list retention_ = cfg_.retention;
  storage::delivery_expiry_cursor delivery_cursor_;  // thread only

  // Periodic mode: commits since the last sync; set by the writer, taken by whoever syncs.
  std::atomic<bool> unsynced_{false};
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool sync_stop_ = false;  // guarded by sync_mu_

  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> ops_{0};
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> fallbacks_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> sync_failures_{0};
};

/// Starts the writer thread; stops and joins it on destruction (after its current commit).
/// In durability::periodic mode also a syncer thread, joined first.
class writer_thread {
 public:
  writer_thread(storage::lmdb_env& env, storage::oplog_store& store, writer_config cfg,
                caf::actor_addr facade)
      : core_(std::make_shared<writer_core>(env, store, std::move(cfg), std::move(facade))),
        thread_([core = core_] { core->run(); }) {
    if (env.mode() == storage::durability::periodic) {
      syncer_ = std::thread([core = core_] { core->run_syncer(); });
    }
  }

  ~writer_thread() {
    core_->stop_syncer();
    if (syncer_.joinable()) {
      syncer_.join();  // after its current sync: it touches the environment no more
    }
    if (thread_.get_id() == std::this_thread::get_id()) {
      // The thread's own report released the last handle to the facade: it cannot join
      // itself, so it finishes alone (holding core_) without touching the environment again.
      core_->stop(true);
      thread_.detach();
      return;
    }
    core_->stop(false);
    thread_.join();
  }
  writer_thread(const writer_thread&) = delete;
  writer_thread& operator=(const writer_thread&) = delete;

  writer_core& core() { return *core_; }

 private:
  std::shared_ptr<writer_core> core_;
  std::thread thread_;
  std::thread syncer_;
};

struct writer_state {
  static inline const char* name = "tidegate.storage_writer";
  std::unique_ptr<writer_thread> worker;
  std::unordered_map<uint64_t, caf::response_promise> pending;  // request id -> its requester
  uint64_t next_id = 1;
  caf::error exit_reason;  // non-empty once stopping: new writes fail at once
  std::function<caf::error(const storage::write_batch&)> refuse;  // writer_config::refuse

  writer_state() = default;
  writer_state(const writer_state&) = delete;
  writer_state& operator=(const writer_state&) = delete;

  // Runs when the facade exits in any way, e.g. killed without the graceful stop: joins the
  // thread, then fails whatever was not answered. A request whose report was still in flight
  // may have been committed; it fails too (never a false ack; callers retry idempotently).
  ~writer_state() {
    worker.reset();
    for (auto& [id, promise] : pending) {
      promise.deliver(caf::make_error(storage_writer_errc::stopped));
    }
  }
};

using writer_actor = caf::stateful_actor<writer_state>;

void on_report(writer_actor* self, commit_report& report) {
  auto& st = self->state;
  for (auto& outcome : report.outcomes) {
    auto i = st.pending.find(outcome.id);
    if (i == st.pending.end()) {
      continue;
    }
    if (outcome.error) {
      i->second.deliver(std::move(outcome.error));
    } else {
      // A message holding caf::unit: requesters take a caf::unit_t (an empty message, what
      // deliver(caf::unit) sends in 0.17.6, would not match such a handler).
      i->second.deliver(caf::make_message(caf::unit));
    }
    st.pending.erase(i);
  }
  if (report.final) {
    self->quit(st.exit_reason ? st.exit_reason : caf::make_error(storage_writer_errc::stopped));
  }
}

caf::behavior storage_writer(writer_actor* self, storage::lmdb_env* env,
                             storage::oplog_store* store, writer_config cfg) {
  self->state.refuse = cfg.refuse;
  self->state.worker =
      std::make_unique<writer_thread>(*env, *store, std::move(cfg), self->address());
  // Named while it runs (decision 0005); a newer writer's name is left alone.
  unname_on_exit(self, storage_writer_name);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (!msg.reason || st.exit_reason) {
      return;  // a linked actor finished normally (as CAF's default), or already stopping
    }
    // Quit only once the thread's final report is in: every request gets its true outcome.
    st.exit_reason = std::move(msg.reason);
    st.worker->core().stop(false);
  });
  return {
      [self](write_atom, storage::write_batch& batch) -> caf::result<caf::unit_t> {
        auto& st = self->state;
        if (st.exit_reason) {
          return caf::make_error(storage_writer_errc::stopped);
        }
        if (st.refuse) {
          if (auto err = st.refuse(batch)) {
            return err;
          }
        }
        auto id = st.next_id++;
        st.pending.emplace(id, self->make_response_promise());
        st.worker->core().push(id, std::move(batch));
        return st.pending.at(id);
      },
      [self](committed_atom, commit_report& report) { on_report(self, report); },
      [self](caf::get_atom) { return self->state.worker->core().stats(); },
      [self](reload_atom, retention_list& retention) {
        self->state.worker->core().set_retention(std::move(retention));
        return caf::ok_atom_v;
      },
  };
}

}  // namespace

caf::actor spawn_storage_writer(caf::actor_system& sys, storage::lmdb_env& env,
                                storage::oplog_store& store, writer_config cfg) {
  return name_actor(sys, storage_writer_name,
                    sys.spawn(storage_writer, &env, &store, std::move(cfg)));
}

}  // namespace tidegate::actors
