#pragma once

#include <cstdint>
#include <string>

namespace tidegate::bench {

/// What one `tidegate bench connections --worker` process opens and how.
struct worker_options {
  uint32_t index = 0;
  uint32_t connections = 0;
  std::string address;  ///< "host:port" of the node.
  std::string app_id;
  std::string secret;  ///< From the environment, not argv (ps shows argv).
  uint32_t heartbeat_ms = 60'000;
  uint32_t connect_timeout_ms = 20'000;
  /// Hard lifetime: the worker exits by itself after this, whatever the parent does.
  uint32_t lifetime_s = 600;
};

/// Runs a worker: holds up to ~15k client::connection objects on one client::event_loop and
/// obeys line commands on stdin, answering on stdout (one line each):
///   go PHASE RATE CONCURRENCY TIMEOUT_S -> result PHASE ready=.. failed=.. timeouts=.. ...
///   count                               -> held ready=.. closed=.. rss=..
///   stop                                -> stopped (every connection closed and freed)
///   exit, or EOF on stdin               -> returns 0.
/// RATE 0 keeps CONCURRENCY connects in flight; RATE > 0 starts RATE connects per second.
/// Returns 3 when `lifetime_s` ran out, 1 on a setup error.
int run_connections_worker(const worker_options& opts);

}  // namespace tidegate::bench
