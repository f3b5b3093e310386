#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include "actors/sync/bucket_config.h"
#include "storage/delivery_store.h"
#include "storage/follow_store.h"
#include "storage/oplog_store.h"

namespace tidegate::actors {

/// Where the requests of one virtual shard go (DESIGN §10, location transparency).
struct shard_route {
  enum class where : uint8_t { local, remote, unavailable };
  where at = where::local;
  caf::actor router;  ///< `remote`: the primary's sync router.
  std::string why;    ///< `unavailable`: what to tell the caller.
};

/// What every SYNC actor of a node shares. Immutable after start; owned by the node through
/// a shared_ptr each actor holds. `store` is the node's: any actor reads, in transactions
/// that end inside the call; only the storage_writer (storage_writer_of()) writes.
struct sync_context {
  sync_config config;
  storage::oplog_store* store = nullptr;  ///< Owned by the node; outlives every actor.
  /// Cursors, receipts and dead letters (reads); owned by the node like `store`.
  const storage::delivery_store* deliveries = nullptr;
  /// The follow index of Topics (reads); owned by the node like `store`.
  const storage::follow_store* follows = nullptr;
  /// Where a shard's requests go: its primary in the committed shard map. Empty: every shard
  /// is served here (a node outside a cluster). Thread-safe.
  std::function<shard_route(uint16_t shard)> route;
  /// The session registries of the other reachable members, which get every online delivery
  /// too (their sessions may be the owner's). Empty: none. Thread-safe.
  std::function<std::vector<caf::actor>()> peer_sessions;
};

using sync_context_ptr = std::shared_ptr<const sync_context>;

/// Wall-clock milliseconds since the epoch: what op timestamps, TTLs and receipts use.
inline uint64_t wall_now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace tidegate::actors

// Local only: sent to the router and buckets of this node on reload.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::sync_context_ptr)
