#include <gtest/gtest.h>

#include "storage/oplog_store.h"
#include "storage/store_test_fixture.h"

namespace tidegate::storage {
namespace {

using OplogRetentionTest = StoreTest;

TEST_F(OplogRetentionTest, TrimByCountAdvancesTheWatermarkAndResetsClientsBehindIt) {
  ASSERT_FALSE(append("u", 1, 10));
  EXPECT_EQ(*store_->trim(0, 1, "u", /*keep_count=*/4, /*min_created_at_ms=*/0), 6U);
  EXPECT_EQ(watermark_of("u"), 7U);
  EXPECT_EQ(head_of("u"), 10U);
  EXPECT_TRUE(store_->read_range(0, 1, "u", 5, 10, 1 << 20)->reset);  // 6 was trimmed
  auto page = store_->read_range(0, 1, "u", 6, 10, 1 << 20);          // 7 is the oldest kept
  ASSERT_TRUE(page);
  EXPECT_FALSE(page->reset);
  EXPECT_EQ(page->records.size(), 4U);
  EXPECT_EQ(page->records.front().version, 7U);
}

TEST_F(OplogRetentionTest, TrimByAgeStopsAtTheFirstOpKept) {
  ASSERT_FALSE(append("u", 1, 5, /*created_at_ms=*/100));  // created at 101..105
  EXPECT_EQ(*store_->trim(0, 1, "u", UINT64_MAX, /*min_created_at_ms=*/104), 3U);
  EXPECT_EQ(watermark_of("u"), 4U);
  EXPECT_EQ(store_->get(0, 1, "u", 4)->created_at_ms, 104U);
  EXPECT_EQ(*store_->trim(0, 1, "u", UINT64_MAX, 104), 0U);  // idempotent
  EXPECT_EQ(watermark_of("u"), 4U);
}

TEST_F(OplogRetentionTest, TrimmingEverythingKeepsTheHeadSoVersionsNeverRepeat) {
  ASSERT_FALSE(append("u", 1, 3));
  EXPECT_EQ(*store_->trim(0, 1, "u", 0, 0), 3U);
  EXPECT_EQ(watermark_of("u"), 4U);
  EXPECT_EQ(head_of("u"), 3U);
  EXPECT_FALSE(store_->read_range(0, 1, "u", 3, 10, 1 << 20)->reset);
  EXPECT_TRUE(store_->read_range(0, 1, "u", 2, 10, 1 << 20)->reset);
  EXPECT_TRUE(append("u", 1, 1));  // reuse after trim is still refused
  EXPECT_FALSE(append("u", 4, 4));
  EXPECT_EQ(watermark_of("u"), 4U);
}

TEST_F(OplogRetentionTest, CompactionIsBoundedAndResumesWhereItStopped) {
  for (const char* owner : {"a", "b", "c"}) {
    ASSERT_FALSE(append(owner, 1, 10));
  }
  retention_policy policy;
  policy.keep_count = 2;
  compact_cursor cursor;
  uint64_t deleted = 0;
  int calls = 0;
  for (;;) {
    auto stats = store_->compact(1, policy, 0, /*max_deletes=*/5, cursor);
    ASSERT_TRUE(stats) << stats.error().detail;
    EXPECT_LE(stats->deleted, 5U);
    EXPECT_LE(stats->owners_visited, 5U);
    deleted += stats->deleted;
    ++calls;
    if (stats->pass_complete) {
      break;
    }
    ASSERT_LT(calls, 20);
  }
  EXPECT_EQ(deleted, 24U);
  EXPECT_GE(calls, 5);
  for (const char* owner : {"a", "b", "c"}) {
    EXPECT_EQ(watermark_of(owner), 9U) << owner;
    EXPECT_EQ(store_->read_range(0, 1, owner, 8, 10, 1 << 20)->records.size(), 2U);
  }
  EXPECT_EQ(store_->compact(1, policy, 0, 5, cursor)->deleted, 0U);  // a second pass: nothing
}

TEST_F(OplogRetentionTest, CompactionByAgeLeavesOtherBucketsAlone) {
  ASSERT_FALSE(append("a", 1, 4, /*created_at_ms=*/1000));  // 1001..1004
  write_batch other;
  other.appends.push_back({0, record("a", 1, /*created_at_ms=*/1, "p", /*bucket=*/2)});
  ASSERT_FALSE(store_->apply(other));
  retention_policy policy;
  policy.max_age_ms = 100;
  compact_cursor cursor;
  auto stats = store_->compact(1, policy, /*now_ms=*/1103, 100, cursor);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->deleted, 2U);  // 1001 and 1002 are older than 1103 - 100
  EXPECT_TRUE(stats->pass_complete);
  EXPECT_EQ(watermark_of("a"), 3U);
  EXPECT_EQ(watermark_of("a", 2), 1U);
  EXPECT_TRUE(store_->get(0, 2, "a", 1));
}

TEST_F(OplogRetentionTest, OnceDeletionsAloneDoNotMoveTheWatermark) {
  ASSERT_FALSE(append("dev", 1, 3));
  write_batch ack;
  ack.deletes = {{0, 1, "dev", 1}, {0, 1, "dev", 2}, {0, 1, "dev", 3}};
  ASSERT_FALSE(store_->apply(ack));
  retention_policy policy;
  policy.keep_count = 10;
  compact_cursor cursor;
  EXPECT_EQ(store_->compact(1, policy, 0, 10, cursor)->deleted, 0U);
  EXPECT_EQ(watermark_of("dev"), 1U);
  EXPECT_FALSE(store_->read_range(0, 1, "dev", 0, 10, 1 << 20)->reset);
}

TEST_F(OplogRetentionTest, ACorruptRecordIsAnErrorValueNeverACrash) {
  ASSERT_FALSE(append("u", 1, 2));
  {
    auto txn = env_->begin_write();
    ASSERT_TRUE(txn);
    auto key = encode_oplog_key({0, 1, "u", 1});
    std::string junk = "\x07junk";
    MDB_val k{key.size(), key.data()};
    MDB_val v{junk.size(), junk.data()};
    ASSERT_EQ(mdb_put(txn->get(), env_->handles().oplog, &k, &v, 0), MDB_SUCCESS);
    ASSERT_FALSE(txn->commit());
  }
  EXPECT_EQ(store_->get(0, 1, "u", 1).error().code, storage_errc::bad_record);
  EXPECT_EQ(store_->read_range(0, 1, "u", 0, 10, 1 << 20).error().code, storage_errc::bad_record);
  EXPECT_EQ(store_->trim(0, 1, "u", UINT64_MAX, 50).error().code, storage_errc::bad_record);
  EXPECT_EQ(*store_->trim(0, 1, "u", 1, 0), 1U);  // by count it needs no decode
}

}  // namespace
}  // namespace tidegate::storage
