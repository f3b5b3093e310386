#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/sync/bucket_config.h"

namespace tidegate::actors {

/// "host:port" split and checked. Port 0 means an ephemeral port (tests).
struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// One application that may connect: its id and the secret its login tokens are signed with.
struct app_config {
  std::string id;
  std::string secret;
  /// Path of a zstd dictionary for this app's frames, or empty.
  std::string zstd_dictionary;
  /// Signs this app's dispatch answers (GET /v1/dispatch); its SDK holds it to check them.
  /// Empty: no dispatch for the app. Never the login-token `secret`, which apps must not hold.
  std::string dispatch_key;
};

/// GET /v1/dispatch (HTTPDNS style, `[dispatch]`).
struct dispatch_config {
  /// How long a client may cache an answer.
  uint32_t ttl_s = 300;
  /// Addresses per answer (the SDK races up to 3).
  uint32_t max_addresses = 3;
};

/// Limits and timing of the client gateway (DESIGN §4, §9 layers 1-2).
struct gateway_config {
  endpoint listen{"0.0.0.0", 7100};
  /// Connection cap; 0 derives it from RLIMIT_NOFILE minus `fd_headroom`.
  size_t max_connections = 0;
  /// File descriptors kept free for LMDB, logs, HTTP and cluster links (EMFILE never happens).
  size_t fd_headroom = 512;
  /// New connections accepted per second (token bucket); 0 = unlimited.
  uint32_t accept_rate = 0;
  /// Bucket size of the accept limiter; 0 = one second's worth of `accept_rate`.
  uint32_t accept_burst = 0;
  /// Largest frame payload accepted, in bytes.
  size_t max_frame_size = size_t{256} << 10;
  /// Server payloads at least this large are zstd-compressed.
  size_t compression_threshold = 1024;
  /// Bytes queued to a client that is not reading before it is cut off.
  size_t max_unsent_bytes = size_t{4} << 20;
  /// SO_SNDBUF of client sockets in bytes (kernel memory per connection); 0 = kernel default.
  uint32_t socket_send_buffer = 0;
  /// Time from accept to a successful AUTH.
  uint32_t handshake_timeout_ms = 10'000;
  /// Heartbeat intervals a client may declare are clamped to [min, max].
  uint32_t heartbeat_min_ms = 30'000;
  uint32_t heartbeat_max_ms = 600'000;
  /// Idle timeout = accepted heartbeat interval x this margin.
  double idle_margin = 1.5;
  /// Unacked server frames older than this declare the connection dead.
  uint32_t ack_deadline_ms = 60'000;
  /// A session with this many unacked frames stops sending live topic messages and reads
  /// them from the log once the client acks (a slow follower never slows a topic).
  uint32_t topic_backlog_frames = 256;
  /// How long an old connection of a device is drained after a newer one arrives.
  uint32_t soft_disconnect_grace_ms = 5'000;
  /// On SIGTERM, GOAWAYs are spread over this window before exit.
  uint32_t drain_window_ms = 10'000;
};

/// Restart policy of the node supervisor (one_for_one).
struct supervisor_config {
  /// At most `intensity` restarts within `period_ms`; one more stops the node.
  uint32_t intensity = 5;
  uint32_t period_ms = 10'000;
};

/// Where and how a node keeps its durable state (LMDB, DESIGN §11).
struct storage_settings {
  /// Directory of the LMDB environment; empty = no SYNC on this node (gateway only).
  std::string data_dir;
  size_t map_size = size_t{256} << 20;     ///< Initial LMDB map size.
  size_t max_map_size = size_t{16} << 30;  ///< The map grows up to this, then writes fail.
  bool fsync = true;                ///< true: every group commit is fsynced; false: periodic sync.
  uint32_t sync_interval_ms = 100;  ///< Periodic mode: how often to fsync.
};

/// Virtual shards [first_shard, last_shard] have their home in `zone` (`[[cluster.zone_rules]]`).
struct zone_rule_config {
  uint32_t first_shard = 0;
  uint32_t last_shard = 0;
  std::string zone;
};

/// Cluster membership (`[cluster]`, DESIGN §10). Without the section the node is a cluster of
/// its own and always writable.
struct cluster_config {
  bool enabled = false;
  /// Where the node's membership actor is published (CAF's middleman, BASP).
  endpoint listen{"127.0.0.1", 7200};
  /// The address peers dial and the seeds name; default: `listen`.
  endpoint advertise;
  /// Cluster addresses ("host:port", as the members advertise them) dialled at start. This
  /// node's own address may be among them (one list for every node's file).
  std::vector<std::string> seeds;
  std::string zone = "default";
  uint32_t heartbeat_ms = 200;
  uint32_t failure_timeout_ms = 800;
  uint32_t redial_ms = 500;
  /// Rebalancing (decision 0017): shards in motion at once (moves plus replicas catching
  /// up), and how long a sealed shard may wait for its hand-off before it is cancelled.
  /// Read by the leader.
  uint32_t max_moving_shards = 32;
  uint32_t handoff_timeout_ms = 10'000;
  /// Home zones of shard ranges; a shard no rule covers may live in any zone.
  std::vector<zone_rule_config> zone_rules;
};

/// Everything a `tidegate node` process reads from its TOML file (docs/configuration.md).
struct node_config {
  std::string node_id;
  gateway_config gateway;
  /// Prometheus /metrics and health endpoints.
  endpoint http{"127.0.0.1", 7180};
  /// Scheduler worker threads; 0 = one per core.
  uint32_t scheduler_threads = 0;
  /// CAF's scheduling policy: "sharing" (one queue all workers wait on) or "stealing" (a
  /// queue per worker, idle workers poll and steal). Decision 0023.
  std::string scheduler = "sharing";
  supervisor_config supervisor;
  std::vector<app_config> apps;
  dispatch_config dispatch;
  storage_settings storage;
  sync_config sync = default_sync_config();
  cluster_config cluster;
};

}  // namespace tidegate::actors
