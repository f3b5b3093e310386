#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/delivery_records.h"
#include "storage/lmdb_env.h"
#include "storage/storage_errc.h"

namespace tidegate::storage {

/// A page of one business's dead letters, oldest first.
struct dead_letter_page {
  std::vector<dead_letter> letters;
  std::string next;  ///< Pass as `after` for the next page; empty when this was the last.
};

/// Reads of the delivery tables (cursors, receipts, dead letters). Writes go through
/// write_batch::puts (the storage_writer). Every call is one read transaction that ends in
/// it. Thread-safe; `env` must outlive it.
class delivery_store {
 public:
  explicit delivery_store(const lmdb_env& env) : env_(env) {}

  /// One device's cursor in (shard, bucket, owner); nullopt if it never synced.
  storage_result<std::optional<device_cursor>> cursor(uint16_t shard, uint8_t bucket,
                                                      const std::string& owner,
                                                      const std::string& device) const;

  /// Every device cursor of (shard, bucket, owner), by device id.
  storage_result<std::vector<std::pair<std::string, device_cursor>>> cursors(
      uint16_t shard, uint8_t bucket, const std::string& owner) const;

  /// The receipts of one op, by device id.
  storage_result<std::vector<std::pair<std::string, receipt>>> receipts(uint16_t shard,
                                                                        uint8_t bucket,
                                                                        const std::string& owner,
                                                                        uint64_t version) const;

  /// One device's receipt of one op; nullopt if none.
  storage_result<std::optional<receipt>> receipt_of(uint16_t shard, uint8_t bucket,
                                                    const std::string& owner, uint64_t version,
                                                    const std::string& device) const;

  /// Up to `limit` dead letters of `business` after the key `after` (empty: from the oldest).
  storage_result<dead_letter_page> dead_letters(const std::string& business,
                                                const std::string& after, size_t limit) const;

 private:
  // Every entry of `dbi` under `prefix` ([...][str16 device] keys), decoded, by device.
  template <class T, class Decode>
  storage_result<std::vector<std::pair<std::string, T>>> by_device(MDB_dbi dbi,
                                                                   const std::string& prefix,
                                                                   Decode decode,
                                                                   const std::string& what) const;

  const lmdb_env& env_;
};

}  // namespace tidegate::storage
