#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace tidegate::bench {

/// `tidegate bench connections`: what to open, against which node, and for how long.
struct connections_options {
  uint32_t connections = 0;
  uint32_t workers = 0;  ///< 0 = ceil(connections / 15000).
  uint32_t hold_s = 10;
  double rate = 0;              ///< > 0 adds a phase that connects at this many per second.
  uint32_t concurrency = 1000;  ///< Connects in flight in the unpaced phase, all workers.
  uint32_t timeout_s = 120;     ///< Limit of the unpaced connect phase.
  std::string node_config;      ///< Run a node from this file instead of a generated one.
  std::string connect;          ///< Use a running node at host:port instead.
  pid_t server_pid = 0;         ///< The running node's pid (with `connect`).
  std::string app_id;           ///< Empty = "bench", or the config's first app.
  std::string secret;           ///< The app's token secret (with `connect`).
  bool json = false;
};

/// Connections each worker process holds at most: under RLIMIT_NOFILE 20000 with room to spare.
inline constexpr uint32_t connections_per_worker = 15'000;

/// Runs the scenario and prints the report; returns the process exit code (0: every
/// connection became ready and stayed ready through the hold).
int run_connections_bench(const connections_options& opts);

}  // namespace tidegate::bench
