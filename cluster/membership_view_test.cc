#include "cluster/membership_view.h"

#include <gtest/gtest.h>

namespace tidegate::cluster {
namespace {

member_info member(const std::string& name, uint16_t port, int64_t started_at_ms) {
  member_info m;
  m.name = name;
  m.zone = "z1";
  m.host = "127.0.0.1";
  m.port = port;
  m.started_at_ms = started_at_ms;
  return m;
}

const std::vector<std::string> three_seeds{"127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203"};

TEST(MembershipViewTest, ANodeAloneWithThreeSeedsIsNoMajority) {
  membership_view view{member("a", 7201, 100), three_seeds};
  EXPECT_EQ(view.known_count(), 3u);  // itself and the two other seeds
  EXPECT_EQ(view.reachable_count(), 1u);
  EXPECT_FALSE(view.has_majority());
  EXPECT_EQ(view.leader(), nullptr);
  EXPECT_EQ(view.unresolved_seeds(),
            (std::vector<std::string>{"127.0.0.1:7202", "127.0.0.1:7203"}));
}

TEST(MembershipViewTest, HearingOneSeedMakesTwoOfThreeAndTheOldestLeads) {
  membership_view view{member("a", 7201, 200), three_seeds};
  EXPECT_TRUE(view.heard(member("b", 7202, 100), 1'000));
  EXPECT_EQ(view.known_count(), 3u);
  EXPECT_EQ(view.reachable_count(), 2u);
  ASSERT_TRUE(view.has_majority());
  ASSERT_NE(view.leader(), nullptr);
  EXPECT_EQ(view.leader()->name, "b");  // started first
}

TEST(MembershipViewTest, TheSameStartTimeIsOrderedByName) {
  membership_view view{member("b", 7202, 100), three_seeds};
  view.heard(member("a", 7201, 100), 1'000);
  view.heard(member("c", 7203, 100), 1'000);
  EXPECT_EQ(view.leader()->name, "a");
}

TEST(MembershipViewTest, SilenceBeyondTheTimeoutMakesAMemberUnreachable) {
  membership_view view{member("a", 7201, 100), three_seeds};
  view.heard(member("b", 7202, 200), 1'000);
  view.heard(member("c", 7203, 300), 1'000);
  EXPECT_TRUE(view.expire(1'900, 1'000).empty());
  view.heard(member("b", 7202, 200), 1'900);
  EXPECT_EQ(view.expire(2'100, 1'000), std::vector<std::string>{"c"});
  EXPECT_FALSE(view.find("c")->reachable);
  EXPECT_TRUE(view.find("b")->reachable);
  EXPECT_TRUE(view.has_majority());  // 2 of 3
  view.lost("b");                    // its connection closed
  EXPECT_FALSE(view.has_majority());
  EXPECT_EQ(view.leader(), nullptr);
  view.heard(member("c", 7203, 300), 2'200);  // back after SIGCONT
  EXPECT_TRUE(view.has_majority());
}

TEST(MembershipViewTest, TheLeaderIsTheOldestReachableNotTheOldestKnown) {
  membership_view view{member("b", 7202, 200), three_seeds};
  view.heard(member("a", 7201, 100), 1'000);
  view.heard(member("c", 7203, 300), 1'000);
  EXPECT_EQ(view.leader()->name, "a");
  view.lost("a");
  EXPECT_EQ(view.leader()->name, "b");
}

TEST(MembershipViewTest, ForgivingAfterOurOwnStallKeepsReachablePeersReachable) {
  membership_view view{member("a", 7201, 100), three_seeds};
  view.heard(member("b", 7202, 200), 1'000);
  view.lost("c");  // unknown: no effect
  view.forgive(9'000);
  EXPECT_TRUE(view.expire(9'500, 1'000).empty());
  EXPECT_TRUE(view.find("b")->reachable);
}

TEST(MembershipViewTest, GossipAddsUnreachableMembersThatCountAsKnown) {
  membership_view view{member("a", 7201, 100), {"127.0.0.1:7202"}};
  view.heard(member("b", 7202, 200), 1'000);
  EXPECT_TRUE(view.learn(member("d", 7204, 400)));
  EXPECT_FALSE(view.learn(member("d", 7204, 400)));  // already known
  EXPECT_EQ(view.known_count(), 3u);
  EXPECT_EQ(view.reachable_count(), 2u);
  EXPECT_FALSE(view.find("d")->reachable);
  EXPECT_FALSE(view.learn(member("a", 7201, 100)));  // itself
}

TEST(MembershipViewTest, ARestartReplacesTheOldIncarnationAndOldNewsIsIgnored) {
  membership_view view{member("a", 7201, 100), three_seeds};
  view.heard(member("b", 7202, 200), 1'000);
  EXPECT_TRUE(view.learn(member("b", 7202, 500)));  // restarted
  EXPECT_FALSE(view.find("b")->reachable);          // until the new one is heard
  EXPECT_FALSE(view.heard(member("b", 7202, 200), 1'100));
  EXPECT_FALSE(view.learn(member("b", 7202, 200)));
  EXPECT_TRUE(view.heard(member("b", 7202, 500), 1'200));
  EXPECT_EQ(view.find("b")->info.started_at_ms, 500);
}

TEST(MembershipViewTest, AMemberThatLeftIsForgottenAndGossipDoesNotBringItBack) {
  membership_view view{member("a", 7201, 100), three_seeds};
  view.heard(member("b", 7202, 200), 1'000);
  view.heard(member("c", 7203, 300), 1'000);
  view.left("c", 300);
  EXPECT_EQ(view.find("c"), nullptr);
  EXPECT_EQ(view.known_count(), 2u);  // its seed address stays resolved
  EXPECT_FALSE(view.learn(member("c", 7203, 300)));
  EXPECT_FALSE(view.heard(member("c", 7203, 300), 1'100));
  EXPECT_TRUE(view.learn(member("c", 7203, 900)));  // a new incarnation joins again
}

TEST(MembershipViewTest, OwnAddressAmongTheSeedsIsIgnored) {
  membership_view view{member("a", 7201, 100), {"127.0.0.1:7201"}};
  EXPECT_EQ(view.known_count(), 1u);
  EXPECT_TRUE(view.has_majority());
  EXPECT_EQ(view.leader()->name, "a");
}

}  // namespace
}  // namespace tidegate::cluster
