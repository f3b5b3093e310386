#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/load/process.h"
#include "bench/load/scratch_dir.h"

namespace tidegate::apps {

/// One member of the demo cluster: a `tidegate node` child.
struct demo_member {
  std::string name;
  std::string zone;
  uint16_t client_port = 0;
  uint16_t http_port = 0;
  std::string config;  ///< The file it runs from.
  std::unique_ptr<bench::process> process;
};

/// What one member's GET /cluster and /metrics say, for the demo's live line.
struct demo_member_status {
  bool answered = false;
  std::string leader;
  size_t reachable = 0;
  bool has_majority = false;
  uint64_t map_version = 0;
  size_t primaries = 0;  ///< Shards this member is the primary of.
  size_t unavailable = 0;
  uint64_t connections = 0;
};

/// The demo's cluster: one `tidegate node` process per config file, on loopback. Children log
/// to files in a scratch directory and die with this process (bench::process). Not
/// thread-safe: the thread that started it owns it.
class demo_cluster {
 public:
  /// Starts a member per config file and reads its ports from its first line. With
  /// `ephemeral` each file is first rewritten in the scratch directory: clients and HTTP on
  /// free ports, the cluster on a random loopback subnet, storage in the scratch directory
  /// (tests, busy machines). False with `error` set if a file does not load or a member does
  /// not start (the others are stopped).
  bool start(const std::vector<std::string>& configs, bool ephemeral, std::string& error);
  /// Waits until every member sees all the others and a committed map that serves every
  /// shard; false at `deadline`.
  bool wait_serving(std::chrono::steady_clock::time_point deadline) const;
  /// Member i's view now (answered false if it does not answer within a second).
  demo_member_status status(size_t i) const;
  /// SIGTERMs every member and waits for each (15 s, then SIGKILL); what went wrong (members
  /// that did not exit with 0), or "" if nothing did.
  std::string stop();

  const std::vector<demo_member>& members() const { return members_; }
  /// Where the members' logs are.
  std::string log_dir() const { return scratch_.path.string(); }

 private:
  bench::scratch_dir scratch_;
  std::vector<demo_member> members_;
};

}  // namespace tidegate::apps
