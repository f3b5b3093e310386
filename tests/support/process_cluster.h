#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/temp_dir.h"
#include "tests/support/child_process.h"

namespace tidegate::test {

/// What one member says of the cluster (GET /cluster).
struct member_view {
  std::string self;
  std::string leader;  ///< Empty without a majority.
  size_t known = 0;
  size_t reachable = 0;
  bool has_majority = false;
  std::map<std::string, std::string> states;  ///< name -> "up" / "unreachable"
  /// The committed shard map there: (term, version), shards per primary, shards whose primary
  /// it cannot reach.
  uint64_t map_term = 0;
  uint64_t map_version = 0;
  std::map<std::string, size_t> primaries;
  size_t unavailable = 0;
  size_t replicas_in_sync = 0;
  size_t moving = 0;    ///< Shards with a planned move in progress.
  size_t learners = 0;  ///< Shards with a learner catching up.
};

/// Every member up, a committed map with every shard served, every replica in sync and no
/// shard moving: where most cluster tests start (an empty cluster gets there within a few
/// seconds). ClusterRebalanceTest covers what happens while shards move.
bool serving(const member_view& v);

/// One shard's owners (GET /cluster/shards).
struct shard_row {
  std::string primary;
  std::string replica;
  uint64_t epoch = 0;
  bool replica_in_sync = false;
  std::string learner;  ///< Empty: none.
};

/// A cluster of real `tidegate node` processes on loopback, for multi-process tests. Member i
/// (0-based) is named "n<i+1>" and publishes its membership on its own loopback address
/// (127.X.Y.<i+1>, X and Y drawn per harness so that concurrent test binaries do not collide)
/// with clients and HTTP on ephemeral ports; each has its own data dir. Not thread-safe.
class process_cluster {
 public:
  /// `zones[i]` is member i's zone; the size gives the member count.
  explicit process_cluster(std::vector<std::string> zones, std::string binary);

  /// TOML appended to every member's [cluster] table from the next start on: its keys (zone
  /// rules), or more tables after it ([[buckets]]).
  void set_cluster_extra(std::string toml) { cluster_extra_ = std::move(toml); }
  ~process_cluster();

  size_t size() const { return members_.size(); }
  std::string name(size_t i) const { return "n" + std::to_string(i + 1); }
  /// Member i's cluster address ("host:port").
  std::string address(size_t i) const;

  /// Starts member i with every member's address as its seeds (or `seeds` when given) and
  /// waits until it serves; fails the test and returns false if it does not within 20 s.
  bool start(size_t i, std::optional<std::vector<std::string>> seeds = std::nullopt);
  bool running(size_t i) const { return members_[i].process != nullptr; }
  /// Starts every member (each with every address as its seeds), then waits until `ready`
  /// holds on each; false, with a test failure, if not within `timeout`.
  bool start_all(const std::function<bool(const member_view&)>& ready,
                 std::chrono::milliseconds timeout);
  /// Member i's data directory (its LMDB environment and shard map state).
  const std::string& data_dir(size_t i) const { return members_[i].data->path(); }
  /// Member i's client (MMTP) port; 0 before its first start.
  uint16_t client_port(size_t i) const { return members_[i].client_port; }
  /// Member i's HTTP port (ingress, dispatch, /cluster); 0 before its first start.
  uint16_t http_port(size_t i) const { return members_[i].http_port; }
  /// Sends `sig` to member i (SIGSTOP, SIGCONT, SIGKILL, ...).
  void signal(size_t i, int sig);
  /// SIGKILLs member i and reaps it.
  void kill(size_t i);
  /// What member i's ended processes wrote to stderr (its log), for a failing test to print.
  const std::string& stderr_of(size_t i) const { return members_[i].stderr_text; }
  /// SIGTERMs member i and waits for it to exit; returns its exit code.
  std::optional<int> stop(size_t i);

  /// Member i's view, or nullopt if it does not answer within a second.
  std::optional<member_view> view(size_t i) const;
  /// Member i's committed shard map, indexed by shard; empty if it does not answer.
  std::vector<shard_row> shards(size_t i) const;
  /// Polls member i's view every 20 ms until `pred` holds; false after `timeout`.
  bool wait_for(size_t i, const std::function<bool(const member_view&)>& pred,
                std::chrono::milliseconds timeout) const;

  /// POSTs `body` (JSON) to member i's HTTP `path` with the test app's credentials; returns
  /// the status (0 when it does not answer) and the body.
  std::pair<int, std::string> post(size_t i, const std::string& path,
                                   const std::string& body) const;
  /// PUTs `body` (JSON) to member i's HTTP `path`, likewise.
  std::pair<int, std::string> put(size_t i, const std::string& path, const std::string& body) const;
  /// GETs member i's HTTP `target` (path and query) with the test app's credentials.
  std::pair<int, std::string> get(size_t i, const std::string& target) const;

 private:
  /// `method` ("GET", "POST" or "PUT") with the test app's credentials; (0, "") without an answer.
  std::pair<int, std::string> call(size_t i, const std::string& method, const std::string& target,
                                   const std::string& body) const;

  struct member {
    std::string zone;
    std::unique_ptr<storage::temp_dir> data;
    std::unique_ptr<child_process> process;
    uint16_t http_port = 0;
    uint16_t client_port = 0;
    std::string stderr_text;  // what its processes wrote to stderr, once each ended
  };
  std::string config_text(size_t i, const std::vector<std::string>& seeds) const;

  std::string binary_;
  std::string subnet_;  // "127.X.Y."
  std::string cluster_extra_;
  std::vector<member> members_;
};

/// Zone rules for set_cluster_extra: virtual shards 0-511 live in zone z1, 512-1023 in z2.
inline constexpr const char* two_zone_rules =
    "[[cluster.zone_rules]]\nfirst_shard = 0\nlast_shard = 511\nzone = \"z1\"\n"
    "[[cluster.zone_rules]]\nfirst_shard = 512\nlast_shard = 1023\nzone = \"z2\"\n";

/// A user id ("user-<k>") whose virtual shard (of 1024) is in [first, last].
std::string uid_in(uint32_t first, uint32_t last);

/// The `skip`+1-th owner ("owner-<k>", k = 0, 1, ...) whose shard has `primary` as primary in
/// `shards`; `shards` must name it for some shard.
std::string owner_with_primary(const std::vector<shard_row>& shards, const std::string& primary,
                               int skip = 0);

/// The msg_ids of `owner`'s `user` log in the LMDB environment at `dir` (a member's data dir,
/// read after its process is gone), in version order; a test failure if versions have gaps.
std::vector<std::string> read_owner_log(const std::string& dir, const std::string& owner);

}  // namespace tidegate::test
