#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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
  /// `sealed`: this node is the primary but holds the shard's requests for a hand-off
  /// (decision 0017); they are replayed once the shard's new primary serves them.
  enum class where : uint8_t { local, remote, unavailable, sealed };
  where at = where::local;
  caf::actor router;   ///< `remote`: the primary's sync router.
  caf::actor topics;   ///< `remote`: the primary's topic directory.
  std::string why;     ///< `unavailable`: what to tell the caller.
  uint64_t epoch = 0;  ///< `local`: the shard's epoch (0 outside a cluster).
  uint16_t shard = 0;  ///< The shard routed (set by route_request()).
};

/// Where a primary streams a shard's committed writes (DESIGN §10, replication).
struct replica_target {
  caf::actor sink;      ///< The replica's replica_sink; invalid while it is unreachable.
  uint64_t epoch = 0;   ///< The shard's epoch in the map that names both.
  std::string primary;  ///< This node.
  std::string replica;  ///< The replica's name, for errors.
  /// The replica's incarnation (member_info::started_at_ms), for its catch-up report.
  int64_t incarnation = 0;
  /// The shard's learner (decision 0020), which gets every write too: a write is acknowledged
  /// only once the replica and the learner both applied it, so that a learner whose catch-up
  /// found nothing missing lacks nothing acknowledged. Empty name: none. Invalid sink while
  /// it is unreachable.
  std::string learner;
  caf::actor learner_sink;
  int64_t learner_incarnation = 0;

  /// The learner as a target of its own (its catch-up, its share of a write).
  replica_target learner_alone() const { return copy(learner_sink, learner, learner_incarnation); }

  /// A target for `name` (`sink`, `incarnation`) in this one's shard epoch, with no learner.
  replica_target copy(caf::actor copy_sink, std::string name, int64_t copy_incarnation) const {
    replica_target out;
    out.sink = std::move(copy_sink);
    out.epoch = epoch;
    out.primary = primary;
    out.replica = std::move(name);
    out.incarnation = copy_incarnation;
    return out;
  }
};

/// A shard this node is primary of whose replica or learner has not caught up yet.
struct catchup_work {
  uint16_t shard = 0;
  replica_target target;
  /// The shard is sealed for a hand-off to the replica (in sync already): the pass waits
  /// for the writes this node started, confirms every head, and reports the hand-off ready.
  bool handoff = false;
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
  /// The topic relays of the other reachable members, which hear of every follow change (the
  /// user's sessions may be theirs). Empty: none. Thread-safe.
  std::function<std::vector<caf::actor>()> peer_relays;
  /// The replica (and learner) a shard's writes must reach before they are acknowledged, when
  /// this node is its primary and the map names a replica; nullopt otherwise (no copy to wait
  /// for).
  /// Empty: never (a node outside a cluster). Thread-safe.
  std::function<std::optional<replica_target>(uint16_t shard)> replica_of;
  /// Whether this node may apply `primary`'s stream of `shard` in `epoch`: the committed map
  /// names `primary` and this node (as replica or learner) in that epoch. An error
  /// (replica_fenced) says why not.
  /// Empty: never (a node outside a cluster). Thread-safe.
  std::function<caf::error(uint16_t shard, uint64_t epoch, const std::string& primary)>
      accept_stream;
  /// The shards whose replica or learner must catch up before it counts as in sync (this node
  /// is their primary, the copy is reachable and not in sync in the committed map); one work
  /// item per copy. Empty: none.
  std::function<std::vector<catchup_work>()> catchup_work_now;
  /// Tells the cluster's leader that `target`'s replica (or learner) of `shard` caught up.
  std::function<void(uint16_t shard, const replica_target& target)> report_synced;
  /// Tells the cluster's leader that `shard`, sealed here, may be handed over to `target`.
  std::function<void(uint16_t shard, const replica_target& target)> report_handoff;
};

using sync_context_ptr = std::shared_ptr<const sync_context>;

/// Where a request for `shard` goes (sync_context::route; local outside a cluster). One that
/// came from another member (`from_peer`) is never forwarded again: when this node is not the
/// primary either (one of the two maps is behind), the caller hears that the shard is
/// unavailable and retries, rather than the request bouncing between two maps.
inline shard_route route_request(const sync_context& ctx, uint16_t shard, bool from_peer) {
  shard_route route;
  if (ctx.route) {
    route = ctx.route(shard);
  }
  if (route.at == shard_route::where::remote && from_peer) {
    route = {};
    route.at = shard_route::where::unavailable;
    route.why = "the shard's primary moved while the request was on its way";
  }
  route.shard = shard;
  return route;
}

/// Wall-clock milliseconds since the epoch: what op timestamps, TTLs and receipts use.
inline uint64_t wall_now_ms() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace tidegate::actors

// Local only: sent to the router and buckets of this node on reload.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::sync_context_ptr)
