#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include <lmdb.h>

#include "storage/storage_errc.h"

namespace tidegate::storage {

struct mdb_env_deleter {
  void operator()(MDB_env* env) const { mdb_env_close(env); }
};
struct mdb_txn_deleter {
  void operator()(MDB_txn* txn) const { mdb_txn_abort(txn); }
};
struct mdb_cursor_deleter {
  void operator()(MDB_cursor* cursor) const { mdb_cursor_close(cursor); }
};
/// Owns an environment; closing it is the last thing that happens to it.
using env_ptr = std::unique_ptr<MDB_env, mdb_env_deleter>;
/// Owns a transaction: aborted on destruction unless released by a commit.
using txn_ptr = std::unique_ptr<MDB_txn, mdb_txn_deleter>;
/// Owns a cursor; must be destroyed before its transaction ends.
using cursor_ptr = std::unique_ptr<MDB_cursor, mdb_cursor_deleter>;

/// When a commit reaches the disk (DESIGN §11, docs/storage-layout.md).
enum class durability : uint8_t {
  fsync,     ///< Every commit fsyncs before it returns: an acked op survives a power loss.
  periodic,  ///< MDB_NOSYNC: commits reach the OS only; the writer calls sync() on a timer.
};

/// How to open the environment.
struct env_options {
  size_t map_size = size_t{64} << 20;     ///< Initial map size (bytes).
  size_t max_map_size = size_t{1} << 30;  ///< grow() refuses beyond this.
  unsigned max_dbs = 16;                  ///< Named DBIs: ours plus room for later ones.
  durability mode = durability::fsync;
};

/// The named databases, opened once per environment (handles live as long as it).
struct dbis {
  MDB_dbi oplog = 0;         ///< oplog key -> record.
  MDB_dbi dedupe = 0;        ///< dedupe key -> [u64 version][u64 expires_at_ms].
  MDB_dbi dedupe_exp = 0;    ///< [u64 expires_at_ms][dedupe key] -> empty (expiry order).
  MDB_dbi meta = 0;          ///< layout version, per-owner head and low watermark.
  MDB_dbi cursors = 0;       ///< cursor key -> device_cursor (delivery_records.h).
  MDB_dbi receipts = 0;      ///< receipt key -> receipt.
  MDB_dbi dead_letters = 0;  ///< dead letter key -> the rest of the dead letter.
  MDB_dbi follows = 0;       ///< follow key -> follow (follow_records.h).
  MDB_dbi topic_meta = 0;    ///< topic meta key -> topic_meta.
};

/// A transaction that also holds the environment's resize lock (shared) while it lives, so
/// grow() never runs under an open transaction. Destroying it aborts unless committed.
class lmdb_txn {
 public:
  lmdb_txn(std::shared_lock<std::shared_mutex> lock, txn_ptr txn)
      : lock_(std::move(lock)), txn_(std::move(txn)) {}
  MDB_txn* get() const { return txn_.get(); }
  /// Commits (and for a write transaction, in fsync mode, syncs); the transaction ends either way.
  storage_status commit();

 private:
  std::shared_lock<std::shared_mutex> lock_;  // released after txn_ ends (declared first)
  txn_ptr txn_;
};

/// One LMDB environment in a directory (one per node). Opened with MDB_NOTLS, since actors
/// change threads: read transactions may be used from any thread, one at a time, and must end
/// inside the call that began them (STYLE §6). Thread-safe; not movable.
class lmdb_env {
 public:
  /// Opens (creating `dir` and the DBIs if missing) and checks the layout version.
  static storage_result<std::unique_ptr<lmdb_env>> open(const std::string& dir,
                                                        const env_options& options);
  ~lmdb_env();
  lmdb_env(const lmdb_env&) = delete;
  lmdb_env& operator=(const lmdb_env&) = delete;

  /// Begins a read-only transaction.
  storage_result<lmdb_txn> begin_read() const;
  /// Begins the write transaction; LMDB serializes writers (the storage_writer is the only one).
  storage_result<lmdb_txn> begin_write() const;

  /// Flushes commits to disk (fsync); the `periodic` writer calls it on its timer. Blocks.
  storage_status sync() const;

  /// Sets the map size to `new_size` (at most max_map_size, else map_full). Waits for every
  /// open transaction of this environment to end; the caller must hold none (it deadlocks).
  storage_status grow(size_t new_size);
  /// The size grow() should try after MAP_FULL (double, capped), or 0 when at max_map_size.
  size_t next_map_size() const;
  size_t map_size() const;

  const dbis& handles() const { return dbis_; }
  MDB_env* get() const { return env_.get(); }
  durability mode() const { return options_.mode; }

 private:
  lmdb_env(env_ptr env, const env_options& options) : env_(std::move(env)), options_(options) {}
  storage_result<lmdb_txn> begin(unsigned flags) const;
  storage_status init_dbis();

  env_ptr env_;
  env_options options_;
  dbis dbis_;
  mutable std::shared_mutex resize_;  // shared: any transaction; exclusive: grow()
};

}  // namespace tidegate::storage
