#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// The replica side of replication (DESIGN §10), one per cluster member with storage, named
/// "replica" (replica_sink_of()). It applies the write batches that primaries stream for the
/// shards this node is the replica of:
///
///  - (replicate_atom, replica_stream) -> replica_outcomes: a primary node's batches for
///    any of its shards (sent by its replica_outbox), each applied or refused on its own and
///    answered in order
///  - (sync_heads_atom, uint16_t shard, uint64_t epoch, std::string primary, owner_heads)
///    -> replica_reply: the owners whose head here is below the primary's (a catch-up's check)
///
/// A stream the committed map does not name (another primary, another epoch, another replica)
/// is refused with replica_fenced: an old primary cut off from the cluster can never write to a
/// promoted replica. Appends must continue each owner's log: ones the replica already holds are
/// skipped (after checking that it holds the same op; another op under that version is
/// replica_diverged), an append onto the owner's head is refused (replica_diverged) when the
/// head is not the op the primary names before it (replica_item::prevs), and an owner whose
/// first append is past its head makes the whole batch a reply with that gap and nothing of it
/// applied; a rebase (ops the primary no longer keeps)
/// moves an owner's head forward first. Otherwise the batch (with its dedupe
/// entries and delivery state) is written through the storage_writer, and the reply comes
/// once it is committed.
caf::actor spawn_replica_sink(caf::actor_system& sys, sync_context_ptr ctx);

}  // namespace tidegate::actors
