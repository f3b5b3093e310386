#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/config/node_config.h"
#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

class http_server;
}  // namespace tidegate::actors
namespace tidegate::storage {
class lmdb_env;
class oplog_store;
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

  ~node();
  node(const node&) = delete;
  node& operator=(const node&) = delete;

  uint16_t client_port() const { return client_port_; }
  uint16_t http_port() const;
  caf::actor_system& system() { return *system_; }
  gateway_context& context() { return *ctx_; }
  /// The supervisor of the gateway's long-lived actors ("sessions", "gateway").
  caf::actor supervisor() const { return supervisor_; }

  /// Graceful shutdown, step one: stop accepting, send GOAWAY to every session spread over
  /// the drain window, and wait until all sessions ended (at most window + grace + 5 s).
  /// Returns how many sessions were drained.
  uint64_t drain();

  /// Ends every actor and the HTTP server. Idempotent.
  void stop();

  /// Prometheus text of this node's metrics.
  std::string metrics_text() const;

 private:
  node() = default;
  /// The supervisor's child `name`, or an invalid handle.
  caf::actor child(const std::string& name);
  /// Closes the listening socket; returns once the gateway has done so.
  void stop_accepting();

  // Declared before the actor system: destroyed after it, as every SYNC actor reads them.
  std::unique_ptr<storage::lmdb_env> env_;
  std::unique_ptr<storage::oplog_store> store_;
  std::unique_ptr<caf::actor_system_config> system_config_;
  std::unique_ptr<caf::actor_system> system_;
  gateway_context_ptr ctx_;
  caf::actor supervisor_;
  std::unique_ptr<http_server> http_;
  uint16_t client_port_ = 0;
};

}  // namespace tidegate::actors
