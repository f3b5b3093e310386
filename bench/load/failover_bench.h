#pragma once

#include <cstdint>
#include <string>

namespace tidegate::bench {

/// `tidegate bench failover`: a 3-node cluster on loopback (n1, n2 in zone z1, n3 in z2) whose
/// n1 is SIGKILLed, or frozen with SIGSTOP (a stand-in for a hung host or a partition), while
/// `clients` SDK clients are connected to it, after comparing replicated ingest with a single
/// node's.
struct failover_options {
  uint32_t clients = 10'000;  ///< Online clients on n1 (users u0..uN-1), resynced elsewhere.
  uint32_t duration_s = 5;    ///< Ingest seconds, single node and cluster each.
  uint32_t publishers = 4;    ///< HTTP publisher threads.
  uint32_t batch = 100;       ///< Ops per POST /v1/sync/ops:batch.
  uint32_t payload_bytes = 100;
  std::string durability = "periodic";
  uint32_t heartbeat_ms = 200;
  uint32_t failure_timeout_ms = 800;
  /// "kill" (SIGKILL) or "stop" (SIGSTOP, then SIGCONT once the clients resynced).
  std::string signal = "kill";
  /// The clients' heartbeat and pong timeout; 0: 120 s and 10 s for "kill" (the kernel closes
  /// a killed node's sockets), 2 s and 3 s for "stop" (only a late pong shows a frozen node).
  uint32_t client_heartbeat_ms = 0;
  uint32_t client_pong_timeout_ms = 0;
  bool json = false;
};

/// Runs the scenario and prints: single-node and replicated ingest (ops/s, ratio), and after
/// the kill: detection (a survivor sees n1 unreachable), promotion (no shard has n1 as
/// primary), RTO (the first acknowledged write to a shard n1 was primary of), reconnection of
/// every client, and resync (every client holds an op published after the kill); for "stop",
/// also how long after SIGCONT n1 is a member on the current map again, and every shard is
/// back in place with its replica in sync. Returns 0 if every
/// phase completed within its bound.
int run_failover_bench(const failover_options& opts);

}  // namespace tidegate::bench
