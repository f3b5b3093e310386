#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"
#include "storage/temp_dir.h"

namespace tidegate::storage {

/// A real LMDB environment in a fresh temp dir per test (tests only).
class StoreTest : public ::testing::Test {
 public:
  ~StoreTest() override = default;

 protected:
  void SetUp() override { open({}); }

  /// (Re)opens the environment in the same directory with `options`.
  void open(env_options options) {
    store_.reset();
    env_.reset();
    if (options.mode == durability::fsync && !durable_) {
      options.mode = durability::periodic;  // faster; durability tests ask for fsync
    }
    auto env = lmdb_env::open(dir_.path(), options);
    ASSERT_TRUE(env) << env.error().detail;
    env_ = std::move(*env);
    store_ = std::make_unique<oplog_store>(*env_);
  }

  static oplog_record record(const std::string& owner, uint64_t version, uint64_t created_at_ms = 0,
                             std::string payload = "p", uint8_t bucket = 1) {
    oplog_record r;
    r.bucket = bucket;
    r.owner = owner;
    r.version = version;
    r.business = "chat";
    r.payload = std::move(payload);
    r.msg_id = "m" + std::to_string(version);
    r.created_at_ms = created_at_ms;
    return r;
  }

  /// Appends versions [from, to] of `owner` (shard 0, bucket 1) in one batch.
  storage_status append(const std::string& owner, uint64_t from, uint64_t to,
                        uint64_t created_at_ms = 0) {
    write_batch batch;
    for (auto v = from; v <= to; ++v) {
      batch.appends.push_back({0, record(owner, v, created_at_ms + v)});
    }
    return store_->apply(batch);
  }

  uint64_t head_of(const std::string& owner, uint8_t bucket = 1) {
    auto h = store_->head(0, bucket, owner);
    EXPECT_TRUE(h);
    return h ? *h : 0;
  }

  uint64_t watermark_of(const std::string& owner, uint8_t bucket = 1) {
    auto lw = store_->low_watermark(0, bucket, owner);
    EXPECT_TRUE(lw);
    return lw ? *lw : 0;
  }

  temp_dir dir_;
  bool durable_ = false;
  std::unique_ptr<lmdb_env> env_;
  std::unique_ptr<oplog_store> store_;
};

}  // namespace tidegate::storage
