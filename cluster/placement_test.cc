#include "cluster/placement.h"

#include <map>

#include <gtest/gtest.h>

namespace tidegate::cluster {
namespace {

member_info member(const std::string& name, const std::string& zone) {
  member_info m;
  m.name = name;
  m.zone = zone;
  return m;
}

const std::vector<zone_rule> two_zones{{0, 511, "z1"}, {512, 1023, "z2"}};
const std::vector<member_info> three{member("n1", "z1"), member("n2", "z1"), member("n3", "z2")};

// The map as replication would leave it once every replica caught up.
std::vector<shard_owner> in_sync(std::vector<shard_owner> owners) {
  for (auto& o : owners) {
    o.replica_in_sync = !o.replica.empty();
  }
  return owners;
}

std::map<std::string, size_t> primaries(const std::vector<shard_owner>& owners) {
  std::map<std::string, size_t> out;
  for (const auto& o : owners) {
    ++out[o.primary];
  }
  return out;
}

TEST(PlacementTest, FirstMapPutsPrimariesInTheHomeZoneAndReplicasInTheOther) {
  auto owners = place({}, three, two_zones, 1024);
  ASSERT_EQ(owners.size(), 1024u);
  for (uint32_t s = 0; s < 1024; ++s) {
    const auto& o = owners[s];
    EXPECT_EQ(o.epoch, 1u);
    if (s < 512) {
      EXPECT_TRUE(o.primary == "n1" || o.primary == "n2") << s;
      EXPECT_EQ(o.replica, "n3") << s;  // the only member of the other zone
    } else {
      EXPECT_EQ(o.primary, "n3") << s;
      EXPECT_TRUE(o.replica == "n1" || o.replica == "n2") << s;
    }
  }
  auto p = primaries(owners);
  EXPECT_EQ(p["n1"], 256u);  // balanced within the zone
  EXPECT_EQ(p["n2"], 256u);
  EXPECT_EQ(p["n3"], 512u);
}

TEST(PlacementTest, WithoutRulesPrimariesSpreadOverEveryMember) {
  auto owners = place({}, three, {}, 999);
  auto p = primaries(owners);
  EXPECT_EQ(p["n1"], 333u);
  EXPECT_EQ(p["n2"], 333u);
  EXPECT_EQ(p["n3"], 333u);
  for (const auto& o : owners) {
    EXPECT_NE(o.replica, o.primary);
    EXPECT_FALSE(o.replica.empty());
  }
}

TEST(PlacementTest, ThePlacementOfAnUnchangedClusterIsUnchanged) {
  auto owners = place({}, three, two_zones, 1024);
  EXPECT_EQ(place(owners, three, two_zones, 1024), owners);
  // A member joining moves nothing by itself (rebalancing hands shards off explicitly).
  auto four = three;
  four.push_back(member("n4", "z2"));
  EXPECT_EQ(place(owners, four, two_zones, 1024), owners);
}

TEST(PlacementTest, ADownPrimaryIsReplacedByItsInSyncReplicaInTheNextEpoch) {
  auto owners = in_sync(place({}, three, two_zones, 1024));
  auto next = place(owners, {member("n1", "z1"), member("n3", "z2")}, two_zones, 1024);
  for (uint32_t s = 0; s < 1024; ++s) {
    if (owners[s].primary == "n2") {
      EXPECT_EQ(next[s].primary, "n3") << s;  // its replica
      EXPECT_EQ(next[s].epoch, owners[s].epoch + 1);
      EXPECT_EQ(next[s].replica, "n1");  // a new replica, another zone than n3's
      EXPECT_FALSE(next[s].replica_in_sync);
    } else if (owners[s].replica == "n2") {
      EXPECT_EQ(next[s].primary, owners[s].primary);
      EXPECT_EQ(next[s].epoch, owners[s].epoch);
      EXPECT_EQ(next[s].replica, "n1");
      EXPECT_FALSE(next[s].replica_in_sync);
    } else {
      EXPECT_EQ(next[s], owners[s]);
    }
  }
}

TEST(PlacementTest, AReplicaNotInSyncIsNeverPromoted) {
  auto owners = place({}, three, two_zones, 1024);  // new replicas: none in sync yet
  auto next = place(owners, {member("n1", "z1"), member("n3", "z2")}, two_zones, 1024);
  for (uint32_t s = 0; s < 1024; ++s) {
    if (owners[s].primary == "n2") {
      EXPECT_EQ(next[s].primary, "n2") << s;  // unavailable until n2 returns
      EXPECT_EQ(next[s].epoch, owners[s].epoch);
    }
  }
}

TEST(PlacementTest, AShardWhosePrimaryAndReplicaAreDownStaysAsItWas) {
  auto owners = in_sync(place({}, three, two_zones, 1024));
  auto next = place(owners, {member("n1", "z1")}, two_zones, 1024);
  for (uint32_t s = 0; s < 1024; ++s) {
    if (owners[s].primary == "n2") {  // replica n3, also down
      EXPECT_EQ(next[s], owners[s]) << s;
    }
  }
}

TEST(PlacementTest, LosingAWholeZoneLeavesTheOtherServingEveryShard) {
  auto owners = in_sync(place({}, three, two_zones, 1024));
  auto next = place(owners, {member("n3", "z2")}, two_zones, 1024);
  for (uint32_t s = 0; s < 1024; ++s) {
    EXPECT_EQ(next[s].primary, "n3") << s;
    EXPECT_EQ(next[s].replica, "") << s;  // nobody left to hold a copy
  }
}

TEST(PlacementTest, NoMemberUpChangesNothing) {
  auto owners = place({}, three, two_zones, 16);
  EXPECT_EQ(place(owners, {}, two_zones, 16), owners);
}

TEST(PlacementTest, AReportMarksAReplicaInSyncUntilItRestarts) {
  auto owners = place({}, three, two_zones, 4);
  const auto& replica = owners[0].replica;
  std::map<std::string, int64_t> incarnations{{"n1", 10}, {"n2", 20}, {"n3", 30}};
  apply_sync_reports(owners,
                     {{0, owners[0].epoch, replica, incarnations[replica]},
                      {1, owners[1].epoch + 1, owners[1].replica, 1},  // another epoch
                      {2, owners[2].epoch, "nobody", 1}},              // another replica
                     incarnations);
  EXPECT_TRUE(owners[0].replica_in_sync);
  EXPECT_FALSE(owners[1].replica_in_sync);
  EXPECT_FALSE(owners[2].replica_in_sync);
  incarnations[replica] = 99;  // it restarted: maybe with an empty disk
  apply_sync_reports(owners, {}, incarnations);
  EXPECT_FALSE(owners[0].replica_in_sync);
  EXPECT_EQ(owners[0].replica_incarnation, 0);
}

TEST(PlacementTest, HomeZoneIsTheFirstRuleThatCoversTheShard) {
  std::vector<zone_rule> rules{{0, 9, "a"}, {5, 20, "b"}};
  EXPECT_EQ(home_zone(rules, 7), "a");
  EXPECT_EQ(home_zone(rules, 15), "b");
  EXPECT_EQ(home_zone(rules, 21), "");
}

}  // namespace
}  // namespace tidegate::cluster
