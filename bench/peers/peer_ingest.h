#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/peers/peer_server.h"

namespace tidegate::bench {

/// The ingest scenario's shape, applied to a peer.
struct peer_ingest_options {
  uint32_t duration_s = 10;
  uint32_t publishers = 4;  ///< Connections, one thread each (--publishers).
  uint32_t window = 100;    ///< Publishes outstanding per connection (--batch).
  uint32_t payload_bytes = 100;
  uint32_t owners = 1000;  ///< Subjects or stream keys the ops spread over (--clients).
};

/// One peer's run.
struct peer_result {
  peer_kind kind = peer_kind::nats;
  std::string version;  ///< What `PROGRAM --version` printed.
  std::string skipped;  ///< Not run, and why (its program is not installed).
  std::string error;    ///< Ran, but the server or a connection failed.
  double seconds = 0;   ///< From the first publish until the last reply or the drain's end.
  uint64_t acked_ops = 0;
  uint64_t failed_ops = 0;      ///< Answered with an error.
  uint64_t unanswered_ops = 0;  ///< Not answered within the drain (10 s after publishing).
  double node_cpu_s = 0;        ///< The server's utime+stime over `seconds`.
  double bench_cpu_s = 0;       ///< This process' over `seconds`.

  double acked_ops_per_s() const;
  double node_cpu_us_per_op() const;
  /// Ran with every op acked, or was skipped.
  bool ok() const;
};

/// Starts the peer from its installed program, runs the publishers, stops it. When the program
/// is missing, prints one line naming the packages to install and returns a skipped result.
/// Call from the thread that owns the benchmark's children (see peer_server).
peer_result run_peer_ingest(peer_kind kind, const peer_ingest_options& opts);

/// NATS JetStream, then Redis, one after the other.
std::vector<peer_result> run_peers(const peer_ingest_options& opts);

}  // namespace tidegate::bench
