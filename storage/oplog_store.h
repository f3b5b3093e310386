#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "storage/keys.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_record.h"
#include "storage/storage_errc.h"

namespace tidegate::storage {

/// Appends `record` (version already assigned) to the log of (shard, record.bucket, owner).
struct oplog_append {
  uint16_t shard = 0;
  oplog_record record;
};

/// Records `key` -> `value` in the idempotency index (overwriting any previous entry).
struct dedupe_insert {
  dedupe_key key;
  dedupe_value value;
};

/// The tables written by key: delivery state (delivery_records.h) and the follow index
/// (follow_records.h).
enum class delivery_table : uint8_t { cursors, receipts, dead_letters, follows, topic_meta };

/// Sets `key` -> `value` in one table (keys and values from delivery_records.h or
/// follow_records.h).
struct table_put {
  delivery_table table = delivery_table::cursors;
  std::string key;
  std::string value;
};

/// Deletes `key` from one table; deleting a missing key is not an error.
struct table_erase {
  delivery_table table = delivery_table::cursors;
  std::string key;
};

/// Moves an owner's log forward to `head` without its ops: the versions up to `head` count as
/// gone (the low watermark becomes head + 1), the next append is head + 1. A replica uses it
/// when its primary no longer keeps the ops it lacks (trimmed, or acked `once` ops). Applied
/// before the appends of its batch; a rebase to a head at or below the owner's is a no-op.
struct owner_rebase {
  uint16_t shard = 0;
  uint8_t bucket = 0;
  std::string owner;
  uint64_t head = 0;
};

/// Drops every op of an owner above `above`, with the idempotency entries that name one of
/// them and their receipts, and moves the owner's head back to `above` (when it was higher).
/// A replica uses it, on the word of its current primary, for ops that differ from the
/// primary's: a former primary's unacknowledged tail (decision 0022). The primary holds every
/// acknowledged op, so such ops were never acknowledged. Applied before everything else of
/// its batch.
struct owner_truncate {
  uint16_t shard = 0;
  uint8_t bucket = 0;
  std::string owner;
  uint64_t above = 0;
};

/// What the storage_writer commits in one transaction, all or nothing. Owner heads follow
/// from the appends (there is no separate head update to get wrong).
struct write_batch {
  std::vector<oplog_append> appends;  ///< Each continues its owner's head by exactly one.
  std::vector<dedupe_insert> dedupes;
  std::vector<oplog_key> deletes;         ///< `once` acks; deleting a missing op is not an error.
  std::vector<table_put> puts;            ///< Cursors, receipts, dead letters, follows; in order.
  std::vector<table_erase> erases;        ///< Applied after `puts`, in order.
  std::vector<owner_rebase> rebases;      ///< Applied first (after `truncates`).
  std::vector<owner_truncate> truncates;  ///< Applied before anything else.

  bool empty() const {
    return appends.empty() && dedupes.empty() && deletes.empty() && puts.empty() && erases.empty()
           && rebases.empty() && truncates.empty();
  }
};

/// What expire_delivery() deletes: state older than these times.
struct delivery_expiry {
  uint64_t receipts_before_ms = 0;
  uint64_t dead_letters_before_ms = 0;
};

/// Where the next expire_delivery() call resumes (opaque; the storage_writer keeps it).
struct delivery_expiry_cursor {
  std::string receipts;
  std::string dead_letters;
};

/// One page of an owner's log, oldest first.
struct oplog_page {
  std::vector<oplog_record> records;
  bool more = false;   ///< Records after the last one exist (a limit cut the page).
  bool reset = false;  ///< The client's version is not continuable: it must reset (no records).
};

/// An owner and its versions, as scan_heads finds them.
struct owner_head {
  owner_id id;
  owner_state state;
};

/// Per-bucket retention (DESIGN §5); an empty field does not limit.
struct retention_policy {
  std::optional<uint64_t> keep_count;  ///< Keep at most the newest N versions.
  std::optional<uint64_t> max_age_ms;  ///< Drop ops created more than this before now.
};

/// Where the next compact() call of a bucket resumes; default-constructed starts a pass.
/// Opaque to callers; the caller (the storage_writer) keeps one per bucket.
struct compact_cursor {
  std::string next_key;
};

/// What one compact() call did.
struct compact_stats {
  uint64_t deleted = 0;
  uint64_t owners_visited = 0;
  bool pass_complete = false;  ///< The walk reached the bucket's end; the cursor restarts.
};

/// The oplog, dedupe index and owner heads in one lmdb_env (docs/storage-layout.md). Reads
/// (const members) are thread-safe and each runs in a read transaction that ends before it
/// returns. Writes (non-const members) belong to the storage_writer alone: not thread-safe
/// among themselves. Borrows `env`, which must outlive it.
class oplog_store {
 public:
  explicit oplog_store(lmdb_env& env) : env_(env) {}

  /// Applies `batch` in one write transaction: everything or, on any error, nothing.
  /// `version_conflict` if an append does not continue its owner's head (no gap, no reuse);
  /// `map_full` if the map is full (see apply_growing).
  storage_status apply(const write_batch& batch);

  /// apply(), and on `map_full` grows the map (doubling, up to max_map_size) and retries.
  /// Blocks until concurrent readers of the environment finish when it grows.
  storage_status apply_growing(const write_batch& batch);

  /// Up to `max_ops` records after `after_version`, stopping before `max_bytes` of encoded
  /// records are exceeded (but at least one record). `reset` when versions after
  /// `after_version` were trimmed or `after_version` is ahead of the head.
  storage_result<oplog_page> read_range(uint16_t shard, uint8_t bucket, const std::string& owner,
                                        uint64_t after_version, size_t max_ops,
                                        size_t max_bytes) const;

  /// The newest version of the owner (0 if it has none).
  storage_result<uint64_t> head(uint16_t shard, uint8_t bucket, const std::string& owner) const;

  /// The oldest version that may still be stored (1 if nothing was trimmed).
  storage_result<uint64_t> low_watermark(uint16_t shard, uint8_t bucket,
                                         const std::string& owner) const;

  /// One op; `not_found` if it was never written, trimmed or deleted.
  storage_result<oplog_record> get(uint16_t shard, uint8_t bucket, const std::string& owner,
                                   uint64_t version) const;

  /// The version an earlier op with this idempotency key got, unless absent or expired
  /// (expires_at_ms <= now_ms counts as absent).
  storage_result<std::optional<uint64_t>> lookup_dedupe(uint8_t bucket, const std::string& business,
                                                        const std::string& owner,
                                                        const std::string& msg_id,
                                                        uint64_t now_ms) const;

  /// Every owner of (bucket, shard) with its head and low watermark: what a restarted
  /// sync_bucket continues from. One read transaction; the whole list is in memory.
  storage_result<std::vector<owner_head>> scan_heads(uint8_t bucket, uint16_t shard) const;

  /// Deletes the owner's oldest ops while more than `keep_count` versions remain or the op
  /// was created before `min_created_at_ms`; stops at the first op kept (a prefix, so no
  /// gap). Advances the low watermark. Returns how many ops were deleted.
  storage_result<uint64_t> trim(uint16_t shard, uint8_t bucket, const std::string& owner,
                                uint64_t keep_count, uint64_t min_created_at_ms);

  /// One bounded step of a bucket's retention: visits at most `max_deletes` owners from
  /// `cursor` and deletes at most `max_deletes` ops, as trim() with `policy` at `now_ms`.
  /// Updates `cursor` for the next call. One write transaction.
  storage_result<compact_stats> compact(uint8_t bucket, const retention_policy& policy,
                                        uint64_t now_ms, size_t max_deletes,
                                        compact_cursor& cursor);

  /// Deletes up to `max_deletes` dedupe entries with expires_at_ms <= now_ms, oldest first.
  storage_result<uint64_t> expire_dedupe(uint64_t now_ms, size_t max_deletes);

  /// One bounded step of delivery-state expiry: visits at most `max_visits` receipts and as
  /// many dead letters from `cursor`, deleting receipts last touched before
  /// rule.receipts_before_ms and dead letters that died before rule.dead_letters_before_ms.
  /// Updates `cursor`; returns how many entries it deleted. One write transaction.
  storage_result<uint64_t> expire_delivery(const delivery_expiry& rule, size_t max_visits,
                                           delivery_expiry_cursor& cursor);

 private:
  storage_result<owner_state> state_of(uint16_t shard, uint8_t bucket,
                                       const std::string& owner) const;

  lmdb_env& env_;
};

}  // namespace tidegate::storage
