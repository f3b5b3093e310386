#include "client/heartbeat_policy.h"

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

heartbeat_config mobile() {
  heartbeat_config config;
  config.foreground_interval = seconds{45};
  config.initial_interval = seconds{210};
  config.min_interval = seconds{60};
  config.max_interval = minutes{10};
  config.step = seconds{30};
  config.pongs_to_grow = 3;
  return config;
}

void succeed(heartbeat_policy& policy, int times) {
  for (int i = 0; i < times; ++i) {
    policy.on_success();
  }
}

TEST(HeartbeatPolicyTest, StartsAtTheInitialIntervalInTheBackground) {
  heartbeat_policy policy{mobile()};
  EXPECT_EQ(policy.interval(), seconds{210});
  EXPECT_EQ(policy.last_good(), seconds{0});
}

TEST(HeartbeatPolicyTest, GrowsByOneStepAfterEnoughConsecutivePongs) {
  heartbeat_policy policy{mobile()};
  succeed(policy, 2);
  EXPECT_EQ(policy.interval(), seconds{210});
  policy.on_success();
  EXPECT_EQ(policy.interval(), seconds{240});
  EXPECT_EQ(policy.last_good(), seconds{210});
}

TEST(HeartbeatPolicyTest, NeverGrowsAboveTheMaximum) {
  heartbeat_policy policy{mobile()};
  succeed(policy, 300);
  EXPECT_EQ(policy.interval(), minutes{10});
}

TEST(HeartbeatPolicyTest, AFailedProbeFallsBackToTheLastGoodIntervalAndStaysBelowIt) {
  heartbeat_policy policy{mobile()};
  succeed(policy, 6);  // 210 -> 240 -> 270
  ASSERT_EQ(policy.interval(), seconds{270});
  policy.on_failure();
  EXPECT_EQ(policy.interval(), seconds{240});
  EXPECT_EQ(policy.ceiling(), seconds{270});
  succeed(policy, 30);  // stable at 240 forever: 270 failed
  EXPECT_EQ(policy.interval(), seconds{240});
}

TEST(HeartbeatPolicyTest, FailingAtAKnownGoodIntervalShrinks) {
  heartbeat_policy policy{mobile()};
  succeed(policy, 3);   // 240, last good 210
  policy.on_failure();  // back to 210
  policy.on_failure();  // 210 failed too: shrink
  EXPECT_EQ(policy.interval(), seconds{180});
  for (int i = 0; i < 20; ++i) {
    policy.on_failure();
  }
  EXPECT_EQ(policy.interval(), seconds{60});  // the minimum
}

TEST(HeartbeatPolicyTest, ForegroundUsesTheMinimumAndLearnsNothing) {
  heartbeat_policy policy{mobile()};
  policy.set_foreground(true);
  EXPECT_EQ(policy.interval(), seconds{45});
  succeed(policy, 10);
  policy.on_failure();
  policy.set_foreground(false);
  EXPECT_EQ(policy.interval(), seconds{210});
}

TEST(HeartbeatPolicyTest, CapHoldsTheIntervalAtTheServerLimit) {
  heartbeat_policy policy{mobile()};
  policy.cap(seconds{120});
  EXPECT_EQ(policy.interval(), seconds{120});
  succeed(policy, 30);
  EXPECT_EQ(policy.interval(), seconds{120});
}

TEST(HeartbeatPolicyTest, ResetForgetsWhatWasLearned) {
  heartbeat_policy policy{mobile()};
  succeed(policy, 6);
  policy.on_failure();
  policy.reset();
  EXPECT_EQ(policy.interval(), seconds{210});
  EXPECT_EQ(policy.ceiling(), minutes{10} + seconds{30});
}

TEST(HeartbeatPolicyTest, FixedConfigNeverMoves) {
  heartbeat_policy policy{heartbeat_config::fixed(std::chrono::milliseconds{50})};
  succeed(policy, 10);
  policy.on_failure();
  EXPECT_EQ(policy.interval(), std::chrono::milliseconds{50});
  policy.set_foreground(true);
  EXPECT_EQ(policy.interval(), std::chrono::milliseconds{50});
}

}  // namespace
}  // namespace tidegate::client
