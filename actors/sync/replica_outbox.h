#pragma once

#include <chrono>
#include <cstddef>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

namespace tidegate::actors {

/// How long a replicated batch may wait for its replica's answer before the write fails (the
/// backend retries with its msg_id): a frozen replica never hangs a write.
inline constexpr std::chrono::seconds replica_answer_timeout{5};

/// By default a stream message is sent once it holds this many bytes of ops, even mid-turn.
inline constexpr size_t replica_stream_bytes = size_t{1} << 20;

/// The one way this node's primaries send committed batches to replicas, one per node that
/// has storage, named "outbox" (replica_outbox_of()):
///
///  - (replicate_atom, caf::actor sink, replica_item) -> replica_reply: `item` for the
///    replica whose replica_sink is `sink`, answered with the sink's reply or error.
///
/// Why: a publish batch touches about as many shards as it has ops, and each shard's actor
/// replicates its own batch. Sent one by one, each op costs a remote round trip and a
/// serialization; here the items bound for one replica go as one replica_stream message, and
/// the sink writes them in one group commit. Each replica has at most one stream in flight
/// (pipelined_lanes): what arrives meanwhile goes in the next one, so a busy outbox sends a
/// round trip's worth per message and an idle one sends at once (after draining its
/// mailbox), with no timer. Items for one sink keep their order.
///
/// Callers watch `sink` themselves (pending_calls::request_via): when the replica's node goes
/// down their calls fail at once, and its late answer here is dropped by them.
/// A lane's items go out at once when they reach `stream_bytes` (roughly counted).
caf::actor spawn_replica_outbox(caf::actor_system& sys, size_t stream_bytes = replica_stream_bytes);

}  // namespace tidegate::actors
