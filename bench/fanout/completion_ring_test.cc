#include "bench/fanout/completion_ring.h"

#include <poll.h>

#include <gtest/gtest.h>

#include "bench/fanout/fanout_payload.h"

namespace tidegate::bench {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(CompletionRingTest, TheLastShareCompletesAMessageOnce) {
  completion_ring ring{1000, 2};
  EXPECT_EQ(ring.capacity(), 1024u);
  ring.begin(0, 111);
  EXPECT_FALSE(ring.part_done(0));
  EXPECT_FALSE(ring.resolved(0));
  EXPECT_EQ(ring.part_done(0), 111);
  EXPECT_TRUE(ring.resolved(0));
  EXPECT_EQ(ring.completed(), 1u);
  EXPECT_FALSE(ring.part_done(0));  // a duplicate share does not complete it again
  EXPECT_EQ(ring.completed(), 1u);
  EXPECT_FALSE(ring.abandon(0));
}

TEST(CompletionRingTest, AnAbandonedMessageNeverCompletes) {
  completion_ring ring{4, 2};
  ring.begin(3, 5);
  EXPECT_FALSE(ring.part_done(3));
  EXPECT_TRUE(ring.abandon(3));
  EXPECT_TRUE(ring.resolved(3));
  EXPECT_FALSE(ring.part_done(3));
  EXPECT_EQ(ring.completed(), 0u);
  ring.begin(7, 9);                 // the same slot, reused
  EXPECT_FALSE(ring.part_done(3));  // a late share of the old message does not count
  EXPECT_FALSE(ring.part_done(7));
  EXPECT_EQ(ring.part_done(7), 9);
}

TEST(CompletionRingTest, WakesThePublisherOnceArmedCountIsReached) {
  completion_ring ring{8, 1};
  ring.clear_wake();
  ring.arm(2);
  ring.begin(0, 0);
  ring.begin(1, 0);
  ring.part_done(0);
  EXPECT_FALSE(readable(ring.wake_fd()));
  ring.part_done(1);
  EXPECT_TRUE(readable(ring.wake_fd()));
  ring.clear_wake();
  EXPECT_FALSE(readable(ring.wake_fd()));
  ring.begin(2, 0);
  ring.part_done(2);  // disarmed by the wake-up
  EXPECT_FALSE(readable(ring.wake_fd()));
}

TEST(PartTallyTest, CountsEachMessageAmongItsMembers) {
  part_tally tally{4, 3};
  EXPECT_FALSE(tally.add(1));
  EXPECT_FALSE(tally.add(2));
  EXPECT_FALSE(tally.add(1));
  EXPECT_TRUE(tally.add(1));
  EXPECT_FALSE(tally.add(1));  // a fourth copy
  EXPECT_FALSE(tally.add(5));  // slot of 1 taken over by 5
  EXPECT_FALSE(tally.add(1));  // older than its slot's message: ignored
  EXPECT_FALSE(tally.add(5));
  EXPECT_TRUE(tally.add(5));
}

TEST(FanoutPayloadTest, CarriesItsSequenceNumberInHex) {
  std::string payload;
  make_fanout_payload(0x0123456789abcdefULL, 100, payload);
  EXPECT_EQ(payload.size(), 100u);
  EXPECT_EQ(payload.substr(0, 20), "0123456789abcdef....");
  uint64_t seq = 0;
  ASSERT_TRUE(read_fanout_seq(payload, seq));
  EXPECT_EQ(seq, 0x0123456789abcdefULL);
  make_fanout_payload(7, 3, payload);
  EXPECT_EQ(payload, "0000000000000007");  // never shorter than the number
  EXPECT_FALSE(read_fanout_seq("000000000000007", seq));
  EXPECT_FALSE(read_fanout_seq("000000000000007G", seq));
  EXPECT_FALSE(read_fanout_seq("000000000000007A", seq));  // lower case only
}

}  // namespace
}  // namespace tidegate::bench
