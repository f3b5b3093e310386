#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/fanout/completion_ring.h"
#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// How the subscriber connections are made and spread.
struct subscriber_plan {
  uint16_t port = 0;
  fanout_codec_factory make_codec;
  uint32_t subscribers = 0;
  uint32_t threads = 2;         ///< Each runs an epoll loop over its share of the connections.
  uint32_t connect_batch = 64;  ///< Handshakes in progress per thread at most.
  std::chrono::steady_clock::time_point setup_deadline;  ///< All must be ready by then.
  std::chrono::steady_clock::time_point hard_deadline;   ///< The threads stop by then anyway.
};

/// What the subscriber threads counted, summed once they stopped.
struct subscriber_totals {
  uint64_t deliveries = 0;            ///< Messages received, over all connections.
  uint64_t out_of_order = 0;          ///< Received after a later message on the same connection.
  uint64_t gaps = 0;                  ///< Skipped on a connection (a later one came first).
  std::vector<int64_t> latencies_ns;  ///< Per completed message published in the window.
  std::string first_error;
};

/// S subscriber connections over T threads. Each thread connects its share in batches, then
/// reads until stop(); every message counts towards `ring`. Threads start in the constructor
/// and are joined by stop() or the destructor; each also stops at the plan's hard deadline.
/// Call everything from one thread; the counters may be read while the threads run.
class subscriber_pool {
 public:
  subscriber_pool(subscriber_plan plan, completion_ring& ring);
  ~subscriber_pool();
  subscriber_pool(const subscriber_pool&) = delete;
  subscriber_pool& operator=(const subscriber_pool&) = delete;

  /// Latencies are kept for messages published in [from_ns, to_ns). Call before publishing.
  void measure(int64_t from_ns, int64_t to_ns);
  /// Connections whose subscription the server confirmed.
  uint32_t ready() const { return ready_.load(); }
  /// True once a connection broke or a thread gave up (first_error in totals()).
  bool failed() const { return failed_.load(); }
  /// Messages received so far, over all connections (updated after each read).
  uint64_t deliveries() const;
  /// Stops and joins the threads; returns their counts. Once.
  subscriber_totals stop();

 private:
  struct worker;

  subscriber_plan plan_;
  completion_ring& ring_;
  std::atomic<uint32_t> ready_{0};
  std::atomic<bool> failed_{false};
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> measure_from_{0};
  std::atomic<int64_t> measure_to_{0};
  std::vector<std::unique_ptr<worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace tidegate::bench
