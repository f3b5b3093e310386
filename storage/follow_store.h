#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/follow_records.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"
#include "storage/storage_errc.h"

namespace tidegate::storage {

/// Reads of the follow index (follows, topic_meta). Writes go through write_batch::puts and
/// write_batch::erases (the storage_writer), made by the topic actor that owns the topic, so
/// a topic's follower count and its follows change together. Every call is one read
/// transaction that ends in it. Thread-safe; `env` must outlive it.
class follow_store {
 public:
  explicit follow_store(const lmdb_env& env) : env_(env) {}

  /// Up to `limit` topics `user` follows, in key order (shorter names first, then bytewise).
  storage_result<std::vector<std::pair<std::string, follow>>> topics_of(uint16_t user_shard,
                                                                        const std::string& user,
                                                                        size_t limit) const;

  /// The user's follow of `topic`; nullopt if the user does not follow it.
  storage_result<std::optional<follow>> follow_of(uint16_t user_shard, const std::string& user,
                                                  const std::string& topic) const;

  /// The topic's meta (followers 0 for a topic nobody ever followed).
  storage_result<topic_meta> meta_of(uint16_t topic_shard, const std::string& topic) const;

  /// Every entry of one shard in `table` (follows or topic_meta), as puts that write them
  /// again: what a new replica of the shard is sent (its catch-up).
  storage_result<std::vector<table_put>> shard_entries(delivery_table table, uint16_t shard) const;

 private:
  const lmdb_env& env_;
};

}  // namespace tidegate::storage
