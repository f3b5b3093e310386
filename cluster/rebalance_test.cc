#include "cluster/rebalance.h"

#include <map>

#include <gtest/gtest.h>

namespace tidegate::cluster {
namespace {

member_info member(const std::string& name, const std::string& zone) {
  member_info m;
  m.name = name;
  m.zone = zone;
  m.started_at_ms = 100;
  return m;
}

std::map<std::string, int64_t> incarnations(const std::vector<member_info>& up) {
  std::map<std::string, int64_t> out;
  for (const auto& m : up) {
    out[m.name] = m.started_at_ms;
  }
  return out;
}

struct counts {
  std::map<std::string, size_t> primaries;
  std::map<std::string, size_t> replicas;
  size_t moving = 0;
};

counts count(const std::vector<shard_owner>& owners) {
  counts c;
  for (const auto& o : owners) {
    ++c.primaries[o.primary];
    if (!o.replica.empty()) {
      ++c.replicas[o.replica];
    }
    c.moving += o.moving_to.empty() ? 0 : 1;
  }
  return c;
}

// Runs the leader's steps until the map stops changing, as if every new replica caught up
// and every sealed primary reported its hand-off ready between two steps. Checks on the way
// that the shards in motion stay within the limit and that every primary change is a
// hand-off to an in-sync replica.
std::vector<shard_owner> settle(std::vector<shard_owner> owners, const std::vector<member_info>& up,
                                const std::vector<zone_rule>& rules,
                                const std::vector<std::string>& draining, size_t limit) {
  auto inc = incarnations(up);
  move_limits limits;
  limits.max_in_motion = limit;
  for (int step = 0; step < 10000; ++step) {
    std::vector<sync_report> synced;
    std::vector<handoff_report> ready;
    for (uint32_t s = 0; s < owners.size(); ++s) {
      const auto& o = owners[s];
      if (o.sealed()) {
        ready.push_back({s, o.epoch, o.primary, o.moving_to, inc.at(o.primary)});
      } else if (!o.replica.empty() && !o.replica_in_sync) {
        synced.push_back({s, o.epoch, o.replica, inc.at(o.replica)});
      }
      if (!o.learner.empty()) {
        synced.push_back({s, o.epoch, o.learner, inc.at(o.learner)});
      }
    }
    auto before = owners;
    apply_sync_reports(owners, synced, inc);
    apply_handoffs(owners, ready, inc);
    for (uint32_t s = 0; s < owners.size(); ++s) {
      if (owners[s].primary != before[s].primary) {
        EXPECT_EQ(owners[s].primary, before[s].moving_to) << s;
        EXPECT_TRUE(before[s].sealed()) << s;
        EXPECT_EQ(owners[s].epoch, before[s].epoch + 1) << s;
      }
    }
    owners = place(owners, up, rules, static_cast<uint32_t>(owners.size()));
    plan_moves(owners, up, rules, draining, limits);
    size_t in_motion = 0;
    for (uint32_t s = 0; s < owners.size(); ++s) {
      const auto& o = owners[s];
      in_motion +=
          !o.moving_to.empty() || !o.learner.empty() || (!o.replica.empty() && !o.replica_in_sync)
              ? 1
              : 0;
      // With every member up, a shard never goes back to a single full copy (decision 0020).
      EXPECT_TRUE(!before[s].replica_in_sync || o.replica_in_sync) << "shard " << s;
      EXPECT_TRUE(o.learner.empty() || (o.learner != o.primary && o.learner != o.replica)) << s;
    }
    EXPECT_LE(in_motion, limit) << "step " << step;
    if (owners == before && synced.empty() && ready.empty()) {
      return owners;
    }
  }
  ADD_FAILURE() << "the map never settled";
  return owners;
}

TEST(RebalanceTest, AJoinedMemberGetsItsShareOfPrimariesAndReplicas) {
  std::vector<member_info> two{member("n1", ""), member("n2", "")};
  auto owners = settle(place({}, two, {}, 1024), two, {}, {}, 1024);
  EXPECT_EQ(count(owners).primaries["n1"], 512u);
  auto three = two;
  three.push_back(member("n3", ""));
  owners = settle(owners, three, {}, {}, 16);
  auto c = count(owners);
  for (const auto& name : {"n1", "n2", "n3"}) {
    EXPECT_GE(c.primaries[name], 341u) << name;
    EXPECT_LE(c.primaries[name], 342u) << name;
    EXPECT_GE(c.replicas[name], 300u) << name;
  }
  EXPECT_EQ(c.moving, 0u);
  for (const auto& o : owners) {
    EXPECT_TRUE(o.replica_in_sync);
    EXPECT_NE(o.primary, o.replica);
  }
}

TEST(RebalanceTest, ADrainedMemberEndsWithNoShards) {
  std::vector<member_info> three{member("n1", ""), member("n2", ""), member("n3", "")};
  auto owners = settle(place({}, three, {}, 256), three, {}, {}, 256);
  owners = settle(owners, three, {}, {"n3"}, 8);
  auto c = count(owners);
  EXPECT_EQ(c.primaries.count("n3"), 0u);
  EXPECT_EQ(c.replicas.count("n3"), 0u);
  EXPECT_EQ(c.primaries["n1"], 128u);
  for (const auto& o : owners) {
    EXPECT_TRUE(o.replica_in_sync);
  }
}

TEST(RebalanceTest, ShardsGoBackToTheirHomeZoneWhenItHasAMemberAgain) {
  const std::vector<zone_rule> rules{{0, 63, "z1"}, {64, 127, "z2"}};
  std::vector<member_info> z1_only{member("n1", "z1"), member("n2", "z1")};
  auto owners = settle(place({}, z1_only, rules, 128), z1_only, rules, {}, 128);
  EXPECT_EQ(count(owners).primaries["n1"] + count(owners).primaries["n2"], 128u);
  auto both = z1_only;
  both.push_back(member("n3", "z2"));
  owners = settle(owners, both, rules, {}, 8);
  for (uint32_t s = 0; s < 128; ++s) {
    EXPECT_EQ(owners[s].primary == "n3", s >= 64) << s;
    EXPECT_EQ(owners[s].replica == "n3", s < 64) << s;  // the replica in the other zone
  }
}

TEST(RebalanceTest, AMoveStartsByMakingItsTargetALearnerBesideTheInSyncReplica) {
  std::vector<member_info> two{member("n1", ""), member("n2", "")};
  std::vector<shard_owner> owners(4, shard_owner{"n1", "n2", 3, true, 100, "", ""});
  owners[2].primary = owners[3].primary = "n2";
  owners[2].replica = owners[3].replica = "n1";
  auto three = two;
  three.push_back(member("n3", ""));
  move_limits limits;
  limits.max_in_motion = 1;
  plan_moves(owners, three, {}, {}, limits);
  EXPECT_EQ(owners[1].moving_to, "n3");  // the highest shard of the most loaded member
  EXPECT_EQ(owners[1].learner, "n3");
  EXPECT_EQ(owners[1].replica, "n2");  // still in sync: two full copies while n3 catches up
  EXPECT_TRUE(owners[1].replica_in_sync);
  EXPECT_FALSE(owners[1].sealed());
  EXPECT_EQ(owners[1].epoch, 3u);
  EXPECT_TRUE(owners[0].moving_to.empty());  // the limit
  // Caught up: n3 replaces n2 as the in-sync replica, and the shard is sealed for the swap.
  apply_sync_reports(owners, {{1, 3, "n3", 100}}, incarnations(three));
  EXPECT_EQ(owners[1].replica, "n3");
  EXPECT_TRUE(owners[1].learner.empty());
  EXPECT_TRUE(owners[1].replica_in_sync);
  EXPECT_TRUE(owners[1].sealed());
}

TEST(RebalanceTest, AMoveOfAShardWithoutAnInSyncReplicaReplacesTheReplica) {
  std::vector<member_info> three{member("n1", ""), member("n2", ""), member("n3", "")};
  std::vector<shard_owner> owners(3, shard_owner{"n1", "n2", 3, false, 0, "", ""});
  move_limits limits;
  limits.max_in_motion = 8;  // the three replicas catching up count too
  plan_moves(owners, three, {}, {}, limits);
  EXPECT_EQ(owners[2].moving_to, "n2");  // to its replica already
  EXPECT_EQ(owners[1].moving_to, "n3");
  EXPECT_EQ(owners[1].replica, "n3");  // nothing full to keep
  EXPECT_TRUE(owners[1].learner.empty());
}

TEST(RebalanceTest, ALearnerThatGoesDownOrDrainsIsDropped) {
  std::vector<member_info> two{member("n1", ""), member("n2", "")};
  std::vector<shard_owner> owners{{"n1", "n2", 2, true, 100, "n3", "n3"},
                                  {"n2", "n1", 2, true, 100, "", "n3"}};
  // n3 went down: place() drops its learners, and the in-sync replicas stay.
  auto placed = place(owners, two, {}, 2);
  EXPECT_TRUE(placed[0].learner.empty());
  EXPECT_TRUE(placed[1].learner.empty());
  EXPECT_EQ(placed[0].replica, "n2");
  EXPECT_TRUE(placed[0].replica_in_sync);
  // n3 is up but draining: plan_moves() drops them (and the move to it).
  auto three = two;
  three.push_back(member("n3", ""));
  move_limits limits;
  limits.max_in_motion = 0;
  plan_moves(owners, three, {}, {"n3"}, limits);
  EXPECT_TRUE(owners[0].learner.empty());
  EXPECT_TRUE(owners[0].moving_to.empty());
  EXPECT_TRUE(owners[1].learner.empty());
  EXPECT_TRUE(owners[1].replica_in_sync);
  // A learner that cannot catch up (its log diverged) is cancelled like a stuck hand-off.
  std::vector<shard_owner> diverged{{"n1", "n2", 2, true, 100, "", "n3"}};
  limits.cancel = {0};
  plan_moves(diverged, three, {}, {}, limits);
  EXPECT_TRUE(diverged[0].learner.empty());
  EXPECT_EQ(diverged[0].replica, "n2");
}

TEST(RebalanceTest, WhenTheReplicaGoesTheLearnerTakesItsPlace) {
  std::vector<member_info> n1_n3{member("n1", ""), member("n3", "")};
  std::vector<shard_owner> owners{{"n1", "n2", 2, true, 100, "", "n3"},
                                  {"n2", "n1", 2, true, 100, "", "n3"}};
  auto placed = place(owners, n1_n3, {}, 2);
  // Shard 0: its replica n2 is gone; n3, which has the stream already, goes on as replica.
  EXPECT_EQ(placed[0].primary, "n1");
  EXPECT_EQ(placed[0].replica, "n3");
  EXPECT_FALSE(placed[0].replica_in_sync);
  EXPECT_TRUE(placed[0].learner.empty());
  // Shard 1: its primary n2 is gone; the in-sync replica n1 is promoted, n3 is its replica.
  EXPECT_EQ(placed[1].primary, "n1");
  EXPECT_EQ(placed[1].epoch, 3u);
  EXPECT_EQ(placed[1].replica, "n3");
  EXPECT_FALSE(placed[1].replica_in_sync);
  EXPECT_TRUE(placed[1].learner.empty());
}

TEST(RebalanceTest, AHandOffAppliesOnlyWhileItStillMatches) {
  auto inc = incarnations({member("n1", ""), member("n2", "")});
  shard_owner sealed{"n1", "n2", 5, true, 100, "n2", ""};
  ASSERT_TRUE(sealed.sealed());
  std::vector<shard_owner> owners{sealed, sealed, sealed, sealed};
  apply_handoffs(owners,
                 {{0, 5, "n1", "n2", 100},
                  {1, 4, "n1", "n2", 100},   // an older epoch
                  {2, 5, "n1", "n2", 99},    // n1 restarted since it sealed
                  {3, 5, "n2", "n1", 100}},  // not the primary
                 inc);
  EXPECT_EQ(owners[0], (shard_owner{"n2", "n1", 6, true, 100, "", ""}));
  for (size_t s = 1; s < 4; ++s) {
    EXPECT_EQ(owners[s], sealed) << s;
  }
}

TEST(RebalanceTest, AMoveIsCancelledWhenItsTargetGoesOrItTimesOut) {
  std::vector<member_info> two{member("n1", ""), member("n2", "")};
  std::vector<shard_owner> owners{{"n1", "n3", 2, false, 0, "n3", ""},
                                  {"n1", "n2", 2, true, 100, "n2", ""}};
  move_limits limits;
  limits.cancel = {1};
  plan_moves(owners, two, {}, {}, limits);
  EXPECT_TRUE(owners[1].moving_to.empty());  // and not moved again while cancelled
  EXPECT_EQ(owners[0].moving_to, "n2");      // n3 is gone: n2 is the least loaded now
  EXPECT_EQ(owners[0].replica, "n2");
  limits.cancel.clear();
  plan_moves(owners, two, {}, {}, limits);
  EXPECT_TRUE(owners[1].moving_to.empty());  // balanced once shard 0 moves
}

}  // namespace
}  // namespace tidegate::cluster
