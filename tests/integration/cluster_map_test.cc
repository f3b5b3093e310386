// The controller's shard map with real node processes (DESIGN §10): one committed map on every
// member, zone-aware placement, promotion of in-sync replicas when a primary dies, a new leader
// resuming from the committed map, persistence across restarts, the loss of a zone.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "tests/support/process_cluster.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr auto settle = 20s;  // a bound that catches "never", not a speed

// n1, n2 in z1; n3 in z2; shards 0-511 live in z1, 512-1023 in z2.
class ClusterMapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.set_cluster_extra(two_zone_rules);
    // Every member sees a map over all three, with every replica in sync (the primaries'
    // catch-up finds no data to copy): from then on a dead primary's shards are promoted.
    auto over_all = map_over({"n1", "n2", "n3"});
    ASSERT_TRUE(cluster_.start_all(
        [over_all](const member_view& v) { return serving(v) && over_all(v); }, settle));
  }

  // A committed map whose primaries are exactly `members`, with `unavailable` shards whose
  // primary the member cannot reach.
  static std::function<bool(const member_view&)> map_over(std::set<std::string> members,
                                                          size_t unavailable = 0) {
    return [members, unavailable](const member_view& v) {
      if (v.map_version == 0 || v.unavailable != unavailable
          || v.primaries.size() != members.size()) {
        return false;
      }
      for (const auto& [name, count] : v.primaries) {
        if (members.count(name) == 0 || count == 0) {
          return false;
        }
      }
      return true;
    };
  }

  static std::function<bool(const member_view&)> map_newer_than(const member_view& old,
                                                                std::set<std::string> members,
                                                                size_t unavailable = 0) {
    auto over = map_over(std::move(members), unavailable);
    return [old, over](const member_view& v) {
      return std::tie(v.map_term, v.map_version) > std::tie(old.map_term, old.map_version)
             && over(v);
    };
  }

  process_cluster cluster_{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
};

TEST_F(ClusterMapTest, EveryMemberCommitsTheSameZoneAwareMap) {
  auto first = cluster_.view(0);
  ASSERT_TRUE(first);
  for (size_t i = 1; i < 3; ++i) {
    ASSERT_TRUE(cluster_.wait_for(
        i,
        [&](const member_view& v) {
          return v.map_term == first->map_term && v.map_version == first->map_version;
        },
        settle));
  }
  auto shards = cluster_.shards(0);
  ASSERT_EQ(shards.size(), 1024u);
  std::map<std::string, std::string> zone{{"n1", "z1"}, {"n2", "z1"}, {"n3", "z2"}};
  for (size_t s = 0; s < shards.size(); ++s) {
    EXPECT_EQ(zone[shards[s].primary], s < 512 ? "z1" : "z2") << s;
    EXPECT_NE(zone[shards[s].replica], zone[shards[s].primary]) << s;  // the other zone
    EXPECT_EQ(shards[s].epoch, 1u);
  }
  EXPECT_EQ(cluster_.shards(2).size(), 1024u);
}

TEST_F(ClusterMapTest, KillingAPrimaryPromotesItsInSyncReplicasInTheNextEpoch) {
  auto before = cluster_.shards(0);
  auto old = cluster_.view(0);
  ASSERT_TRUE(old);
  auto killed_at = clock_type::now();
  cluster_.kill(1);  // n2: not the leader (n1 is older)
  ASSERT_TRUE(cluster_.wait_for(0, map_newer_than(*old, {"n1", "n3"}), settle));
  std::cout << "[ figure ] SIGKILL of n2 to a committed map without it: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - killed_at)
                   .count()
            << " ms\n";
  ASSERT_TRUE(cluster_.wait_for(2, map_newer_than(*old, {"n1", "n3"}), settle));
  auto after = cluster_.shards(2);
  ASSERT_EQ(after.size(), before.size());
  for (size_t s = 0; s < after.size(); ++s) {
    if (before[s].primary == "n2") {
      EXPECT_EQ(after[s].primary, before[s].replica) << s;
      EXPECT_EQ(after[s].epoch, before[s].epoch + 1) << s;
    } else {
      EXPECT_EQ(after[s].primary, before[s].primary) << s;
      EXPECT_EQ(after[s].epoch, before[s].epoch) << s;
    }
    EXPECT_NE(after[s].replica, "n2") << s;
  }
}

TEST_F(ClusterMapTest, ANewLeaderResumesFromTheCommittedMap) {
  auto before = cluster_.shards(1);
  auto old = cluster_.view(1);
  ASSERT_TRUE(old);
  cluster_.kill(0);  // the leader
  ASSERT_TRUE(cluster_.wait_for(1, map_newer_than(*old, {"n2", "n3"}), settle));
  auto now = cluster_.view(1);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->leader, "n2");
  EXPECT_GT(now->map_term, old->map_term);        // a new leader, a new term
  EXPECT_GT(now->map_version, old->map_version);  // versions continue
  auto after = cluster_.shards(1);
  ASSERT_EQ(after.size(), before.size());
  for (size_t s = 0; s < after.size(); ++s) {
    // Built on the committed map, and never two primaries in one epoch: a shard that moved
    // did so in a later epoch.
    if (after[s].primary != before[s].primary) {
      EXPECT_EQ(after[s].primary, before[s].replica) << s;
      EXPECT_GT(after[s].epoch, before[s].epoch) << s;
    } else {
      EXPECT_EQ(after[s].epoch, before[s].epoch) << s;
    }
  }
}

// The leader is frozen (a hung host, a partition) while the others commit maps in a later
// term without it. When it resumes it still leads in every view (it is the oldest) but holds
// the old map: the others answer its re-sent old map with the current one, and it prepares a
// term above it. Without that it kept its old map for ever and proposed nothing, so it never
// got shards back and the cluster made no map change until another failure.
TEST_F(ClusterMapTest, AFrozenLeaderAdoptsTheMapCommittedWithoutItAndGetsShardsBack) {
  auto old = cluster_.view(1);
  ASSERT_TRUE(old);
  ASSERT_EQ(old->leader, "n1");
  cluster_.signal(0, SIGSTOP);
  ASSERT_TRUE(cluster_.wait_for(1, map_newer_than(*old, {"n2", "n3"}), settle));
  std::this_thread::sleep_for(3s);  // a hang of seconds, as a stalled host has
  auto without = cluster_.view(1);
  ASSERT_TRUE(without);
  cluster_.signal(0, SIGCONT);
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster_.wait_for(
        i,
        [&](const member_view& v) {
          return v.leader == "n1" && map_newer_than(*without, {"n1", "n2", "n3"})(v);
        },
        settle))
        << cluster_.name(i);
  }
  auto now = cluster_.view(0);
  ASSERT_TRUE(now);
  EXPECT_GT(now->map_term, without->map_term);  // n1 led again through a new prepare
}

TEST_F(ClusterMapTest, TheMapSurvivesARestartOfEveryMember) {
  auto before = cluster_.shards(0);
  auto old = cluster_.view(0);
  ASSERT_TRUE(old);
  for (size_t i = 0; i < 3; ++i) {
    cluster_.kill(i);
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster_.start(i));
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster_.wait_for(
        i,
        [&](const member_view& v) {
          return v.has_majority && v.map_version >= old->map_version && v.unavailable == 0;
        },
        settle));
  }
  auto after = cluster_.shards(0);
  ASSERT_EQ(after.size(), before.size());
  for (size_t s = 0; s < after.size(); ++s) {
    EXPECT_EQ(after[s].primary, before[s].primary) << s;
    EXPECT_EQ(after[s].epoch, before[s].epoch) << s;
  }
}

TEST_F(ClusterMapTest, LosingAZoneLeavesTheOtherServingEveryShard) {
  auto old = cluster_.view(0);
  ASSERT_TRUE(old);
  cluster_.kill(2);  // all of z2: the primary of shards 512-1023
  ASSERT_TRUE(cluster_.wait_for(0, map_newer_than(*old, {"n1", "n2"}), settle));
  auto shards = cluster_.shards(0);
  for (size_t s = 0; s < shards.size(); ++s) {
    EXPECT_TRUE(shards[s].primary == "n1" || shards[s].primary == "n2") << s;
  }
  auto [status, body] =
      cluster_.post(0, "/v1/sync/ops",
                    R"({"business":"chat","owner":")" + owner_with_primary(shards, "n2")
                        + R"(","payload":"x","msg_id":"z"})");
  EXPECT_EQ(status, 200) << body;
}

}  // namespace
}  // namespace tidegate::test
