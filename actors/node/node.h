#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/config/node_config.h"
#include "actors/gateway/gateway_context.h"
#include "cluster/cluster_status.h"

namespace tidegate::actors {

class http_server;
struct sync_context;
struct http_request;
struct http_reply;
}  // namespace tidegate::actors
namespace tidegate::storage {
class lmdb_env;
class oplog_store;
class delivery_store;
class follow_store;
}  // namespace tidegate::storage
namespace tidegate::actors {

/// One Tidegate node inside this process: its actor system, the supervised gateway (session
/// registry, gateway broker) and the HTTP endpoint. Owns them all; `stop()` or the destructor ends
/// them. Its methods block and must be called from a plain thread (main(), a test), never
/// from an actor.
class node {
 public:
  /// Starts a node from `cfg`. On failure returns null with `error` naming what is wrong
  /// (address in use, unreadable dictionary, ...).
  static std::unique_ptr<node> start(const node_config& cfg, std::string& error);

  /// Where the node's config came from: POST /admin/reload (from the loopback interface
  /// only) re-reads it and applies it like reload(). Call before nothing; it is read on
  /// each reload request.
  void set_config_path(std::string path);

  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  uint16_t client_port() const { return client_port_; }
  /// The port the membership actor is published on; 0 without [cluster].
  uint16_t cluster_port() const { return cluster_port_; }
  /// What the membership actor sees; null without [cluster].
  std::shared_ptr<const cluster::cluster_status> membership_status() const { return cluster_; }
  uint16_t http_port() const;
  caf::actor_system& system() { return *system_; }
  /// The node's oplog (reads; tests and tools), or null without [storage].
  const storage::oplog_store* store() const { return store_.get(); }
  gateway_context& context() { return *ctx_; }
  /// The supervisor of the gateway's long-lived actors ("sessions", "gateway").
  caf::actor supervisor() const { return supervisor_; }

  /// Graceful shutdown, step one: stop accepting, send GOAWAY to every session spread over
  /// the drain window, and wait until all sessions ended (at most window + grace + 5 s).
  /// Returns how many sessions were drained.
  uint64_t drain();

  /// Applies what can change at runtime from `cfg` (the businesses map and the [sync] limits)
  /// and returns why not, or an empty string. Buckets keep their ids and kinds, so no version
  /// is lost or reused; anything else in `cfg` needs a restart and is ignored here.
  std::string reload(const node_config& cfg);

  /// Ends every actor and the HTTP server; a cluster member first tells its peers it leaves
  /// (they forget it rather than wait for it). Idempotent.
  void stop();

  /// Prometheus text of this node's metrics.
  std::string metrics_text() const;

 private:
  node() = default;
  /// POST /admin/reload, on an HTTP thread.
  http_reply reload_request(const http_request& req);
  /// The supervisor's child `name`, or an invalid handle.
  caf::actor child(const std::string& name);
  /// In a cluster, sends `ctx`'s shards to their primaries and its deliveries to every member.
  void set_cluster_routes(sync_context& ctx) const;
  /// In a cluster, what the storage writer refuses: oplog writes of shards this node holds
  /// sealed for a hand-off (decision 0017). Empty outside a cluster.
  std::function<caf::error(const storage::write_batch&)> sealed_write_fence() const;
  /// Spawns and publishes the membership actor (cfg.cluster). Returns why not, or empty.
  std::string start_membership(const node_config& cfg);
  /// Closes the listening socket; returns once the gateway has done so.
  void stop_accepting();

  // Declared before the actor system: destroyed after it, as every SYNC actor reads them.
  std::unique_ptr<storage::lmdb_env> env_;
  std::unique_ptr<storage::oplog_store> store_;
  std::unique_ptr<storage::delivery_store> deliveries_;
  std::unique_ptr<storage::follow_store> follows_;
  std::unique_ptr<caf::actor_system_config> system_config_;
  std::unique_ptr<caf::actor_system> system_;
  gateway_context_ptr ctx_;
  caf::actor supervisor_;
  std::unique_ptr<http_server> http_;
  std::mutex reload_mutex_;  // guards config_path_: HTTP threads read it
  std::string config_path_;  ///< For POST /admin/reload; empty when started from a struct.
  uint16_t client_port_ = 0;
  std::shared_ptr<cluster::cluster_status> cluster_;  // null without [cluster]
  caf::actor membership_;
  caf::actor controller_;
  uint16_t cluster_port_ = 0;
};

}  // namespace tidegate::actors
