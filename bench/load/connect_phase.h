#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "client/sync_store.h"

namespace tidegate::bench {

/// The clients of one connect phase of `tidegate bench sync --scenario connect`.
struct connect_phase_options {
  std::string address;  ///< "host:port" of the node's client listener.
  std::string app_id;
  std::string secret;
  uint32_t clients = 0;  ///< Users user_of(0..N-1) on devices device_of(0..N-1).
  /// SDK sync on: a client is done once the final page (more == false) of each of `buckets`
  /// buckets arrived. Off: done once logged in.
  bool sync = true;
  uint32_t buckets = 0;
  /// Buckets whose cursor a client keeps from one round to the next, as a device does: those
  /// that delete acked ops (read from 0 again, they would show the deleted versions as a gap or
  /// a reset). Every other bucket is read from 0 in every round.
  std::set<std::string> kept_buckets;
  uint32_t in_flight = 64;  ///< Clients connecting or syncing at once.
  std::chrono::seconds timeout{60};
};

/// What one round did; every client is either done or failed.
struct connect_round_result {
  uint32_t done = 0;
  uint32_t failed = 0;  ///< Closed before done, or not done by the timeout.
  double seconds = 0;
  uint64_t sync_data_frames = 0;
  uint64_t final_pages = 0;  ///< SYNC_DATA with more == false.
  uint64_t ops = 0;          ///< Ops in those frames (skipped ones included).
  uint64_t resets = 0;
  uint64_t sync_requests = 0;
  std::string first_error;
};

/// N clients that connect, log in, sync and disconnect, once per run_round(), each time on a
/// new client::connection. Not thread-safe; one thread runs the rounds.
class connect_phase {
 public:
  explicit connect_phase(connect_phase_options opts);

  /// Connects every client once, at most `in_flight` at a time, and closes each once done.
  /// Runs an event loop on the calling thread until every client is done or failed, or the
  /// timeout; every socket is closed when this returns.
  connect_round_result run_round();

 private:
  connect_phase_options opts_;
  std::vector<client::sync_store> keys_;  // per client, in memory, across rounds
};

}  // namespace tidegate::bench
