#include "storage/keys.h"

#include <algorithm>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::storage {
namespace {

TEST(KeysTest, OplogVersionsSortNumerically) {
  std::vector<uint64_t> versions = {
      1, 2, 9, 10, 255, 256, 65535, 65536, uint64_t{1} << 32, std::numeric_limits<uint64_t>::max()};
  std::vector<std::string> keys;
  for (auto v : versions) {
    keys.push_back(encode_oplog_key({3, 1, "user:1", v}));
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
}

TEST(KeysTest, OwnersThatArePrefixesDoNotInterleave) {
  auto a_last = encode_oplog_key({0, 1, "a", std::numeric_limits<uint64_t>::max()});
  auto ab_first = encode_oplog_key({0, 1, "ab", 0});
  auto b_first = encode_oplog_key({0, 1, "b", 0});
  EXPECT_LT(a_last, ab_first);   // every "a" key before every "ab" key
  EXPECT_LT(b_first, ab_first);  // owners sort by (length, bytes): grouped, not alphabetical
  auto prefix_a = oplog_owner_prefix(0, 1, "a");
  EXPECT_NE(ab_first.substr(0, prefix_a.size()), prefix_a);
}

TEST(KeysTest, ShardThenBucketThenOwnerOrder) {
  EXPECT_LT(encode_oplog_key({1, 9, "z", 9}), encode_oplog_key({2, 0, "a", 0}));
  EXPECT_LT(encode_oplog_key({1, 1, "z", 9}), encode_oplog_key({1, 2, "a", 0}));
  EXPECT_LT(encode_owner_state_key({9, 1, "z"}), encode_owner_state_key({0, 2, "a"}));
}

TEST(KeysTest, OplogKeyBytesAreDocumented) {
  // docs/storage-layout.md: shard 2, bucket 1, owner "u1", version 5.
  EXPECT_EQ(encode_oplog_key({2, 1, "u1", 5}),
            std::string("\x00\x02\x01\x00\x02u1\x00\x00\x00\x00\x00\x00\x00\x05", 15));
}

TEST(KeysTest, RoundTrips) {
  auto op = decode_oplog_key(encode_oplog_key({7, 2, "user:42", 99}));
  ASSERT_TRUE(op);
  EXPECT_EQ(op->shard, 7);
  EXPECT_EQ(op->bucket, 2);
  EXPECT_EQ(op->owner, "user:42");
  EXPECT_EQ(op->version, 99U);

  auto dk = decode_dedupe_key(encode_dedupe_key({4, "chat", "user:1", "m-1"}));
  ASSERT_TRUE(dk);
  EXPECT_EQ(dk->bucket, 4);
  EXPECT_EQ(dk->business, "chat");
  EXPECT_EQ(dk->owner, "user:1");
  EXPECT_EQ(dk->msg_id, "m-1");

  auto dv = decode_dedupe_value(encode_dedupe_value({12, 3456}));
  ASSERT_TRUE(dv);
  EXPECT_EQ(dv->version, 12U);
  EXPECT_EQ(dv->expires_at_ms, 3456U);

  auto id = decode_owner_state_key(encode_owner_state_key({5, 3, ""}));
  ASSERT_TRUE(id);
  EXPECT_EQ(id->shard, 5);
  EXPECT_EQ(id->bucket, 3);
  EXPECT_EQ(id->owner, "");

  auto st = decode_owner_state(encode_owner_state({10, 4}));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->head, 10U);
  EXPECT_EQ(st->low_watermark, 4U);
}

TEST(KeysTest, MalformedKeysAreRejected) {
  auto key = encode_oplog_key({0, 1, "owner", 1});
  for (size_t n = 0; n < key.size(); ++n) {
    EXPECT_FALSE(decode_oplog_key(key.substr(0, n))) << n;
  }
  EXPECT_FALSE(decode_oplog_key(key + "x"));
  auto dk = encode_dedupe_key({1, "b", "o", "m"});
  EXPECT_FALSE(decode_dedupe_key(dk.substr(0, dk.size() - 1)));
  EXPECT_FALSE(decode_dedupe_key(dk + "x"));
  EXPECT_FALSE(decode_dedupe_value(std::string(15, '\0')));
  EXPECT_FALSE(decode_owner_state_key(layout_meta_key()));
  EXPECT_FALSE(decode_owner_state_key(owner_state_bucket_prefix(1)));
}

TEST(KeysTest, InconsistentOwnerStatesAreRejected) {
  EXPECT_TRUE(decode_owner_state(encode_owner_state({0, 1})));
  EXPECT_TRUE(decode_owner_state(encode_owner_state({5, 6})));  // everything trimmed
  EXPECT_FALSE(decode_owner_state(encode_owner_state({5, 7})));
  EXPECT_FALSE(decode_owner_state(encode_owner_state({5, 0})));
  auto bytes = encode_owner_state({1, 1});
  bytes[0] = 2;  // unknown format
  EXPECT_FALSE(decode_owner_state(bytes));
}

}  // namespace
}  // namespace tidegate::storage
