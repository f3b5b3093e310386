#include "client/backoff.h"

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, DelaysDoubleWithEqualJitterUpToTheCap) {
  backoff b{{}, 42};
  milliseconds full{500};
  for (int i = 0; i < 12; ++i) {
    auto delay = b.next(/*foreground=*/true);
    auto bound = std::min(full, milliseconds{seconds{30}});
    EXPECT_GE(delay, bound / 2) << i;
    EXPECT_LE(delay, bound) << i;
    full *= 2;
  }
  EXPECT_EQ(b.attempts(), 12u);
}

TEST(BackoffTest, BackgroundUsesItsOwnBaseAndCap) {
  backoff b{{}, 7};
  auto first = b.next(/*foreground=*/false);
  EXPECT_GE(first, milliseconds{2500});
  EXPECT_LE(first, milliseconds{5000});
  for (int i = 0; i < 20; ++i) {
    EXPECT_LE(b.next(false), std::chrono::minutes{10});
  }
}

TEST(BackoffTest, TheSameSeedGivesTheSameDelays) {
  backoff a{{}, 99};
  backoff b{{}, 99};
  backoff c{{}, 100};
  bool differs = false;
  for (int i = 0; i < 8; ++i) {
    auto da = a.next(true);
    EXPECT_EQ(da, b.next(true));
    differs = differs || da != c.next(true);
  }
  EXPECT_TRUE(differs);
}

TEST(BackoffTest, AStableSessionResetsTheAttempts) {
  backoff b{{}, 1};
  b.next(true);
  b.next(true);
  b.on_session_end(seconds{5});
  EXPECT_EQ(b.attempts(), 2u);
  b.on_session_end(seconds{60});
  EXPECT_EQ(b.attempts(), 0u);
  auto delay = b.next(true);
  EXPECT_LE(delay, milliseconds{500});
}

TEST(BackoffTest, JitterStaysWithinItsLimit) {
  backoff b{{}, 3};
  for (int i = 0; i < 100; ++i) {
    auto j = b.jitter(milliseconds{250});
    EXPECT_GE(j, milliseconds{0});
    EXPECT_LE(j, milliseconds{250});
  }
  EXPECT_EQ(b.jitter(milliseconds{0}), milliseconds{0});
}

}  // namespace
}  // namespace tidegate::client
