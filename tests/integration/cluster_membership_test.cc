// Cluster membership with real node processes on loopback (DESIGN §10): formation in any start
// order, late joins, failure detection of killed and frozen members, leadership, keep-majority.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "tests/support/process_cluster.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Generous bounds: they catch a detector that does not work, not a slow one (the figures are
// measured by `tidegate bench failover`, and printed here).
constexpr auto formation_timeout = 20s;
constexpr auto detection_timeout = 10s;

auto all_up(size_t n, const std::string& leader) {
  return [n, leader](const member_view& v) {
    if (v.known != n || v.reachable != n || v.leader != leader) {
      return false;
    }
    for (const auto& [name, state] : v.states) {
      if (state != "up") {
        return false;
      }
    }
    return true;
  };
}

auto sees_unreachable(const std::string& who) {
  return [who](const member_view& v) {
    auto it = v.states.find(who);
    return it != v.states.end() && it->second == "unreachable";
  };
}

long long ms_since(clock_type::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t).count();
}

std::vector<std::string> zones(size_t n) {
  return std::vector<std::string>(n, "z1");
}

TEST(ClusterMembershipTest, FormsWhateverTheStartOrderAndTheOldestLeads) {
  process_cluster c{zones(3), TIDEGATE_BINARY};
  ASSERT_TRUE(c.start(2));  // n3 first: its seeds are not up yet
  // The membership publishes its first view just after the HTTP listener opens.
  ASSERT_TRUE(c.wait_for(
      2, [](const member_view& v) { return v.known != 0; }, 2s));
  auto alone = c.view(2);
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->known, 3u);  // the two seeds count before they answer
  EXPECT_FALSE(alone->has_majority);
  EXPECT_EQ(alone->leader, "");
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(c.start(0));
  ASSERT_TRUE(c.start(1));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(c.wait_for(i, all_up(3, "n3"), formation_timeout)) << c.name(i);
  }
}

TEST(ClusterMembershipTest, ALateNodeJoinsThroughOneSeedAndEveryoneLearnsIt) {
  process_cluster c{zones(4), TIDEGATE_BINARY};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.start(i, std::vector<std::string>{c.address(0), c.address(1), c.address(2)}));
  }
  ASSERT_TRUE(c.wait_for(0, all_up(3, "n1"), formation_timeout));
  ASSERT_TRUE(c.start(3, std::vector<std::string>{c.address(1)}));  // knows n2 only
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(c.wait_for(i, all_up(4, "n1"), formation_timeout)) << c.name(i);
  }
}

TEST(ClusterMembershipTest, AKilledMemberIsDetectedAndItsRestartRejoins) {
  process_cluster c{zones(3), TIDEGATE_BINARY};
  ASSERT_TRUE(c.start_all(all_up(3, "n1"), formation_timeout));
  auto killed_at = clock_type::now();
  c.kill(1);
  ASSERT_TRUE(c.wait_for(0, sees_unreachable("n2"), detection_timeout));
  std::cout << "[ figure ] SIGKILL of n2 seen by n1 after " << ms_since(killed_at) << " ms\n";
  ASSERT_TRUE(c.wait_for(2, sees_unreachable("n2"), detection_timeout));
  auto v = c.view(0);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->has_majority);  // 2 of 3
  EXPECT_EQ(v->leader, "n1");
  ASSERT_TRUE(c.start(1));  // a new incarnation, younger than the others
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(c.wait_for(i, all_up(3, "n1"), formation_timeout)) << c.name(i);
  }
}

TEST(ClusterMembershipTest, AFrozenLeaderIsReplacedAndLeadsAgainAfterSigcont) {
  process_cluster c{zones(3), TIDEGATE_BINARY};
  ASSERT_TRUE(c.start_all(all_up(3, "n1"), formation_timeout));
  auto frozen_at = clock_type::now();
  c.signal(0, SIGSTOP);
  ASSERT_TRUE(c.wait_for(1, sees_unreachable("n1"), detection_timeout));
  std::cout << "[ figure ] SIGSTOP of n1 seen by n2 after " << ms_since(frozen_at) << " ms\n";
  // The two that see each other agree on the next oldest; the frozen one leads nothing.
  for (size_t i : {1, 2}) {
    EXPECT_TRUE(c.wait_for(
        i, [](const member_view& v) { return v.has_majority && v.leader == "n2"; },
        detection_timeout))
        << c.name(i);
  }
  c.signal(0, SIGCONT);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(c.wait_for(i, all_up(3, "n1"), formation_timeout)) << c.name(i);
  }
}

TEST(ClusterMembershipTest, AMemberWithoutAMajorityRefusesWritesUntilItHasOne) {
  process_cluster c{zones(3), TIDEGATE_BINARY};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.start(i));
  }
  ASSERT_TRUE(c.wait_for(
      0, [](const member_view& v) { return v.has_majority && v.map_version > 0; },
      formation_timeout));
  // An owner whose shard n1 is primary of, so that the write is served by n1 itself.
  auto shards = c.shards(0);
  ASSERT_EQ(shards.size(), 1024u);
  auto owner = owner_with_primary(shards, "n1");
  const std::string op =
      R"({"business":"chat","owner":")" + owner + R"(","payload":"hi","msg_id":"m1"})";
  auto [status, body] = c.post(0, "/v1/sync/ops", op);
  EXPECT_EQ(status, 200) << body;
  c.signal(1, SIGSTOP);
  c.signal(2, SIGSTOP);
  ASSERT_TRUE(c.wait_for(
      0, [](const member_view& v) { return !v.has_majority && v.leader.empty(); },
      detection_timeout));
  std::tie(status, body) = c.post(0, "/v1/sync/ops", op);
  EXPECT_EQ(status, 503);
  EXPECT_NE(body.find("\"code\":\"no_majority\""), std::string::npos) << body;
  EXPECT_NE(body.find("sees 1 of the 3 known"), std::string::npos) << body;
  c.signal(1, SIGCONT);
  ASSERT_TRUE(c.wait_for(
      0, [](const member_view& v) { return v.has_majority; }, formation_timeout));
  // Writable again. The shard's replica may be the member still frozen: the write waits for
  // the next map to name another (a backend retries 503s with the same msg_id).
  auto deadline = std::chrono::steady_clock::now() + formation_timeout;
  for (;;) {
    std::tie(status, body) = c.post(0, "/v1/sync/ops", op);
    if (status != 503 || std::chrono::steady_clock::now() > deadline) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, 200) << body;
  EXPECT_NE(body.find("\"duplicated\":true"), std::string::npos) << body;  // nothing was stored
  c.signal(2, SIGCONT);
}

TEST(ClusterMembershipTest, AMemberThatLeavesGracefullyIsForgotten) {
  process_cluster c{zones(3), TIDEGATE_BINARY};
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.start(i, std::vector<std::string>{c.address(0)}));
  }
  ASSERT_TRUE(c.wait_for(0, all_up(3, "n1"), formation_timeout));
  ASSERT_TRUE(c.wait_for(1, all_up(3, "n1"), formation_timeout));
  EXPECT_EQ(c.stop(2), std::optional<int>{0});
  for (size_t i : {0, 1}) {
    EXPECT_TRUE(c.wait_for(i, all_up(2, "n1"), detection_timeout)) << c.name(i);
  }
}

}  // namespace
}  // namespace tidegate::test
