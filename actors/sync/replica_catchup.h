#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Brings the replicas of this node's shards up to date, so that they count as in sync (and
/// may be promoted) (DESIGN §10). Every `period` it takes the shards whose replica is not in
/// sync yet (sync_context::catchup_work_now) and, one shard at a time, for every bucket:
/// sends the replica the head op of each owner (checked to be the same op, and the ops before
/// it filled in where the replica lacks them), and checks the heads of owners whose head op is
/// gone here (acked `once` ops). With nothing missing it reports the replica caught up
/// (sync_context::report_synced). New writes reach the replica synchronously meanwhile, so a
/// pass that found nothing missing leaves nothing acknowledged behind. A failed pass is tried
/// again in the next period.
caf::actor spawn_replica_catchup(caf::actor_system& sys, sync_context_ptr ctx,
                                 std::chrono::milliseconds period);

}  // namespace tidegate::actors
