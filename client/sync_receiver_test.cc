#include "client/sync_receiver.h"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

v1::SyncData page(const std::string& bucket, std::vector<uint64_t> versions, bool more = false) {
  v1::SyncData data;
  data.set_bucket(bucket);
  data.set_more(more);
  for (auto v : versions) {
    auto* op = data.add_ops();
    op->set_version(v);
    op->set_msg_id("m" + std::to_string(v));
  }
  data.set_head_version(versions.empty() ? 0 : versions.back());
  return data;
}

// Marks the ops of `page` with these versions as skipped (what the server sends for an op
// that is not for this client): only the version is set.
v1::SyncData& skip(v1::SyncData& data, std::vector<uint64_t> versions) {
  for (auto& op : *data.mutable_ops()) {
    for (auto v : versions) {
      if (op.version() == v) {
        op.Clear();
        op.set_version(v);
        op.set_skipped(true);
      }
    }
  }
  return data;
}

v1::SyncData reset_page(const std::string& bucket, uint64_t head) {
  v1::SyncData data;
  data.set_bucket(bucket);
  data.set_reset(true);
  data.set_head_version(head);
  return data;
}

// Records every delivery as (bucket, version) and every reset as (bucket, head).
class SyncReceiverTest : public ::testing::Test {
 public:
  sync_receiver make(sync_cursors initial = {}, sync_receiver_config config = {}) {
    return sync_receiver{
        std::move(initial),
        [this](const std::string& bucket, const std::vector<v1::Op>& ops) {
          ++calls_;
          for (const auto& op : ops) {
            delivered_.emplace_back(bucket, op.version());
          }
        },
        [this](const std::string& bucket, uint64_t head) { resets_.emplace_back(bucket, head); },
        config};
  }

  using pairs = std::vector<std::pair<std::string, uint64_t>>;
  static pairs of(const v1::SyncAck& ack) {
    pairs out;
    for (const auto& c : ack.cursors()) {
      out.emplace_back(c.bucket(), c.version());
    }
    return out;
  }

  pairs delivered_;
  pairs resets_;
  int calls_ = 0;
};

TEST_F(SyncReceiverTest, InOrderPagesAreDeliveredOnceAndMoveTheCursor) {
  auto r = make();
  auto p1 = page("user", {1, 2, 3}, true);
  auto res = r.on_page(p1);
  EXPECT_EQ(res.delivered, 3u);
  EXPECT_FALSE(res.resync);
  auto p2 = page("user", {4, 5});
  r.on_page(p2);
  EXPECT_EQ(delivered_, (pairs{{"user", 1}, {"user", 2}, {"user", 3}, {"user", 4}, {"user", 5}}));
  EXPECT_EQ(calls_, 2);  // one call per page
  EXPECT_EQ(r.cursor("user"), 5u);
}

TEST_F(SyncReceiverTest, ReplayedVersionsAreDropped) {
  auto r = make({{"user", 5}});
  auto replay = page("user", {4, 5, 6, 7});
  auto res = r.on_page(replay);
  EXPECT_EQ(res.duplicates, 2u);
  EXPECT_EQ(res.delivered, 2u);
  auto again = page("user", {6, 7});
  res = r.on_page(again);
  EXPECT_EQ(res.duplicates, 2u);
  EXPECT_EQ(res.delivered, 0u);
  EXPECT_EQ(delivered_, (pairs{{"user", 6}, {"user", 7}}));
  EXPECT_EQ(r.counters().duplicates, 4u);
}

TEST_F(SyncReceiverTest, AGapHoldsLaterOpsAndAsksForOneResync) {
  auto r = make({{"user", 5}});
  auto push7 = page("user", {7});
  auto res = r.on_page(push7);
  EXPECT_EQ(res.delivered, 0u);
  EXPECT_EQ(res.held, 1u);
  EXPECT_TRUE(res.resync);
  auto req = r.make_request(v1::SYNC_REASON_EXPLICIT);
  ASSERT_EQ(req.cursors_size(), 1);
  EXPECT_EQ(req.cursors(0).version(), 5u);  // the server answers from 6
  // Another push past the gap while the re-sync is in flight does not ask again.
  auto push8 = page("user", {8});
  res = r.on_page(push8);
  EXPECT_FALSE(res.resync);
  EXPECT_EQ(res.held, 2u);
  EXPECT_TRUE(delivered_.empty());
  auto answer = page("user", {6, 7});
  res = r.on_page(answer);
  EXPECT_EQ(res.delivered, 3u);   // 6, 7 and the held 8
  EXPECT_EQ(res.duplicates, 1u);  // 7 was held already
  EXPECT_FALSE(res.resync);
  EXPECT_EQ(delivered_, (pairs{{"user", 6}, {"user", 7}, {"user", 8}}));
  EXPECT_EQ(r.held(), 0u);
}

TEST_F(SyncReceiverTest, VersionsGoneForGoodAreSteppedOverNotWaitedFor) {
  auto r = make();  // a new device: its user acked 1-4 of `once` elsewhere, they are deleted
  auto push6 = page("once", {6});
  auto res = r.on_page(push6);
  EXPECT_TRUE(res.resync);  // a gap: it cannot know yet
  auto answer = page("once", {5, 6});
  answer.set_gone_through(4);
  res = r.on_page(answer);
  EXPECT_EQ(res.delivered, 2u);  // 5 and the held 6
  EXPECT_EQ(delivered_, (pairs{{"once", 5}, {"once", 6}}));
  EXPECT_EQ(r.cursor("once"), 6u);
  EXPECT_EQ(r.held(), 0u);
  auto stale = page("once", {});
  stale.set_gone_through(3);  // behind the cursor: nothing moves back
  r.on_page(stale);
  EXPECT_EQ(r.cursor("once"), 6u);
}

TEST_F(SyncReceiverTest, AnAnswerThatLeavesTheGapOpenAsksAgain) {
  auto r = make({{"user", 5}});
  auto push9 = page("user", {9});
  EXPECT_TRUE(r.on_page(push9).resync);
  r.make_request(v1::SYNC_REASON_EXPLICIT);
  auto answer = page("user", {6, 7});  // read before 8 was durable
  auto res = r.on_page(answer);
  EXPECT_EQ(res.delivered, 2u);
  EXPECT_TRUE(res.resync);  // 8 is still missing
  EXPECT_EQ(r.cursor("user"), 7u);
}

TEST_F(SyncReceiverTest, AGapInsideAPageIsHeldToo) {
  auto r = make();
  auto p = page("user", {1, 2, 4});
  auto res = r.on_page(p);
  EXPECT_EQ(res.delivered, 2u);
  EXPECT_EQ(res.held, 1u);
  EXPECT_TRUE(res.resync);
}

TEST_F(SyncReceiverTest, HeldOpsAreBounded) {
  auto r = make({}, sync_receiver_config{64, 2});
  auto p = page("user", {3, 4, 5, 6});
  auto res = r.on_page(p);
  EXPECT_EQ(res.held, 2u);
  EXPECT_EQ(res.dropped, 2u);
  r.make_request(v1::SYNC_REASON_EXPLICIT);
  auto answer = page("user", {1, 2, 3, 4, 5, 6});
  r.on_page(answer);
  EXPECT_EQ(r.cursor("user"), 6u);
  EXPECT_EQ(delivered_.size(), 6u);
}

TEST_F(SyncReceiverTest, ResetCallsBackAndContinuesFromTheHead) {
  auto r = make({{"user", 5}});
  auto held = page("user", {30});
  r.on_page(held);
  auto reset = reset_page("user", 20);
  auto res = r.on_page(reset);
  EXPECT_TRUE(res.reset);
  EXPECT_EQ(resets_, (pairs{{"user", 20}}));
  EXPECT_EQ(r.cursor("user"), 20u);
  EXPECT_TRUE(res.resync);  // 30 is still held past 21..29
  auto next = page("user", {21});
  r.on_page(next);
  EXPECT_EQ(delivered_, (pairs{{"user", 21}}));
  EXPECT_TRUE(r.ack_pending());
  EXPECT_EQ(of(r.take_ack()), (pairs{{"user", 21}}));
}

TEST_F(SyncReceiverTest, AResetBelowTheCursorMovesItBack) {
  auto r = make({{"device", 50}});  // the client is ahead of the server (its state was lost)
  auto reset = reset_page("device", 3);
  r.on_page(reset);
  EXPECT_EQ(r.cursor("device"), 3u);
  auto next = page("device", {4});
  r.on_page(next);
  EXPECT_EQ(delivered_, (pairs{{"device", 4}}));
}

TEST_F(SyncReceiverTest, BucketsAreIndependent) {
  auto r = make({{"user", 2}, {"once", 0}});
  auto u = page("user", {4});
  EXPECT_TRUE(r.on_page(u).resync);
  auto o = page("once", {1, 2});
  EXPECT_FALSE(r.on_page(o).resync);
  auto g = page("global", {1});  // a bucket the client did not know
  r.on_page(g);
  EXPECT_EQ(delivered_, (pairs{{"once", 1}, {"once", 2}, {"global", 1}}));
  EXPECT_EQ(r.cursors(), (sync_cursors{{"global", 1}, {"once", 2}, {"user", 2}}));
  auto req = r.make_request(v1::SYNC_REASON_CONNECT);
  EXPECT_EQ(req.reason(), v1::SYNC_REASON_CONNECT);
  EXPECT_EQ(req.cursors_size(), 3);
}

TEST_F(SyncReceiverTest, AcksAreCumulativeAndBatched) {
  auto r = make({}, sync_receiver_config{4, 1024});
  EXPECT_FALSE(r.ack_pending());
  r.make_request(v1::SYNC_REASON_LOGIN);
  auto p1 = page("user", {1, 2}, true);
  r.on_page(p1);
  EXPECT_TRUE(r.ack_pending());
  EXPECT_FALSE(r.ack_due());  // 2 < 4 and more pages follow
  auto p2 = page("user", {3, 4}, true);
  r.on_page(p2);
  EXPECT_TRUE(r.ack_due());  // 4 ops
  EXPECT_EQ(of(r.take_ack()), (pairs{{"user", 4}}));
  EXPECT_FALSE(r.ack_pending());
  auto p3 = page("user", {5});
  r.on_page(p3);
  EXPECT_TRUE(r.ack_due());  // the bucket caught up
  auto d1 = page("device", {1});
  r.on_page(d1);
  EXPECT_EQ(of(r.take_ack()), (pairs{{"device", 1}, {"user", 5}}));
  auto dup = page("user", {5});
  r.on_page(dup);
  EXPECT_FALSE(r.ack_pending());  // nothing new to ack
  EXPECT_EQ(r.counters().acks, 2u);
}

TEST_F(SyncReceiverTest, OnlinePushesAreAckedInBatchesNotOneByOne) {
  auto r = make({}, sync_receiver_config{3, 1024});
  r.make_request(v1::SYNC_REASON_CONNECT);
  auto answer = page("user", {1});
  r.on_page(answer);
  EXPECT_TRUE(r.ack_due());  // the end of an answer: acked at once
  r.take_ack();
  auto push1 = page("user", {2});
  r.on_page(push1);
  EXPECT_TRUE(r.ack_pending());
  EXPECT_FALSE(r.ack_due());  // a push waits for the ack delay or for more ops
  auto push2 = page("user", {3});
  r.on_page(push2);
  EXPECT_FALSE(r.ack_due());
  auto push3 = page("user", {4});
  r.on_page(push3);
  EXPECT_TRUE(r.ack_due());  // ack_every_ops = 3
  EXPECT_EQ(of(r.take_ack()), (pairs{{"user", 4}}));
}

TEST_F(SyncReceiverTest, ASkippedOpMovesTheCursorAndTheAckWithoutTheApp) {
  auto r = make({}, sync_receiver_config{4, 1024});
  r.make_request(v1::SYNC_REASON_LOGIN);
  auto p = page("global", {1, 2, 3});
  skip(p, {2});
  auto res = r.on_page(p);
  EXPECT_EQ(res.delivered, 2u);
  EXPECT_EQ(res.skipped, 1u);
  EXPECT_FALSE(res.resync);  // not a gap
  EXPECT_EQ(delivered_, (pairs{{"global", 1}, {"global", 3}}));
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(r.cursor("global"), 3u);
  EXPECT_TRUE(r.ack_due());  // the bucket caught up
  EXPECT_EQ(of(r.take_ack()), (pairs{{"global", 3}}));
  EXPECT_EQ(r.counters().skipped, 1u);
  EXPECT_EQ(r.counters().delivered, 2u);
}

TEST_F(SyncReceiverTest, APageOfOnlySkippedOpsIsFine) {
  auto r = make({{"global", 4}});
  r.make_request(v1::SYNC_REASON_LOGIN);
  auto p = page("global", {5, 6});
  skip(p, {5, 6});
  auto res = r.on_page(p);
  EXPECT_EQ(res.delivered, 0u);
  EXPECT_EQ(res.skipped, 2u);
  EXPECT_FALSE(res.resync);
  EXPECT_EQ(calls_, 0);  // nothing for the app
  EXPECT_EQ(r.cursor("global"), 6u);
  EXPECT_TRUE(r.ack_due());
  EXPECT_EQ(of(r.take_ack()), (pairs{{"global", 6}}));
  auto next = page("global", {7});  // an online push continues after the skipped ones
  res = r.on_page(next);
  EXPECT_EQ(res.delivered, 1u);
  EXPECT_FALSE(res.resync);
  EXPECT_EQ(delivered_, (pairs{{"global", 7}}));
}

TEST_F(SyncReceiverTest, SkippedOpsAreDedupedAndFillGapsLikeOthers) {
  auto r = make({{"global", 1}});
  r.make_request(v1::SYNC_REASON_LOGIN);
  auto pushed = page("global", {4});  // online push past a gap: held
  r.on_page(pushed);
  EXPECT_EQ(r.held(), 1u);
  auto answer = page("global", {1, 2, 3, 4});
  skip(answer, {1, 2, 3});
  auto res = r.on_page(answer);
  EXPECT_EQ(res.duplicates, 2u);  // 1 (at the cursor) and 4 (already held)
  EXPECT_EQ(res.skipped, 2u);
  EXPECT_EQ(res.delivered, 1u);
  EXPECT_EQ(r.held(), 0u);
  EXPECT_EQ(delivered_, (pairs{{"global", 4}}));
  EXPECT_EQ(r.cursor("global"), 4u);
  auto replay = page("global", {3});
  skip(replay, {3});
  res = r.on_page(replay);
  EXPECT_EQ(res.duplicates, 1u);
  EXPECT_EQ(res.skipped, 0u);
}

TEST_F(SyncReceiverTest, TheCursorMovesOnlyAfterTheCallbackReturned) {
  uint64_t seen_during = 99;
  sync_receiver* self = nullptr;
  sync_receiver r{{{"user", 1}},
                  [&](const std::string& bucket, const std::vector<v1::Op>&) {
                    seen_during = self->cursor(bucket);
                  },
                  nullptr};
  self = &r;
  auto p = page("user", {2, 3});
  r.on_page(p);
  EXPECT_EQ(seen_during, 1u);
  EXPECT_EQ(r.cursor("user"), 3u);
}

TEST_F(SyncReceiverTest, CursorsSurviveAStoreRoundTrip) {
  sync_store store;  // in memory: what a file store would write and read back
  {
    auto r = make();
    auto p = page("multi_device", {1, 2, 3});
    r.on_page(p);
    auto o = page("odd bucket%", {1});
    r.on_page(o);
    ASSERT_TRUE(store.save(r.cursors()));
  }
  sync_cursors parsed;
  std::string error;
  ASSERT_TRUE(sync_store::parse(sync_store::serialize(store.cursors()), parsed, error)) << error;
  delivered_.clear();
  auto r = make(parsed);
  auto replay = page("multi_device", {2, 3, 4});
  r.on_page(replay);
  EXPECT_EQ(delivered_, (pairs{{"multi_device", 4}}));
  EXPECT_EQ(r.cursor("odd bucket%"), 1u);
}

}  // namespace
}  // namespace tidegate::client
