// Replication with real node processes (DESIGN §10, §14.1): an op is acknowledged only once the
// replica of its shard applied it, so every acknowledged op is in the replica's LMDB when the
// primary is killed; a new replica receives the history it lacks from the primary's log.
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"
#include "tests/support/process_cluster.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr auto settle = 20s;

class ClusterReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.start_all(serving, settle));
    shards_ = cluster_.shards(0);
    ASSERT_EQ(shards_.size(), 1024u);
  }

  size_t index_of(const std::string& name) const { return std::stoul(name.substr(1)) - 1; }

  std::string owner_on(const std::string& primary) const {
    return owner_with_primary(shards_, primary);
  }

  const shard_row& row_of(const std::string& owner) const {
    return shards_[actors::shard_of(owner, 1024)];
  }

  bool publish(size_t via, const std::string& owner, const std::string& msg_id) {
    auto [status, body] = cluster_.post(
        via, "/v1/sync/ops",
        json{{"business", "chat"}, {"owner", owner}, {"payload", msg_id}, {"msg_id", msg_id}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    return status == 200;
  }

  process_cluster cluster_{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  std::vector<shard_row> shards_;
};

TEST_F(ClusterReplicationTest, EveryAcknowledgedOpIsInItsReplicaWhenThePrimaryIsKilled) {
  std::map<std::string, std::vector<std::string>> acked;  // owner -> msg_ids, in version order
  std::vector<std::string> owners;
  for (const auto* primary : {"n1", "n2", "n3"}) {
    owners.push_back(owner_on(primary));
  }
  for (int k = 0; k < 10; ++k) {
    for (const auto& owner : owners) {
      auto msg_id = owner + "-" + std::to_string(k);
      if (publish(static_cast<size_t>(k) % 3, owner, msg_id)) {
        acked[owner].push_back(msg_id);
      }
    }
  }
  json batch{{"ops", json::array()}};
  for (const auto& owner : owners) {
    batch["ops"].push_back(
        {{"business", "chat"}, {"owner", owner}, {"payload", "b"}, {"msg_id", owner + "-b"}});
  }
  auto [status, body] = cluster_.post(1, "/v1/sync/ops:batch", batch.dump());
  ASSERT_EQ(status, 200) << body;
  for (const auto& owner : owners) {
    acked[owner].push_back(owner + "-b");
  }
  for (size_t i = 0; i < 3; ++i) {
    cluster_.kill(i);  // SIGKILL: nothing is flushed on the way out
  }
  for (const auto& owner : owners) {
    const auto& row = row_of(owner);
    ASSERT_FALSE(row.replica.empty());
    EXPECT_EQ(read_owner_log(cluster_.data_dir(index_of(row.primary)), owner), acked[owner])
        << owner;
    EXPECT_EQ(read_owner_log(cluster_.data_dir(index_of(row.replica)), owner), acked[owner])
        << owner << " on its replica " << row.replica;
  }
}

TEST_F(ClusterReplicationTest, ANewReplicaGetsTheHistoryItLacksFromThePrimary) {
  auto owner = owner_on("n1");
  auto old_replica = row_of(owner).replica;
  std::vector<std::string> acked;
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(publish(0, owner, "early-" + std::to_string(k)));
    acked.push_back("early-" + std::to_string(k));
  }
  auto before = cluster_.view(0);
  ASSERT_TRUE(before);
  cluster_.kill(index_of(old_replica));
  // The next map gives the shard a new replica: the one member left.
  std::string new_replica = old_replica == "n2" ? "n3" : "n2";
  ASSERT_TRUE(cluster_.wait_for(
      0, [&](const member_view& v) { return v.map_version > before->map_version; }, settle));
  ASSERT_TRUE(cluster_.wait_for(
      0,
      [&](const member_view&) {
        auto rows = cluster_.shards(0);
        return rows.size() == 1024 && rows[actors::shard_of(owner, 1024)].replica == new_replica;
      },
      settle));
  ASSERT_TRUE(publish(0, owner, "late"));  // acknowledged once the new replica has all six
  acked.push_back("late");
  for (size_t i = 0; i < 3; ++i) {
    cluster_.kill(i);
  }
  EXPECT_EQ(read_owner_log(cluster_.data_dir(index_of(new_replica)), owner), acked);
}

// Retention trimmed the owner's oldest ops on the primary before the new replica was named:
// the replica skips what is gone (a rebase past it) and takes what is kept.
TEST(ClusterReplicationRetentionTest, ANewReplicaSkipsOpsItsPrimaryTrimmed) {
  process_cluster cluster{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  cluster.set_cluster_extra("[[buckets]]\nname = \"user\"\nkeep_ops = 3\n");
  ASSERT_TRUE(cluster.start_all(serving, settle));
  auto shards = cluster.shards(0);
  auto owner = owner_with_primary(shards, "n1");
  auto shard = actors::shard_of(owner, 1024);
  auto old_replica = shards[shard].replica;
  for (int k = 1; k <= 10; ++k) {
    auto [status, body] = cluster.post(0, "/v1/sync/ops",
                                       json{{"business", "chat"},
                                            {"owner", owner},
                                            {"payload", "p"},
                                            {"msg_id", "m" + std::to_string(k)}}
                                           .dump());
    ASSERT_EQ(status, 200) << body;
  }
  // The primary's maintenance trims to the newest 3 (read from its live LMDB, as another
  // process may).
  uint8_t bucket = actors::default_sync_config().bucket("user")->id;
  auto low_watermark = [&](size_t member) {
    storage::env_options options;
    options.mode = storage::durability::periodic;
    auto env = storage::lmdb_env::open(cluster.data_dir(member), options);
    if (!env) {
      return uint64_t{0};
    }
    storage::oplog_store store{**env};
    auto low = store.low_watermark(shard, bucket, owner);
    return low ? *low : 0;
  };
  auto deadline = std::chrono::steady_clock::now() + settle;
  while (low_watermark(0) != 8 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(low_watermark(0), 8u);
  auto before = cluster.view(0);
  ASSERT_TRUE(before);
  cluster.kill(old_replica == "n2" ? 1 : 2);
  std::string new_replica = old_replica == "n2" ? "n3" : "n2";
  ASSERT_TRUE(cluster.wait_for(
      0,
      [&](const member_view&) {
        auto rows = cluster.shards(0);
        return rows.size() == 1024 && rows[shard].replica == new_replica;
      },
      settle));
  // The new replica may follow the new map a moment after the primary: a backend retries.
  int status = 0;
  std::string body;
  deadline = std::chrono::steady_clock::now() + settle;
  do {
    std::tie(status, body) = cluster.post(
        0, "/v1/sync/ops",
        json{{"business", "chat"}, {"owner", owner}, {"payload", "p"}, {"msg_id", "m11"}}.dump());
  } while (status == 503 && std::chrono::steady_clock::now() < deadline
           && (std::this_thread::sleep_for(50ms), true));
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body).value("version", uint64_t{0}), 11u);
  for (size_t i = 0; i < 3; ++i) {
    cluster.kill(i);
  }
  storage::env_options options;
  options.mode = storage::durability::periodic;
  auto env = storage::lmdb_env::open(cluster.data_dir(new_replica == "n2" ? 1 : 2), options);
  ASSERT_TRUE(env);
  storage::oplog_store store{**env};
  auto head = store.head(shard, bucket, owner);
  auto low = store.low_watermark(shard, bucket, owner);
  ASSERT_TRUE(head && low);
  EXPECT_EQ(*head, 11u);
  // It took m8..m10 from the primary and m11 from its stream. Its own retention (keep_ops = 3,
  // each second) trims m8 once it runs after m11 arrived, so the log starts at 8 or 9; never
  // below 8, which the primary no longer had.
  ASSERT_TRUE(*low == 8u || *low == 9u) << *low;
  auto page = store.read_range(shard, bucket, owner, *low - 1, 100, size_t{1} << 20);
  ASSERT_TRUE(page);
  std::vector<std::string> ids;
  for (const auto& r : page->records) {
    ids.push_back(r.msg_id);
  }
  std::vector<std::string> kept;
  for (uint64_t v = *low; v <= 11; ++v) {
    kept.push_back("m" + std::to_string(v));
  }
  EXPECT_EQ(ids, kept);
}

}  // namespace
}  // namespace tidegate::test
