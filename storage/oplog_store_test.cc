#include "storage/oplog_store.h"

#include <gtest/gtest.h>

#include "storage/delivery_records.h"
#include "storage/delivery_store.h"
#include "storage/store_test_fixture.h"

namespace tidegate::storage {
namespace {

using OplogStoreTest = StoreTest;

std::vector<uint64_t> versions(const oplog_page& page) {
  std::vector<uint64_t> out;
  for (const auto& r : page.records) {
    out.push_back(r.version);
  }
  return out;
}

TEST_F(OplogStoreTest, AppendedOpsReadBackInPagesByCount) {
  ASSERT_FALSE(append("user:1", 1, 5));
  EXPECT_EQ(head_of("user:1"), 5U);
  auto page = store_->read_range(0, 1, "user:1", 0, 2, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(page->more);
  EXPECT_FALSE(page->reset);
  page = store_->read_range(0, 1, "user:1", 4, 2, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{5}));
  EXPECT_FALSE(page->more);
  page = store_->read_range(0, 1, "user:1", 5, 2, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->records.empty());
  EXPECT_FALSE(page->more);
  EXPECT_FALSE(page->reset);
  EXPECT_EQ(store_->get(0, 1, "user:1", 3)->msg_id, "m3");
}

TEST_F(OplogStoreTest, PagesAreCutByBytesButNeverEmpty) {
  write_batch batch;
  for (uint64_t v = 1; v <= 3; ++v) {
    batch.appends.push_back({0, record("u", v, 0, std::string(1000, 'x'))});
  }
  ASSERT_FALSE(store_->apply(batch));
  auto page = store_->read_range(0, 1, "u", 0, 100, 2500);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(page->more);
  page = store_->read_range(0, 1, "u", 0, 100, 10);  // smaller than one record
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{1}));
  EXPECT_TRUE(page->more);
}

TEST_F(OplogStoreTest, OwnersThatArePrefixesOfEachOtherStayApart) {
  ASSERT_FALSE(append("a", 1, 2));
  ASSERT_FALSE(append("ab", 1, 3));
  auto page = store_->read_range(0, 1, "a", 0, 100, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{1, 2}));
  for (const auto& r : page->records) {
    EXPECT_EQ(r.owner, "a");
  }
}

TEST_F(OplogStoreTest, AGapIsRefused) {
  ASSERT_FALSE(append("u", 1, 2));
  auto err = append("u", 4, 4);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::version_conflict);
  EXPECT_EQ(head_of("u"), 2U);
  auto first = append("v", 2, 2);  // a new owner starts at 1
  ASSERT_TRUE(first);
  EXPECT_EQ(first->code, storage_errc::version_conflict);
}

TEST_F(OplogStoreTest, ARebaseMovesAnOwnerForwardWithoutItsOps) {
  ASSERT_FALSE(append("u", 1, 2));
  write_batch batch;
  batch.rebases.push_back({0, 1, "u", 7});
  batch.appends.push_back({0, record("u", 8)});  // continues the rebased head, same batch
  ASSERT_FALSE(store_->apply(batch));
  EXPECT_EQ(head_of("u"), 8U);
  EXPECT_EQ(watermark_of("u"), 8U);  // 3..7 count as gone, like trimmed ops
  auto page = store_->read_range(0, 1, "u", 2, 10, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->reset);
  page = store_->read_range(0, 1, "u", 7, 10, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{8}));
  write_batch back;
  back.rebases.push_back({0, 1, "u", 5});  // backwards: nothing changes
  ASSERT_FALSE(store_->apply(back));
  EXPECT_EQ(head_of("u"), 8U);
}

// A replica drops a former primary's unacknowledged tail on its primary's word (decision
// 0022): the ops above the point, their idempotency entries and receipts, and the head.
TEST_F(OplogStoreTest, ATruncateDropsAnOwnersOpsAboveAVersionWithTheirIndexEntries) {
  write_batch batch;
  for (uint64_t v = 1; v <= 4; ++v) {
    batch.appends.push_back({0, record("u", v)});
    batch.dedupes.push_back({{1, "chat", "u", "m" + std::to_string(v)}, {v, 1000 + v}});
    batch.puts.push_back(
        {delivery_table::receipts, encode_receipt_key(0, 1, "u", v, "d1"), encode_receipt({5, 0})});
  }
  batch.appends.push_back({0, record("w", 1)});  // another owner: untouched
  // An entry naming another op's version (a retried msg_id that got version 2) stays.
  batch.dedupes.push_back({{1, "chat", "u", "retried"}, {2, 0}});
  ASSERT_FALSE(store_->apply(batch));

  write_batch truncate;
  truncate.truncates.push_back({0, 1, "u", 2});
  truncate.appends.push_back({0, record("u", 3, 0, "theirs")});  // continues at 3 at once
  ASSERT_FALSE(store_->apply(truncate));
  EXPECT_EQ(head_of("u"), 3U);
  EXPECT_EQ(store_->get(0, 1, "u", 3)->payload, "theirs");
  EXPECT_EQ(store_->get(0, 1, "u", 4).error().code, storage_errc::not_found);
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "m2", 0), std::optional<uint64_t>(2));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m3", 0));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m4", 0));
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "retried", 0), std::optional<uint64_t>(2));
  delivery_store deliveries(*env_);
  EXPECT_EQ(deliveries.receipts(0, 1, "u", 2)->size(), 1U);
  EXPECT_TRUE(deliveries.receipts(0, 1, "u", 3)->empty());
  EXPECT_TRUE(deliveries.receipts(0, 1, "u", 4)->empty());
  EXPECT_EQ(head_of("w"), 1U);
  // Expiring the dedupe index later does not trip over the entries the truncate removed.
  EXPECT_EQ(*store_->expire_dedupe(2000, 100), 2U);  // m1 and m2
}

TEST_F(OplogStoreTest, ATruncateToZeroEmptiesTheOwnerAndARebaseThenPlacesIt) {
  ASSERT_FALSE(append("u", 1, 3));
  write_batch batch;
  batch.truncates.push_back({0, 1, "u", 0});
  batch.rebases.push_back({0, 1, "u", 9});  // what the primary still keeps starts at 10
  batch.appends.push_back({0, record("u", 10)});
  ASSERT_FALSE(store_->apply(batch));
  EXPECT_EQ(head_of("u"), 10U);
  EXPECT_EQ(watermark_of("u"), 10U);
  EXPECT_EQ(store_->get(0, 1, "u", 1).error().code, storage_errc::not_found);
  write_batch again;  // at or above the head: nothing changes
  again.truncates.push_back({0, 1, "u", 10});
  ASSERT_FALSE(store_->apply(again));
  EXPECT_EQ(head_of("u"), 10U);
}

TEST_F(OplogStoreTest, AReusedVersionIsRefused) {
  ASSERT_FALSE(append("u", 1, 3));
  auto err = append("u", 3, 3);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::version_conflict);
  EXPECT_EQ(store_->get(0, 1, "u", 3)->created_at_ms, 3U);  // the original is untouched
}

TEST_F(OplogStoreTest, AFailingBatchLeavesNothing) {
  write_batch batch;
  batch.appends.push_back({0, record("u", 1)});
  batch.appends.push_back({0, record("w", 1)});
  batch.dedupes.push_back({{1, "chat", "u", "m1"}, {1, 0}});
  batch.appends.push_back({0, record("u", 3)});  // a gap: the whole batch fails
  auto err = store_->apply(batch);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::version_conflict);
  EXPECT_EQ(head_of("u"), 0U);
  EXPECT_EQ(head_of("w"), 0U);
  EXPECT_EQ(store_->get(0, 1, "w", 1).error().code, storage_errc::not_found);
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m1", 0));
}

TEST_F(OplogStoreTest, OneBatchMayAppendManyVersionsOfManyOwners) {
  write_batch batch;
  for (uint64_t v = 1; v <= 3; ++v) {
    batch.appends.push_back({0, record("u", v)});
    batch.appends.push_back({1, record("u", v)});  // another shard: its own versions
  }
  ASSERT_FALSE(store_->apply(batch));
  EXPECT_EQ(*store_->head(0, 1, "u"), 3U);
  EXPECT_EQ(*store_->head(1, 1, "u"), 3U);
}

TEST_F(OplogStoreTest, DedupeHitMissAndExpiry) {
  write_batch batch;
  batch.appends.push_back({0, record("u", 1)});
  batch.dedupes.push_back({{1, "chat", "u", "m1"}, {1, /*expires_at_ms=*/1000}});
  ASSERT_FALSE(store_->apply(batch));
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "m1", 999), std::optional<uint64_t>(1));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m2", 999));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "other", "u", "m1", 999));
  EXPECT_FALSE(*store_->lookup_dedupe(2, "chat", "u", "m1", 999));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m1", 1000));  // expired counts as absent
}

TEST_F(OplogStoreTest, ExpireDedupeIsBoundedAndOldestFirst) {
  write_batch batch;
  for (uint64_t i = 1; i <= 5; ++i) {
    batch.dedupes.push_back({{1, "chat", "u", "m" + std::to_string(i)}, {i, i * 100}});
  }
  batch.dedupes.push_back({{1, "chat", "u", "forever"}, {9, 0}});
  ASSERT_FALSE(store_->apply(batch));
  EXPECT_EQ(*store_->expire_dedupe(1000, 2), 2U);
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m1", 0));
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m2", 0));
  EXPECT_TRUE(*store_->lookup_dedupe(1, "chat", "u", "m3", 0));
  EXPECT_EQ(*store_->expire_dedupe(300, 10), 1U);  // only m3 is due at 300
  EXPECT_EQ(*store_->expire_dedupe(1000, 10), 2U);
  EXPECT_EQ(*store_->expire_dedupe(1000, 10), 0U);
  EXPECT_TRUE(*store_->lookup_dedupe(1, "chat", "u", "forever", 1'000'000));
}

TEST_F(OplogStoreTest, ARewrittenDedupeEntryKeepsItsNewExpiry) {
  write_batch first;
  first.dedupes.push_back({{1, "chat", "u", "m"}, {1, 100}});
  ASSERT_FALSE(store_->apply(first));
  write_batch second;
  second.dedupes.push_back({{1, "chat", "u", "m"}, {2, 500}});
  ASSERT_FALSE(store_->apply(second));
  EXPECT_EQ(*store_->expire_dedupe(200, 10), 0U);  // the 100 row went with the rewrite
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "m", 200), std::optional<uint64_t>(2));
}

TEST_F(OplogStoreTest, OnceOpsAreDeletedOnAckWithoutMovingVersions) {
  ASSERT_FALSE(append("dev", 1, 3));
  write_batch ack;
  ack.deletes.push_back({0, 1, "dev", 2});
  ack.deletes.push_back({0, 1, "dev", 9});  // absent: acks may repeat
  ASSERT_FALSE(store_->apply(ack));
  EXPECT_EQ(store_->get(0, 1, "dev", 2).error().code, storage_errc::not_found);
  auto page = store_->read_range(0, 1, "dev", 0, 10, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_EQ(versions(*page), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(head_of("dev"), 3U);
  EXPECT_EQ(watermark_of("dev"), 1U);
  EXPECT_FALSE(append("dev", 4, 4));
}

TEST_F(OplogStoreTest, AClientAheadOfTheHeadGetsReset) {
  ASSERT_FALSE(append("u", 1, 2));
  auto page = store_->read_range(0, 1, "u", 7, 10, 1 << 20);
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->reset);
  EXPECT_TRUE(page->records.empty());
}

TEST_F(OplogStoreTest, AFullMapIsAnErrorValue) {
  env_options tiny;
  tiny.map_size = size_t{64} << 10;
  tiny.max_map_size = tiny.map_size;  // growth not allowed
  open(tiny);
  write_batch batch;
  batch.appends.push_back({0, record("u", 1, 0, "small")});
  batch.appends.push_back({0, record("u", 2, 0, std::string(size_t{128} << 10, 'x'))});
  batch.dedupes.push_back({{1, "chat", "u", "m1"}, {1, 0}});
  auto err = store_->apply_growing(batch);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::map_full) << err->detail;
  EXPECT_EQ(head_of("u"), 0U);  // nothing of the batch, not even the small op
  EXPECT_EQ(store_->get(0, 1, "u", 1).error().code, storage_errc::not_found);
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "m1", 0));
}

TEST_F(OplogStoreTest, AFullMapGrowsAndTheRetrySucceeds) {
  env_options tiny;
  tiny.map_size = size_t{64} << 10;
  tiny.max_map_size = size_t{1} << 20;
  open(tiny);
  write_batch batch;
  batch.appends.push_back({0, record("u", 1, 0, std::string(size_t{128} << 10, 'x'))});
  auto err = store_->apply(batch);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::map_full);
  ASSERT_FALSE(store_->apply_growing(batch));
  EXPECT_GT(env_->map_size(), tiny.map_size);
  EXPECT_EQ(head_of("u"), 1U);
  EXPECT_EQ(store_->get(0, 1, "u", 1)->payload.size(), size_t{128} << 10);
}

TEST_F(OplogStoreTest, CommittedBatchesSurviveAReopen) {
  durable_ = true;
  open({});  // fsync mode
  ASSERT_FALSE(append("u", 1, 3));
  write_batch batch;
  batch.dedupes.push_back({{1, "chat", "u", "m1"}, {1, 0}});
  ASSERT_FALSE(store_->apply(batch));
  open({});
  EXPECT_EQ(head_of("u"), 3U);
  EXPECT_EQ(store_->get(0, 1, "u", 2)->msg_id, "m2");
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "m1", 0), std::optional<uint64_t>(1));
  EXPECT_FALSE(append("u", 4, 4));  // the restarted writer continues: no gap, no reuse
  EXPECT_TRUE(append("u", 4, 4));
}

TEST_F(OplogStoreTest, ScanHeadsListsTheOwnersOfOneBucketAndShard) {
  ASSERT_FALSE(append("a", 1, 2));
  ASSERT_FALSE(append("b", 1, 1));
  write_batch other;
  other.appends.push_back({1, record("c", 1)});             // another shard
  other.appends.push_back({0, record("d", 1, 0, "p", 2)});  // another bucket
  ASSERT_FALSE(store_->apply(other));
  auto heads = store_->scan_heads(1, 0);
  ASSERT_TRUE(heads);
  ASSERT_EQ(heads->size(), 2U);
  EXPECT_EQ((*heads)[0].id.owner, "a");
  EXPECT_EQ((*heads)[0].state.head, 2U);
  EXPECT_EQ((*heads)[1].id.owner, "b");
  EXPECT_EQ((*heads)[1].state.head, 1U);
}

TEST_F(OplogStoreTest, OverlongKeysAreBadRecords) {
  write_batch batch;
  batch.appends.push_back({0, record(std::string(max_key_field_size + 1, 'o'), 1)});
  auto err = store_->apply(batch);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::bad_record);
}

}  // namespace
}  // namespace tidegate::storage
