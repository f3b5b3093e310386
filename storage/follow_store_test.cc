#include "storage/follow_store.h"

#include <gtest/gtest.h>

#include "storage/store_test_fixture.h"

namespace tidegate::storage {
namespace {

class FollowStoreTest : public StoreTest {
 protected:
  storage_status follow_topic(const std::string& user, const std::string& topic, uint64_t since) {
    write_batch batch;
    batch.puts.push_back({delivery_table::follows, encode_follow_key(3, user, topic),
                          encode_follow({since, 1000 + since})});
    return store_->apply(batch);
  }

  follow_store reads() const { return follow_store{*env_}; }
};

TEST(FollowRecordsTest, ValuesRoundTripAndMalformedBytesAreRefused) {
  follow f{42, 1700};
  auto back = decode_follow(encode_follow(f));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->since_version, 42u);
  EXPECT_EQ(back->followed_at_ms, 1700u);
  EXPECT_EQ(decode_follow(encode_follow(f).substr(1)), std::nullopt);
  EXPECT_EQ(decode_follow(encode_follow(f) + "x"), std::nullopt);
  auto meta = decode_topic_meta(encode_topic_meta({9}));
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->followers, 9u);
  EXPECT_EQ(decode_topic_meta(""), std::nullopt);
}

TEST_F(FollowStoreTest, AShardsEntriesAreEveryFollowAndCountUnderItAsPuts) {
  ASSERT_FALSE(follow_topic("alice", "news", 5));  // shard 3
  write_batch other;
  other.puts.push_back(
      {delivery_table::follows, encode_follow_key(4, "bob", "news"), encode_follow({1, 1})});
  other.puts.push_back(
      {delivery_table::topic_meta, encode_topic_meta_key(3, "news"), encode_topic_meta({7})});
  ASSERT_FALSE(store_->apply(other));
  auto follows = reads().shard_entries(delivery_table::follows, 3);
  ASSERT_TRUE(follows) << follows.error().detail;
  ASSERT_EQ(follows->size(), 1u);
  EXPECT_EQ((*follows)[0].key, encode_follow_key(3, "alice", "news"));
  EXPECT_EQ((*follows)[0].table, delivery_table::follows);
  auto metas = reads().shard_entries(delivery_table::topic_meta, 3);
  ASSERT_TRUE(metas);
  ASSERT_EQ(metas->size(), 1u);
  EXPECT_EQ(decode_topic_meta((*metas)[0].value)->followers, 7u);
  auto none = reads().shard_entries(delivery_table::follows, 5);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_FALSE(reads().shard_entries(delivery_table::cursors, 3));
}

TEST(FollowRecordsTest, FollowKeysGroupAUsersTopicsUnderTheUsersShard) {
  auto key = encode_follow_key(2, "u1", "t");
  EXPECT_EQ(key, std::string("\x00\x02\x00\x02u1\x00\x01t", 9));
  EXPECT_EQ(topic_after(key, follow_user_prefix(2, "u1")), "t");
  // "u" is not a prefix of "u1"'s follows: owners are length-prefixed.
  EXPECT_EQ(topic_after(key, follow_user_prefix(2, "u")), std::nullopt);
  EXPECT_EQ(topic_after(key + "x", follow_user_prefix(2, "u1")), std::nullopt);
}

TEST_F(FollowStoreTest, AUsersTopicsAreReadInKeyOrderUpToALimit) {
  ASSERT_FALSE(follow_topic("alice", "news", 5));
  ASSERT_FALSE(follow_topic("alice", "deals", 0));
  ASSERT_FALSE(follow_topic("alicia", "other", 0));  // another user, not mixed in
  auto topics = reads().topics_of(3, "alice", 10);
  ASSERT_TRUE(topics) << topics.error().detail;
  ASSERT_EQ(topics->size(), 2u);
  // Key order: topics are length-prefixed, so the shorter name comes first.
  EXPECT_EQ((*topics)[0].first, "news");
  EXPECT_EQ((*topics)[0].second.since_version, 5u);
  EXPECT_EQ((*topics)[1].first, "deals");
  auto first = reads().topics_of(3, "alice", 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 1u);
  auto none = reads().topics_of(3, "bob", 10);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(FollowStoreTest, AnEraseRemovesOneFollowAndAMissingOneIsNoError) {
  ASSERT_FALSE(follow_topic("alice", "news", 5));
  write_batch batch;
  batch.erases.push_back({delivery_table::follows, encode_follow_key(3, "alice", "news")});
  batch.erases.push_back({delivery_table::follows, encode_follow_key(3, "alice", "never")});
  ASSERT_FALSE(store_->apply(batch));
  auto f = reads().follow_of(3, "alice", "news");
  ASSERT_TRUE(f);
  EXPECT_EQ(*f, std::nullopt);
}

TEST_F(FollowStoreTest, TopicMetaDefaultsToNoFollowersAndReadsBackWhatWasWritten) {
  auto none = reads().meta_of(7, "news");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->followers, 0u);
  write_batch batch;
  batch.puts.push_back(
      {delivery_table::topic_meta, encode_topic_meta_key(7, "news"), encode_topic_meta({3})});
  ASSERT_FALSE(store_->apply(batch));
  auto meta = reads().meta_of(7, "news");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->followers, 3u);
}

TEST_F(FollowStoreTest, AMalformedFollowIsReportedCorrupt) {
  write_batch batch;
  batch.puts.push_back({delivery_table::follows, encode_follow_key(3, "alice", "news"), "junk"});
  ASSERT_FALSE(store_->apply(batch));
  auto topics = reads().topics_of(3, "alice", 10);
  ASSERT_FALSE(topics);
  EXPECT_EQ(topics.error().code, storage_errc::corrupt);
}

}  // namespace
}  // namespace tidegate::storage
