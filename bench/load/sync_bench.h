#pragma once

#include <cstdint>
#include <string>

namespace tidegate::bench {

/// `tidegate bench sync`: SYNC ingest throughput and publish->delivery latency, and (on its
/// own) the node CPU per connect of bucketed sync versus a bucket per business.
struct sync_options {
  std::string scenario = "all";  ///< "ingest", "latency", "all" (those two) or "connect".
  uint32_t duration_s = 10;      ///< Publishing time of each scenario.
  uint32_t publishers = 4;       ///< HTTP publisher threads (one kept-alive connection each).
  uint32_t batch = 100;          ///< Ops per POST /v1/sync/ops:batch (ingest).
  uint32_t clients = 1000;       ///< Online SDK clients, users u0..u(N-1).
  double rate = 2000;            ///< Ops per second (latency).
  uint32_t latency_batch = 1;    ///< Ops per paced publish (latency; 1 = /v1/sync/ops).
  std::string durability = "fsync";
  uint32_t payload_bytes = 100;
  bool peers = false;  ///< After ingest, the same load on NATS JetStream and Redis (bench/peers).
  uint32_t businesses = 80;  ///< connect: businesses b0..b(N-1) over the default buckets.
  uint32_t rounds = 5;       ///< connect: measured rounds of N connects, after a warm-up one.
  bool json = false;
};

/// Runs the chosen scenarios, each against a fresh `tidegate node` child on a temp data_dir,
/// and prints the report; returns 0 if every scenario ran and every acked op was delivered.
int run_sync_bench(const sync_options& opts);

}  // namespace tidegate::bench
