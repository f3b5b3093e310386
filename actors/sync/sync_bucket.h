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
///  - (sync_atom, std::string owner, std::string device, uint64_t after_version, bool first)
///    -> sync_page: the next page for `device` (empty: no delivery tracking); `first` when the
///    read starts a SYNC_REQ from the device's own cursor. Updates the device's cursor,
///    counts retries of unacked ops, dead-letters them past the bucket's retry budget (the
///    page's dead_through), and records receipts of `once` ops.
///  - (sync_ack_atom, std::string owner, std::string device, uint64_t version): the device has
///    every version <= version; `once` buckets delete those ops and record acked receipts.
///  - (delivered_atom, std::string owner, std::string device, uint64_t first, uint64_t last):
///    versions [first, last] were pushed to the device online (receipts of `once` ops).
///  - (reload_atom, sync_context_ptr): the new configuration (see sync_router).
/// After each commit it sends (deliver_atom, uint8_t kind, std::string owner, sync_page) to
/// the session registry, which forwards it to the owner's online sessions.
caf::actor spawn_sync_bucket(caf::actor_system& sys, sync_context_ptr ctx,
                             const bucket_config* bucket, uint16_t shard);

}  // namespace tidegate::actors
