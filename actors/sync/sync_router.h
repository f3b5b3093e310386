#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/names.h"

namespace tidegate::actors {

/// The sync router (found with sync_router_of() from actors/names.h) maps a business to its
/// bucket and an owner to its virtual shard, and forwards to that (bucket, shard)'s
/// sync_bucket, spawning it on first use.
///
/// Messages (all answered once durable, or with a caf::error of category "sync"/sync_errc):
///  - (publish_atom, publish_request) -> publish_result
///  - (publish_atom, publish_batch) -> publish_outcomes: one message per bucket actor for the
///    whole batch; each op answered on its own (an unknown business fails only that op)
///  - (head_atom, std::string app_id, std::string business, std::string owner) -> uint64_t
///  - (sync_atom, std::string bucket, std::string owner, uint64_t after) -> sync_page
///  - (sync_ack_atom, std::string bucket, std::string owner, uint64_t version)
///  - (reload_atom, sync_context_ptr) -> ok_atom: businesses, limits and retention change at
///    once; buckets keep their ids and kinds (reload_conflict), so no version is lost or
///    reused. Refused with the reason otherwise, and nothing changes.

}  // namespace tidegate::actors

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the router and names it "sync" in the actor system's registry.
caf::actor spawn_sync_router(caf::actor_system& sys, sync_context_ptr ctx);

}  // namespace tidegate::actors
