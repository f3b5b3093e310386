#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tidegate::bench {

/// Who the online SYNC clients of `tidegate bench sync` are and where they connect.
struct sync_clients_options {
  /// "host:port" of client listeners, raced in order (the first is where clients land).
  std::vector<std::string> addresses;
  std::string app_id;
  std::string secret;
  uint32_t clients = 0;  ///< Users u0..u(N-1), one device each.
  uint32_t connect_timeout_s = 60;
  /// From the TCP connect to AUTH_OK (0: connect_timeout_s). A frozen node completes TCP
  /// connects from its backlog and never answers: a client waits this long there.
  uint32_t handshake_timeout_s = 0;
  /// Each client pings this often and drops a session whose pong is this late: how fast
  /// clients of a frozen node (not a killed one, whose sockets close) notice it.
  uint32_t heartbeat_ms = 120'000;
  uint32_t pong_timeout_ms = 10'000;
  /// Reconnect (backoff, then the next address) after the session ends, e.g. its node died.
  bool reconnect = false;
  /// First user index: users u<first_user>..u<first_user + clients - 1>.
  uint32_t first_user = 0;
  /// Latency samples kept at most (later deliveries are counted, not sampled).
  size_t max_samples = 4'000'000;
};

/// The publish time a payload carries: CLOCK_MONOTONIC nanoseconds (one clock for every
/// process on the machine), as "t=NNNN " padded with 'x' to `size` bytes.
std::string stamped_payload(int64_t now_ns, size_t size);
int64_t monotonic_ns();

/// N SDK connections (client::connection, sync on) on one client::event_loop in a thread of
/// this process. Each delivered op counts; ops whose payload carries a publish time stamped
/// after start_sampling() also give a publish->delivery latency sample. The thread stops by
/// itself after `lifetime`, or when stop() is called; the destructor stops and joins it.
class sync_clients {
 public:
  sync_clients(sync_clients_options opts, std::chrono::seconds lifetime);
  ~sync_clients();
  sync_clients(const sync_clients&) = delete;
  sync_clients& operator=(const sync_clients&) = delete;

  /// Waits until every connection is ready (and has sent its first SYNC_REQ) or failed, or
  /// `deadline`; returns how many are ready.
  uint32_t wait_ready(std::chrono::steady_clock::time_point deadline);
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint32_t ready() const { return ready_.load(std::memory_order_relaxed); }
  /// Connections that are ready now (a reconnected one counts again once it is).
  uint32_t ready_now() const { return ready_now_.load(std::memory_order_relaxed); }
  uint32_t closed() const { return closed_.load(std::memory_order_relaxed); }
  /// Sessions that ended after being ready (a reconnecting client counts once per loss).
  uint32_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t resets() const { return resets_.load(std::memory_order_relaxed); }
  /// Delivered ops whose payload starts with "mark " (markers a scenario publishes to see
  /// when every client has caught up).
  uint64_t marked() const { return marked_.load(std::memory_order_relaxed); }
  /// Samples only ops published at or after `since_ns` (monotonic_ns()); clears older samples.
  void start_sampling(int64_t since_ns);
  /// The latency samples (ns) gathered since start_sampling, and how many were not kept.
  std::vector<int64_t> take_samples(uint64_t& dropped);
  void stop();

 private:
  void run(std::chrono::seconds lifetime);

  sync_clients_options opts_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> setup_done_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint32_t> ready_{0};
  std::atomic<uint32_t> ready_now_{0};
  std::atomic<uint32_t> failed_{0};
  std::atomic<uint32_t> closed_{0};
  std::atomic<uint32_t> dropped_{0};
  std::atomic<uint64_t> resets_{0};
  std::atomic<uint64_t> marked_{0};
  std::atomic<int64_t> sample_since_ns_{INT64_MAX};
  std::mutex samples_mutex_;
  std::vector<int64_t> samples_;
  uint64_t samples_dropped_ = 0;
  std::thread thread_;
};

}  // namespace tidegate::bench
