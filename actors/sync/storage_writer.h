#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/sync/storage_errors.h"
#include "actors/sync/sync_messages.h"  // write_batch as a (local) message type
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"

namespace tidegate::actors {

/// Retention per bucket id (what maintenance enforces).
using retention_list = std::vector<std::pair<uint8_t, storage::retention_policy>>;

/// How the storage_writer groups and syncs its commits.
struct writer_config {
  /// A group commit takes queued requests until they hold this many ops (appends, dedupes
  /// and deletes together); a larger single request is committed alone.
  size_t max_batch_ops = 1024;
  /// 0: an idle writer commits a request at once and batches what queues up meanwhile
  /// (leader/follower). Above 0: it waits up to this long after the first queued request for
  /// more, unless max_batch_ops are queued first (more latency, bigger batches).
  uint32_t max_delay_us = 0;
  /// In durability::periodic mode: env.sync() this often while commits are unsynced.
  uint32_t sync_interval_ms = 100;
  /// Retention: every maintenance_interval_ms the thread deletes expired dedupe entries and,
  /// per bucket id listed here, ops beyond its policy (storage::oplog_store::compact), at most
  /// max_maintenance_deletes of each per run, so a run never holds the writer for long.
  retention_list retention;
  uint32_t maintenance_interval_ms = 1000;
  /// Receipts last touched longer ago than this are deleted (0: kept forever); dead letters
  /// that died longer ago than dead_letter_ttl_ms too. Each run visits at most
  /// max_maintenance_deletes of each.
  uint64_t receipt_ttl_ms = 0;
  uint64_t dead_letter_ttl_ms = 0;
  size_t max_maintenance_deletes = 1000;
  /// Why a batch is refused before it is queued (an error), or nothing: in a cluster, oplog
  /// writes of a shard sealed for a hand-off (node::sealed_write_fence()). Runs on the
  /// writer actor, in the order requests arrive: a batch it let through is committed before
  /// any request that arrives after it is answered. Empty: every batch is taken.
  std::function<caf::error(const storage::write_batch&)> refuse;
  /// Tests only: runs on the writer thread before each group commit (may block it).
  std::function<void()> before_commit;
  /// Tests only: runs after each periodic env.sync(), on the syncer thread (or the writer
  /// thread, for the last sync as it stops).
  std::function<void()> after_sync;
};

/// What the writer has done since it started; (caf::get_atom) answers with it.
struct writer_stats {
  uint64_t acked = 0;          ///< Requests answered with success (committed).
  uint64_t failed = 0;         ///< Requests answered with an error (nothing of them written).
  uint64_t ops = 0;            ///< Ops of acked requests.
  uint64_t groups = 0;         ///< Group commits attempted (one merged batch each).
  uint64_t commits = 0;        ///< Write transactions committed (fallbacks commit one each).
  uint64_t fallbacks = 0;      ///< Groups retried one request at a time after a bad request.
  uint64_t syncs = 0;          ///< env.sync() calls of durability::periodic mode.
  uint64_t sync_failures = 0;  ///< Of those, how many failed (logged on stderr).

  /// Acked requests per commit (0 before the first commit).
  double average_batch() const {
    return commits == 0 ? 0.0 : static_cast<double>(acked) / static_cast<double>(commits);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, writer_stats& x) {
  return f(caf::meta::type_name("writer_stats"), x.acked, x.failed, x.ops, x.groups, x.commits,
           x.fallbacks, x.syncs, x.sync_failures);
}

/// Why the storage_writer refused a request (storage failures are storage_errc errors).
/// The numbers travel inside caf::error: append only.
enum class storage_writer_errc : uint8_t {
  /// The writer stopped before answering: not acked. Nothing of the batch was written, unless
  /// the writer was killed while committing it (so it may be there: retry idempotently).
  stopped = 1,
};

/// Spawns the node's only LMDB writer: an actor facade in front of a dedicated thread that
/// owns the write side of `store` (commits and fsyncs never run on a CAF thread). `env` and
/// `store` (a store over `env`) must outlive the writer, i.e. its thread, which the facade
/// joins when it exits. The spawner stops it (an exit message) before the actor_system ends.
/// While it runs it is named storage_writer_name in the registry (storage_writer_of()).
///
/// Messages:
/// - (write_atom, storage::write_batch) -> caf::unit (a message holding one caf::unit_t),
///   once the batch is committed: fsync'ed in durability::fsync mode; in durability::periodic
///   mode committed to the OS and fsync'ed within ~sync_interval_ms, so a process crash loses
///   nothing acked but a machine crash or power loss can lose the acks of the last interval.
///   Requests commit in arrival order, several per transaction (group commit); a bad request
///   (version_conflict, bad_record) fails alone, any other storage error (map_full after
///   growing, io, corrupt) fails every request of its group. Errors are storage_errc
///   ("storage", nothing of the batch was written) or storage_writer_errc::stopped.
/// - (caf::get_atom) -> writer_stats.
/// - (reload_atom, retention_list) -> caf::ok_atom: the next maintenance run enforces these
///   policies instead (a config reload).
///
/// On an exit message with a reason the writer finishes its current commit, answers each
/// request it committed with success and each queued one with storage_writer_errc::stopped,
/// then exits with that reason. Killed (exit_reason::kill), it joins its thread and answers
/// every unanswered request with `stopped`, even one whose commit had just completed.
caf::actor spawn_storage_writer(caf::actor_system& sys, storage::lmdb_env& env,
                                storage::oplog_store& store, writer_config cfg);

}  // namespace tidegate::actors

CAF_ERROR_CODE_ENUM(tidegate::actors::storage_writer_errc, "writer")
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::retention_list)
