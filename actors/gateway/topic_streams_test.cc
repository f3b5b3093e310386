#include "actors/gateway/topic_streams.h"

#include <gtest/gtest.h>

#include "actors/gateway/read_retry.h"

namespace tidegate::actors {
namespace {

// Records what the streams send and read; the backlog is a switch.
class recording_output : public topic_output {
 public:
  void send_topic(const topic_frame& f) override {
    frames.push_back({*f.topic, {}, f.gone_through, f.reset, f.whole != nullptr});
    for (size_t i = 0; i < f.count; ++i) {
      frames.back().versions.push_back(f.first[i].version);
    }
  }
  void fetch_topic(topic_fetch f) override { fetches.push_back(std::move(f)); }
  bool backlog_full() const override { return full; }

  struct sent {
    std::string topic;
    std::vector<uint64_t> versions;
    uint64_t gone_through = 0;
    bool reset = false;
    bool whole = false;  // may use the batch's shared encoding
  };
  std::vector<sent> frames;
  std::vector<topic_fetch> fetches;
  bool full = false;
};

storage::oplog_record rec(uint64_t v) {
  storage::oplog_record r;
  r.version = v;
  return r;
}

// A live batch (topic_batch is shared, never copied).
std::shared_ptr<topic_batch> batch(const std::string& topic, uint64_t from, uint64_t to) {
  auto b = std::make_shared<topic_batch>();
  b->topic = topic;
  for (auto v = from; v <= to; ++v) {
    b->records.push_back(rec(v));
  }
  b->head = to;
  return b;
}

sync_page page(const std::string& topic, uint64_t from, uint64_t to, uint64_t head,
               bool more = false) {
  sync_page p;
  p.topic = topic;
  for (auto v = from; v <= to && from != 0; ++v) {
    p.records.push_back(rec(v));
  }
  p.head = head;
  p.more = more;
  return p;
}

TEST(TopicStreamsTest, NothingMovesBeforeBothTheFollowsAndTheClientsCursorsAreKnown) {
  topic_streams s;
  recording_output out;
  s.on_sync_request({{"t", 5}}, out);
  EXPECT_TRUE(out.fetches.empty());
  s.on_follows({{"t", 2}}, out);
  ASSERT_EQ(out.fetches.size(), 1u);
  EXPECT_EQ(out.fetches[0].after, 5u);  // the client's cursor, past the follow's start
}

TEST(TopicStreamsTest, AStreamOlderThanItsFollowStartsThereAndSaysSoOnce) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 3}}, out);
  s.on_sync_request({}, out);
  ASSERT_EQ(out.fetches.size(), 1u);
  EXPECT_EQ(out.fetches[0].after, 3u);
  s.on_fetched(out.fetches[0], page("t", 4, 5, 5), out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0].gone_through, 3u);
  EXPECT_EQ(out.frames[0].versions, (std::vector<uint64_t>{4, 5}));
  s.on_batch(*batch("t", 6, 7), out);
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(out.frames[1].gone_through, 0u);
  EXPECT_EQ(out.frames[1].versions, (std::vector<uint64_t>{6, 7}));
  EXPECT_FALSE(out.frames[0].whole);  // a fetched page
  EXPECT_TRUE(out.frames[1].whole);   // all of a live batch: its shared bytes
  auto b = batch("t", 7, 9);          // overlaps what was sent: only 8 and 9, not shared
  s.on_batch(*b, out);
  ASSERT_EQ(out.frames.size(), 3u);
  EXPECT_EQ(out.frames[2].versions, (std::vector<uint64_t>{8, 9}));
  EXPECT_FALSE(out.frames[2].whole);
}

TEST(TopicStreamsTest, LiveBatchesDuringAFetchAreReadFromTheLogAfterIt) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({}, out);
  auto first = out.fetches.at(0);
  s.on_batch(*batch("t", 1, 2), out);  // while the fetch is out: dropped
  EXPECT_TRUE(out.frames.empty());
  s.on_fetched(first, page("t", 1, 1, 1), out);  // read before 2 was committed
  ASSERT_EQ(out.fetches.size(), 2u);             // 2 is known to exist: read on
  EXPECT_EQ(out.fetches[1].after, 1u);
  s.on_fetched(out.fetches[1], page("t", 2, 2, 2), out);
  s.on_batch(*batch("t", 3, 3), out);
  std::vector<uint64_t> all;
  for (const auto& f : out.frames) {
    all.insert(all.end(), f.versions.begin(), f.versions.end());
  }
  EXPECT_EQ(all, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(TopicStreamsTest, AGapInLiveBatchesIsFilledFromTheLogAndNeverSkipped) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({}, out);
  s.on_fetched(out.fetches.at(0), page("t", 0, 0, 0), out);
  s.on_batch(*batch("t", 3, 4), out);  // 1 and 2 never came live
  EXPECT_TRUE(out.frames.empty());
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 0u);
  s.on_fetched(out.fetches[1], page("t", 1, 4, 4), out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0].versions, (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST(TopicStreamsTest, AFullBacklogStallsTheStreamUntilTheClientAcks) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({}, out);
  s.on_fetched(out.fetches.at(0), page("t", 0, 0, 0), out);
  out.full = true;
  s.on_batch(*batch("t", 1, 1), out);
  s.on_batch(*batch("t", 2, 3), out);
  EXPECT_TRUE(out.frames.empty());
  EXPECT_EQ(out.fetches.size(), 1u);
  s.resume_stalled(out);  // still full: nothing
  EXPECT_EQ(out.fetches.size(), 1u);
  out.full = false;
  s.resume_stalled(out);
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 0u);
  s.on_fetched(out.fetches[1], page("t", 1, 3, 3), out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0].versions, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(TopicStreamsTest, ARestartMakesAnOlderFetchStale) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({{"t", 0}}, out);
  auto old = out.fetches.at(0);
  s.on_sync_request({{"t", 7}}, out);  // a new SYNC_REQ while the read is out
  EXPECT_EQ(out.fetches.size(), 1u);   // one read at a time
  s.on_fetched(old, page("t", 1, 3, 9), out);
  EXPECT_TRUE(out.frames.empty());  // stale: not sent
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 7u);
}

TEST(TopicStreamsTest, AResetPageMovesTheStreamToTheHead) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({{"t", 1}}, out);
  auto p = page("t", 0, 0, 50);
  p.reset = true;
  s.on_fetched(out.fetches.at(0), p, out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_TRUE(out.frames[0].reset);
  EXPECT_EQ(s.delivered("t"), 50u);
  s.on_batch(*batch("t", 51, 51), out);
  ASSERT_EQ(out.frames.size(), 2u);
  EXPECT_EQ(out.frames[1].versions, (std::vector<uint64_t>{51}));
}

TEST(TopicStreamsTest, NoticesCountOnlyWhatTheClientLacksAndForegroundCatchesUp) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({{"t", 4}}, out);
  s.on_fetched(out.fetches.at(0), page("t", 0, 0, 4), out);
  EXPECT_FALSE(s.on_notice("t", 4));
  EXPECT_TRUE(s.on_notice("t", 6));
  EXPECT_FALSE(s.on_notice("other", 6));
  s.catch_up(out);
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 4u);
}

TEST(TopicStreamsTest, ANewHeadAfterTheRelayRegisteredAgainReadsWhatTheStreamMissed) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({{"t", 2}}, out);
  s.on_fetched(out.fetches.at(0), page("t", 0, 0, 2), out);
  ASSERT_EQ(out.fetches.size(), 1u);
  s.on_head("t", 2, out);  // nothing missed
  EXPECT_EQ(out.fetches.size(), 1u);
  s.on_head("t", 6, out);  // versions 3-6 went out while no primary sent them
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 2u);
  s.on_head("t", 7, out);  // a fetch is on its way: it reads on after it
  EXPECT_EQ(out.fetches.size(), 2u);
  s.on_head("unknown", 9, out);
  EXPECT_EQ(out.fetches.size(), 2u);
}

// A fetch that fails (the topic's primary failing over) is tried again after a backoff, not
// only at the client's next ack or foreground: a quiet follower would otherwise wait for ever.
TEST(TopicStreamsTest, AFailedFetchIsTriedAgainAfterABackoffThatDoublesUntilOneSucceeds) {
  topic_streams s;
  recording_output out;
  s.on_follows({{"t", 0}}, out);
  s.on_sync_request({{"t", 4}}, out);
  ASSERT_EQ(out.fetches.size(), 1u);
  EXPECT_EQ(s.retry_deadline(), UINT64_MAX);
  s.on_fetch_failed(out.fetches[0], 1'000);
  EXPECT_EQ(s.retry_deadline(), 1'000 + read_retry_min_ms);
  s.retry_due(1'199, out);
  EXPECT_EQ(out.fetches.size(), 1u);
  s.retry_due(1'200, out);
  ASSERT_EQ(out.fetches.size(), 2u);
  EXPECT_EQ(out.fetches[1].after, 4u);  // from where the stream stood
  EXPECT_EQ(s.retry_deadline(), UINT64_MAX);
  s.on_fetch_failed(out.fetches[1], 1'300);
  EXPECT_EQ(s.retry_deadline(), 1'300 + 2 * read_retry_min_ms);
  s.retry_due(1'700, out);
  ASSERT_EQ(out.fetches.size(), 3u);
  s.on_fetched(out.fetches[2], page("t", 5, 6, 6), out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0].versions, (std::vector<uint64_t>{5, 6}));
  s.on_fetch_failed({"t", 6, out.fetches[2].epoch}, 2'000);  // a success reset the backoff
  EXPECT_EQ(s.retry_deadline(), 2'000 + read_retry_min_ms);
}

TEST(TopicStreamsTest, AnUnfollowedTopicIsForgottenAndALaterFollowAnnouncesItsStart) {
  topic_streams s;
  recording_output out;
  s.on_follows({}, out);
  s.on_sync_request({}, out);
  s.on_followed("t", 9, out);
  ASSERT_EQ(out.fetches.size(), 1u);
  EXPECT_EQ(out.fetches[0].after, 9u);
  s.on_fetched(out.fetches[0], page("t", 0, 0, 9), out);
  ASSERT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(out.frames[0].gone_through, 9u);  // tells the client where the follow starts
  s.on_unfollowed("t");
  s.on_batch(*batch("t", 10, 10), out);
  EXPECT_EQ(out.frames.size(), 1u);
  EXPECT_EQ(s.size(), 0u);
}

}  // namespace
}  // namespace tidegate::actors
