#include "actors/gateway/admission.h"

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

TEST(AdmissionTest, RefusesAtTheConnectionCap) {
  admission gate{2, 0, 0};
  reject_reason why{};
  EXPECT_TRUE(gate.admit(0, 0, why));
  EXPECT_TRUE(gate.admit(1, 0, why));
  EXPECT_FALSE(gate.admit(2, 0, why));
  EXPECT_EQ(why, reject_reason::max_connections);
}

TEST(AdmissionTest, RateLimitRefillsOverTime) {
  admission gate{1000, 10, 2};  // 10/s, bursts of 2
  reject_reason why{};
  EXPECT_TRUE(gate.admit(0, 1'000'000, why));
  EXPECT_TRUE(gate.admit(0, 1'000'000, why));
  EXPECT_FALSE(gate.admit(0, 1'000'000, why));
  EXPECT_EQ(why, reject_reason::accept_rate);
  EXPECT_TRUE(gate.admit(0, 1'100'000, why));  // 100 ms later: one token
  EXPECT_FALSE(gate.admit(0, 1'100'000, why));
}

TEST(AdmissionTest, CapKeepsFdHeadroom) {
  EXPECT_EQ(connection_cap(0, 20000, 512), 19488u);
  EXPECT_EQ(connection_cap(5000, 20000, 512), 5000u);
  EXPECT_EQ(connection_cap(50000, 20000, 512), 19488u);
  EXPECT_EQ(connection_cap(0, 100, 512), 0u);
}

}  // namespace
}  // namespace tidegate::actors
