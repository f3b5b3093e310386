#include "actors/sync/bucket_config.h"

#include <set>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

TEST(BucketConfigTest, DefaultsHaveEveryKindWithStableIds) {
  auto cfg = default_sync_config();
  ASSERT_EQ(cfg.buckets.size(), 6u);
  std::set<uint8_t> ids;
  for (const auto& b : cfg.buckets) {
    ids.insert(b.id);
    EXPECT_EQ(bucket_kind_from(b.name), b.kind);
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(cfg.bucket("user")->id, 1);
  EXPECT_EQ(cfg.bucket_of_business("push")->kind, bucket_kind::once);
  EXPECT_EQ(cfg.bucket_of_business("nope"), nullptr);
}

TEST(BucketConfigTest, ShardOfIsStableAndInRange) {
  EXPECT_EQ(shard_of("alice", 1024), shard_of("alice", 1024));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_LT(shard_of("user-" + std::to_string(i), 1024), 1024);
  }
  EXPECT_EQ(shard_of("anything", 1), 0);
  // The hash is part of every oplog key: pin it so it can never change by accident.
  EXPECT_EQ(shard_of("alice", 1024), 999);  // FNV-1a("alice") = 2267157479
}

}  // namespace
}  // namespace tidegate::actors
