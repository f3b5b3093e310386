#include "client/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

using std::chrono::milliseconds;

struct pipe_pair {
  int fds[2] = {-1, -1};
  pipe_pair() { EXPECT_EQ(::pipe(fds), 0); }
  ~pipe_pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

TEST(EventLoopTest, TimersRunInDeadlineOrder) {
  event_loop loop;
  std::vector<int> order;
  loop.add_timer(milliseconds{20}, [&] { order.push_back(2); });
  loop.add_timer(milliseconds{0}, [&] { order.push_back(1); });
  loop.add_timer(milliseconds{40}, [&] { order.push_back(3); });
  ASSERT_TRUE(loop.run_until([&] { return order.size() == 3; },
                             event_loop::clock::now() + std::chrono::seconds{1}));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(loop.timer_count(), 0u);
}

TEST(EventLoopTest, ACancelledTimerNeverRuns) {
  event_loop loop;
  bool ran = false;
  auto id = loop.add_timer(milliseconds{0}, [&] { ran = true; });
  EXPECT_TRUE(loop.cancel_timer(id));
  EXPECT_FALSE(loop.cancel_timer(id));
  loop.run_once(milliseconds{5});
  EXPECT_FALSE(ran);
}

TEST(EventLoopTest, ATimerAddedByATimerWaitsForTheNextRound) {
  event_loop loop;
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    loop.add_timer(milliseconds{0}, again);
  };
  loop.add_timer(milliseconds{0}, again);
  loop.run_once(milliseconds{0});
  EXPECT_EQ(runs, 1);  // not an endless loop inside one run_once
}

TEST(EventLoopTest, RunUntilStopsAtTheDeadline) {
  event_loop loop;
  auto start = event_loop::clock::now();
  EXPECT_FALSE(loop.run_until([] { return false; }, start + milliseconds{30}));
  EXPECT_GE(event_loop::clock::now() - start, milliseconds{30});
}

TEST(EventLoopTest, DeliversReadinessAndStopsAfterRemoval) {
  event_loop loop;
  pipe_pair p;
  int calls = 0;
  ASSERT_TRUE(loop.add_fd(p.fds[0], EPOLLIN, [&](uint32_t events) {
    EXPECT_TRUE(events & EPOLLIN);
    char c;
    EXPECT_EQ(::read(p.fds[0], &c, 1), 1);
    ++calls;
    loop.remove_fd(p.fds[0]);  // removing itself while running is allowed
  }));
  EXPECT_EQ(loop.fd_count(), 1u);
  ASSERT_EQ(::write(p.fds[1], "ab", 2), 2);
  loop.run_once(milliseconds{100});
  loop.run_once(milliseconds{0});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loop.fd_count(), 0u);
}

TEST(EventLoopTest, AHandlerRemovingAnotherFdSuppressesItsPendingEvent) {
  event_loop loop;
  pipe_pair a;
  pipe_pair b;
  int calls = 0;
  auto handler = [&](int self, int other) {
    return [&, self, other](uint32_t) {
      ++calls;
      loop.remove_fd(self);
      loop.remove_fd(other);
    };
  };
  ASSERT_TRUE(loop.add_fd(a.fds[0], EPOLLIN, handler(a.fds[0], b.fds[0])));
  ASSERT_TRUE(loop.add_fd(b.fds[0], EPOLLIN, handler(b.fds[0], a.fds[0])));
  ASSERT_EQ(::write(a.fds[1], "x", 1), 1);
  ASSERT_EQ(::write(b.fds[1], "x", 1), 1);
  loop.run_once(milliseconds{100});
  EXPECT_EQ(calls, 1);
}

TEST(EventLoopTest, ManyCancelledTimersDoNotAccumulate) {
  event_loop loop;
  for (int i = 0; i < 10'000; ++i) {
    loop.cancel_timer(loop.add_timer(std::chrono::hours{1}, [] {}));
  }
  EXPECT_EQ(loop.timer_count(), 0u);
  loop.run_once(milliseconds{0});
}

}  // namespace
}  // namespace tidegate::client
