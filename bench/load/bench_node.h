#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bench/load/process.h"
#include "bench/load/scratch_dir.h"

namespace tidegate::bench {

/// A `tidegate node` child for load scenarios: storage on in a scratch dir, clients and HTTP
/// on 127.0.0.1 port 0 (read back from its first stdout line), one app `app_id` with a fresh
/// secret. The child is SIGKILLed if we die (process) and when this goes. Not thread-safe; the
/// thread that called start() owns it.
class bench_node {
 public:
  static inline const std::string app_id = "bench";

  /// Before start(): the node id (default "bench") and the app secret (default: random), so
  /// that the members of a cluster share the app.
  void set_identity(std::string node_id, std::string secret) {
    node_id_ = std::move(node_id);
    secret_ = std::move(secret);
  }

  /// Writes the config, with `extra_toml` ([[buckets]], [[businesses]], [sync]) appended, and
  /// starts `exe node`; false, with the reason (and the node's log) on stderr, if it did not
  /// report its ports within 30 s.
  bool start(const std::string& exe, const std::string& durability, const std::string& extra_toml);
  /// SIGTERM, then SIGKILL after 30 s; false (with its log shown) if it had died on its own.
  bool stop();
  /// SIGKILL now, and reap it.
  void kill();

  pid_t pid() const { return child_ ? child_->pid() : -1; }
  const std::string& secret() const { return secret_; }
  const std::string& client_address() const { return client_address_; }  ///< host:port
  const std::string& http_host() const { return http_host_; }
  int http_port() const { return http_port_; }
  /// The node's open client connections (tidegate_connections in /metrics); nullopt if the
  /// scrape failed.
  std::optional<uint64_t> open_connections() const;
  /// Waits until open_connections() is 0 or `deadline`; false if it never was.
  bool wait_no_connections(std::chrono::steady_clock::time_point deadline) const;
  /// The last 8 KiB of the node's stderr, to stderr.
  void print_log() const;

 private:
  scratch_dir dir_;
  std::string node_id_ = "bench";
  std::string secret_ = random_secret();
  std::unique_ptr<process> child_;
  std::string log_path_;
  std::string client_address_;
  std::string http_host_;
  int http_port_ = 0;
};

}  // namespace tidegate::bench
