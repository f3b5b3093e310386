#include "actors/sync/pipelined_lanes.h"

#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

using lanes = pipelined_lanes<std::vector<std::string>>;
using next = lanes::next;

// Destinations only need addresses: idle actors that are never sent anything.
caf::behavior idle(caf::event_based_actor*, int) {
  return {[](int) {}};
}

class PipelinedLanesTest : public ::testing::Test {
 protected:
  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::actor a_ = sys_.spawn(idle, 1);
  caf::actor b_ = sys_.spawn(idle, 2);
  lanes lanes_{100};

  next queue(const caf::actor& to, const std::string& item, size_t bytes = 10) {
    return lanes_.queue(to, bytes, [&](std::vector<std::string>& batch) { batch.push_back(item); });
  }
};

TEST_F(PipelinedLanesTest, AnIdleLaneAsksForAFlushAndSendsEverythingQueuedSinceInOneBatch) {
  EXPECT_EQ(queue(a_, "1"), next::flush);
  EXPECT_EQ(queue(a_, "2"), next::wait);  // the flush asked for serves it too
  auto idle = lanes_.flush();
  ASSERT_EQ(idle.size(), 1u);
  auto [to, batch] = lanes_.take(idle[0]);
  EXPECT_EQ(to, a_);
  EXPECT_EQ(batch, (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(lanes_.flush().empty());
}

TEST_F(PipelinedLanesTest, ItemsWaitWhileABatchIsInFlightAndGoWhenItIsAnswered) {
  queue(a_, "1");
  lanes_.take(a_.address());
  EXPECT_EQ(queue(a_, "2"), next::wait);
  EXPECT_EQ(queue(a_, "3"), next::wait);
  EXPECT_TRUE(lanes_.flush().empty());  // a flush does not send them early
  EXPECT_TRUE(lanes_.answered(a_.address()));
  auto [to, batch] = lanes_.take(a_.address());
  EXPECT_EQ(batch, (std::vector<std::string>{"2", "3"}));
}

TEST_F(PipelinedLanesTest, LanesAreIndependentButShareOneFlush) {
  queue(a_, "1");
  lanes_.flush();
  lanes_.take(a_.address());
  EXPECT_EQ(queue(b_, "x"), next::flush);  // a's batch in flight does not hold b's
  EXPECT_EQ(queue(a_, "2"), next::wait);
  auto idle = lanes_.flush();
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0], b_.address());
}

TEST_F(PipelinedLanesTest, AFullBatchGoesAtOnceEvenWithOneInFlight) {
  queue(a_, "1");
  lanes_.take(a_.address());
  EXPECT_EQ(queue(a_, "2", 60), next::wait);
  EXPECT_EQ(queue(a_, "3", 40), next::send_now);  // 100 bytes: full
  auto [to, batch] = lanes_.take(a_.address());
  EXPECT_EQ(batch, (std::vector<std::string>{"2", "3"}));
  EXPECT_FALSE(lanes_.answered(a_.address()));  // nothing queued behind either
  EXPECT_FALSE(lanes_.answered(a_.address()));
}

TEST_F(PipelinedLanesTest, AnAnsweredLaneWithNothingQueuedIsForgotten) {
  queue(a_, "1");
  lanes_.flush();
  lanes_.take(a_.address());
  EXPECT_FALSE(lanes_.answered(a_.address()));
  EXPECT_FALSE(lanes_.answered(a_.address()));  // a late or repeated answer: no lane, no-op
  EXPECT_EQ(queue(a_, "2"), next::flush);       // a fresh lane
}

}  // namespace
}  // namespace tidegate::actors
