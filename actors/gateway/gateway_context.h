#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/admin/metrics.h"
#include "actors/config/node_config.h"
#include "actors/sync/bucket_config.h"
#include "protocol/zstd_codec.h"

namespace tidegate::actors {

/// What a session knows about an app: its token secret and optional zstd dictionary.
struct app_entry {
  std::string secret;
  std::shared_ptr<const protocol::zstd_dictionary> dictionary;
};

/// Everything the gateway's actors share. Immutable after start except the atomics; owned by
/// the node through a shared_ptr that every gateway actor holds, so it outlives them all.
struct gateway_context {
  std::string node_id;
  gateway_config config;
  std::unordered_map<std::string, app_entry> apps;
  /// The buckets a session syncs (SYNC_REQ), replaced whole on reload: read it once per
  /// use through sync() (an atomic load), never hold a reference across messages.
  std::shared_ptr<const sync_config> sync() const { return std::atomic_load(&sync_); }
  void set_sync(std::shared_ptr<const sync_config> next) {
    std::atomic_store(&sync_, std::move(next));
  }
  gateway_metrics metrics;
  /// Connection cap after fd headroom (admission).
  size_t max_connections = 0;
  /// A cluster member with zone rules: the addresses (in another zone) where a client of
  /// `user_id` belongs, or empty to serve it here. Null: every user is served here. Called on
  /// session actors after AUTH; thread-safe.
  std::function<std::vector<std::string>(const std::string& user_id)> zone_redirect;
  /// Source of session ids, unique within this process.
  std::atomic<uint64_t> next_session{1};

 private:
  std::shared_ptr<const sync_config> sync_ = std::make_shared<const sync_config>();
};

using gateway_context_ptr = std::shared_ptr<gateway_context>;

}  // namespace tidegate::actors
