#include "actors/sync/delivery_tracker.h"

#include <gtest/gtest.h>

#include "storage/store_test_fixture.h"

namespace tidegate::actors {
namespace {

// The tracker over a real LMDB environment; its puts are applied at once (as the writer
// would) and settled.
class DeliveryTrackerTest : public storage::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    bucket_.name = "user";
    bucket_.id = 1;
    bucket_.kind = bucket_kind::user;
    bucket_.retry_budget = 2;
    reads_ = std::make_unique<storage::delivery_store>(*env_);
    tracker_ = std::make_unique<delivery_tracker>(*store_, *reads_, 0, &bucket_);
    ASSERT_EQ(append("alice", 1, 3), std::nullopt);
  }

  void commit(storage::write_batch& out) {
    ASSERT_EQ(store_->apply(out), std::nullopt);
    tracker_->settled(delivery_tracker::cursor_keys(out));
    out = {};
  }

  // A SYNC_REQ's first page from `after`: the dead_through it answers.
  uint64_t sync_from(uint64_t after, uint64_t now = 1000) {
    auto page = store_->read_range(0, 1, "alice", after, 100, 1 << 20);
    EXPECT_TRUE(page);
    storage::write_batch out;
    auto dead = tracker_->on_page("alice", "phone", after, true, page->records, now, out);
    commit(out);
    return dead;
  }

  storage::device_cursor cursor() {
    auto c = reads_->cursor(0, 1, "alice", "phone");
    EXPECT_TRUE(c);
    return c->value_or(storage::device_cursor{});
  }

  bucket_config bucket_;
  std::unique_ptr<storage::delivery_store> reads_;
  std::unique_ptr<delivery_tracker> tracker_;
};

TEST_F(DeliveryTrackerTest, RetriesAreCountedPerSyncAndDeadLetteredPastTheBudget) {
  EXPECT_EQ(sync_from(0), 0u);  // first delivery
  EXPECT_EQ(cursor().delivered_through, 3u);
  EXPECT_EQ(cursor().attempts, 0u);
  EXPECT_EQ(sync_from(0), 0u);  // retry 1
  EXPECT_EQ(sync_from(0), 0u);  // retry 2
  EXPECT_EQ(cursor().attempts, 2u);
  EXPECT_EQ(sync_from(0), 3u);  // retry 3 > budget 2: versions 1-3 die for this device
  auto c = cursor();
  EXPECT_EQ(c.dead_through, 3u);
  EXPECT_EQ(c.attempts, 0u);
  auto letters = reads_->dead_letters("chat", "", 10);
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->letters.size(), 3u);
  EXPECT_EQ(letters->letters[0].device, "phone");
  EXPECT_EQ(letters->letters[2].version, 3u);
  EXPECT_EQ(sync_from(0), 3u);  // still skipped until acked, never dead-lettered twice
  EXPECT_EQ(reads_->dead_letters("chat", "", 10)->letters.size(), 3u);
}

TEST_F(DeliveryTrackerTest, AnAckOrAnAdvancedCursorResetsTheRetries) {
  sync_from(0);
  sync_from(0);
  EXPECT_EQ(cursor().attempts, 1u);
  storage::write_batch out;
  tracker_->on_acked("alice", "phone", 3, {}, 2000, out);
  commit(out);
  EXPECT_EQ(cursor().acked, 3u);
  EXPECT_EQ(cursor().attempts, 0u);
  ASSERT_EQ(append("alice", 4, 4), std::nullopt);
  EXPECT_EQ(sync_from(3), 0u);
  EXPECT_EQ(sync_from(4), 0u);  // the client's cursor acks 4: no retry
  EXPECT_EQ(cursor().acked, 4u);
  EXPECT_EQ(cursor().attempts, 0u);
}

TEST_F(DeliveryTrackerTest, OnceBucketsKeepReceiptsOfPushesAndAcks) {
  bucket_.kind = bucket_kind::once;
  storage::write_batch out;
  tracker_->on_pushed("alice", "phone", 1, 2, 500, out);
  commit(out);
  auto pushed = reads_->receipt_of(0, 1, "alice", 2, "phone");
  ASSERT_TRUE(pushed && *pushed);
  EXPECT_EQ((*pushed)->delivered_at_ms, 500u);
  EXPECT_EQ((*pushed)->acked_at_ms, 0u);
  tracker_->on_acked("alice", "phone", 3, {1, 2, 3}, 900, out);
  commit(out);
  auto two = reads_->receipt_of(0, 1, "alice", 2, "phone");
  EXPECT_EQ((*two)->delivered_at_ms, 500u);
  EXPECT_EQ((*two)->acked_at_ms, 900u);
  auto three = reads_->receipt_of(0, 1, "alice", 3, "phone");  // never pushed: the ack dates it
  EXPECT_EQ((*three)->delivered_at_ms, 900u);
  EXPECT_EQ(cursor().acked, 3u);
}

TEST_F(DeliveryTrackerTest, ACursorBeingWrittenIsReadFromMemory) {
  auto page = store_->read_range(0, 1, "alice", 0, 100, 1 << 20);
  storage::write_batch first;
  tracker_->on_page("alice", "phone", 0, true, page->records, 1000, first);
  EXPECT_EQ(tracker_->pending(), 1u);
  storage::write_batch second;  // before the first write commits
  tracker_->on_page("alice", "phone", 0, true, page->records, 1001, second);
  commit(first);
  commit(second);
  EXPECT_EQ(tracker_->pending(), 0u);
  EXPECT_EQ(cursor().attempts, 1u);
}

}  // namespace
}  // namespace tidegate::actors
