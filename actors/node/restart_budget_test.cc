#include "actors/node/restart_budget.h"

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

TEST(RestartBudgetTest, AllowsIntensityRestartsWithinThePeriod) {
  restart_budget budget{3, 1000};
  EXPECT_TRUE(budget.try_restart(5000));
  EXPECT_TRUE(budget.try_restart(5100));
  EXPECT_TRUE(budget.try_restart(5200));
  EXPECT_FALSE(budget.try_restart(5300));
}

TEST(RestartBudgetTest, OldRestartsLeaveTheWindow) {
  restart_budget budget{2, 1000};
  EXPECT_TRUE(budget.try_restart(5000));
  EXPECT_TRUE(budget.try_restart(5500));
  EXPECT_FALSE(budget.try_restart(5900));
  EXPECT_TRUE(budget.try_restart(6001));  // 5000 left the window
}

TEST(RestartBudgetTest, ZeroIntensityNeverRestarts) {
  restart_budget budget{0, 1000};
  EXPECT_FALSE(budget.try_restart(1));
}

}  // namespace
}  // namespace tidegate::actors
