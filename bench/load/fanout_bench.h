#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tidegate::bench {

/// `tidegate bench fanout` (docs/benchmarks.md): one topic, S online followers over loopback,
/// one windowed publisher posting batches to the ingress; every message is also durable in
/// the topic's log. `--peers` runs the same workload on nats-server (core), mosquitto (QoS 0
/// and 1) and redis-server (pub/sub) in the same run and prints our figures as ratios.
struct fanout_bench_options {
  std::vector<uint32_t> subscribers{1000};  ///< One run per entry.
  uint32_t window = 1000;  ///< Messages published but not yet delivered to all, at most.
  uint32_t batch = 100;    ///< Messages per POST /v1/topics/messages:batch at most.
  uint32_t payload_bytes = 100;
  double duration_s = 5;  ///< Measured seconds per run (after 1 s of warm-up).
  uint32_t threads = 2;   ///< Subscriber threads of the harness.
  double rate = 0;        ///< Messages per second at most; 0 = as fast as the window allows.
  std::string durability = "periodic";
  bool peers = false;
  bool json = false;
};

/// Runs the scenario; returns the process exit code (0 when every run completed).
int run_fanout_bench(const fanout_bench_options& opts);

/// `tidegate bench diffusion`: one publish to a topic with F offline followers: read
/// diffusion (one append to the topic's log) against write diffusion (one append per
/// follower's own log, as a per-user inbox would), measured on the node's storage layer with
/// the same group commit: time and bytes written.
struct diffusion_bench_options {
  std::vector<uint64_t> followers{1000, 100'000, 1'000'000};
  uint32_t payload_bytes = 100;
  bool json = false;
};

int run_diffusion_bench(const diffusion_bench_options& opts);

}  // namespace tidegate::bench
