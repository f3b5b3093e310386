#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <caf/error.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/pending_calls.h"
#include "actors/sync/sync_context.h"
#include "actors/sync/sync_messages.h"
#include "storage/oplog_store.h"

namespace tidegate::actors {

/// Streams `batch`, already committed here, to the shard's replica (and its learner, when it
/// has one) and calls `done` with no error once every copy applied it, or with why not. When the
/// replica reports gaps (owners whose earlier ops it lacks: a new replica, or a batch it missed),
/// the missing ops are read from this node's log, sent first, and the batch sent again; a replica
/// far behind takes several rounds. Runs on `self` (a sync_bucket or the catch-up), whose requests,
/// kept in its `calls`, carry the replica's answers; a replica that goes down, or that the map
/// stops naming, fails them (pending_calls).
void replicate(caf::event_based_actor* self, pending_calls& calls, sync_context_ptr ctx,
               uint16_t shard, replica_target target,
               std::shared_ptr<const storage::write_batch> batch,
               std::function<void(caf::error)> done);

/// For pending_calls::sweep() of replication calls: true while the map names `target` as the
/// shard's replica or learner (sink).
pending_calls::still_named_fn replica_still_named(sync_context_ptr ctx);

/// Why a replication call failed when its replica's link dropped.
caf::error replica_lost();

/// Sends the replica the ops it lacks for `gaps` (owners and the head it has), from this
/// node's log, and calls `done` once it applied them. Ops this node no longer keeps (trimmed,
/// or acked `once` ops) are skipped on the replica too (storage::owner_rebase).
void fill_gaps(caf::event_based_actor* self, pending_calls& calls, sync_context_ptr ctx,
               uint16_t shard, replica_target target, const std::vector<replica_gap>& gaps,
               std::function<void(caf::error)> done);

}  // namespace tidegate::actors
