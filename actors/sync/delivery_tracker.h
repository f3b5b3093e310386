#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/sync/bucket_config.h"
#include "storage/delivery_store.h"
#include "storage/oplog_store.h"

namespace tidegate::actors {

/// Per-device delivery state of one (bucket, shard) (DESIGN §5): a cursor per device (what
/// it acked, what it was sent), the retry budget of unacked ops, dead letters, and receipts
/// of `once` ops. Plain C++ owned by the sync_bucket, which sends the puts it adds to a
/// write_batch to the storage_writer and reports back with settled() once that write is
/// answered. Reads go to storage, except for cursors with a write still in flight, which it
/// keeps in memory until then (so memory holds only what is being written). Not thread-safe.
/// `log`, `reads` and `bucket` must outlive it.
class delivery_tracker {
 public:
  delivery_tracker(const storage::oplog_store& log, const storage::delivery_store& reads,
                   uint16_t shard, const bucket_config* bucket)
      : log_(log), reads_(reads), shard_(shard), bucket_(bucket) {}

  void set_bucket(const bucket_config* bucket) { bucket_ = bucket; }

  /// `records` were read for `device` after version `after`; `first`: this read starts a
  /// SYNC_REQ (so `after` is the device's own cursor, and everything up to it is acked).
  /// When ops sent before are still unacked at such a read, it counts one retry; past the
  /// bucket's retry budget they become dead letters. Returns the version through which the
  /// page's ops are dead for this device (send them as skipped ops), or 0.
  uint64_t on_page(const std::string& owner, const std::string& device, uint64_t after, bool first,
                   const std::vector<storage::oplog_record>& records, uint64_t now_ms,
                   storage::write_batch& out);

  /// Versions [first, last] were pushed to `device` online.
  void on_pushed(const std::string& owner, const std::string& device, uint64_t first, uint64_t last,
                 uint64_t now_ms, storage::write_batch& out);

  /// `device` acked every version <= `version`; `acked_ops` are the versions of stored ops it
  /// covers (receipts of `once` buckets).
  void on_acked(const std::string& owner, const std::string& device, uint64_t version,
                const std::vector<uint64_t>& acked_ops, uint64_t now_ms, storage::write_batch& out);

  /// The cursor keys of `batch`'s puts: pass them to settled() once its write is answered.
  static std::vector<std::string> cursor_keys(const storage::write_batch& batch);

  /// The write that carried the puts of these cursors was answered (committed or not).
  void settled(const std::vector<std::string>& cursor_keys);

  /// Cursors held in memory (writes in flight).
  size_t pending() const { return pending_.size(); }

 private:
  struct pending_cursor {
    storage::device_cursor cursor;
    uint32_t writes = 0;  // puts of it in flight
  };

  storage::device_cursor load(const std::string& key, const std::string& owner,
                              const std::string& device) const;
  void store(const std::string& key, const storage::device_cursor& c, storage::write_batch& out);
  void dead_letter(const std::string& owner, const std::string& device,
                   const storage::device_cursor& c, uint64_t now_ms, storage::write_batch& out);
  void delivered(const std::string& owner, const std::string& device, uint64_t from, uint64_t to,
                 const std::vector<uint64_t>* versions, uint64_t now_ms, storage::write_batch& out);
  bool keeps_receipts() const { return deletes_on_ack(bucket_->kind); }

  const storage::oplog_store& log_;
  const storage::delivery_store& reads_;
  uint16_t shard_;
  const bucket_config* bucket_;
  std::unordered_map<std::string, pending_cursor> pending_;  // cursor key -> in flight
};

}  // namespace tidegate::actors
