#pragma once

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the SYNC oplog owner of one (bucket, shard): the only actor that assigns the
/// versions of its owners, one more per op (DESIGN §5). Answers a publish only once the
/// storage_writer committed the op; after a failed write it forgets the owner's cached head,
/// so the next op continues from what is durable (no gap, no reuse). `bucket` must outlive it
/// (it points into ctx->config).
///
/// Messages:
///  - (publish_atom, publish_request) -> publish_result; a repeated msg_id, stored or still in
///    flight, gets the first version with duplicated = true.
///  - (publish_atom, publish_batch) -> publish_outcomes: the same for each op, every new one
///    in one write request.
///  - (sync_atom, std::string owner, uint64_t after_version) -> sync_page: the next page.
///  - (sync_ack_atom, std::string owner, uint64_t version): the owner's client has every
///    version <= version; `once` buckets delete those ops.
///  - (reload_atom, sync_context_ptr): the new configuration (see sync_router).
/// After each commit it sends (deliver_atom, uint8_t kind, std::string owner, sync_page) to
/// the session registry, which forwards it to the owner's online sessions.
caf::actor spawn_sync_bucket(caf::actor_system& sys, sync_context_ptr ctx,
                             const bucket_config* bucket, uint16_t shard);

}  // namespace tidegate::actors
