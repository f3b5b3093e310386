#include "bench/peers/pipeline.h"

#include <poll.h>

namespace tidegate::bench {

void run_pipeline(loopback_socket& sock, pipeline_codec& codec, const pipeline_limits& limits,
                  pipeline_tally& tally) {
  using steady = std::chrono::steady_clock;
  std::string out;
  std::string in;
  for (;;) {
    auto now = steady::now();
    auto answered = [&tally] { return tally.acked + tally.failed; };
    bool sending = now < limits.end;
    while (sending && tally.sent - answered() < limits.window && tally.sent < limits.max_ops) {
      codec.append_publish(out, tally.sent);
      ++tally.sent;
    }
    auto outstanding = tally.sent - answered();
    if (outstanding == 0 && (!sending || tally.sent >= limits.max_ops)) {
      return;
    }
    if (now >= limits.drain) {
      tally.unanswered = outstanding;
      return;
    }
    if (!sock.write_some(out)) {
      tally.unanswered = outstanding;
      if (tally.first_error.empty()) {
        tally.first_error = sock.error();
      }
      return;
    }
    // Wake at `end` to stop sending, and at least every 100 ms to look at the clock.
    auto revents = sock.wait(!out.empty(), sending ? limits.end : limits.drain,
                             std::chrono::milliseconds{100});
    if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      continue;
    }
    in.clear();
    bool open = sock.read_some(in);
    if (!codec.consume(in, tally, out) || !open) {
      tally.unanswered = tally.sent - answered();
      if (tally.first_error.empty()) {
        tally.first_error = open ? "unreadable reply" : sock.error();
      }
      return;
    }
  }
}

}  // namespace tidegate::bench
