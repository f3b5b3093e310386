#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Takes this node's online deliveries for the session registries of the other members (an
/// owner's sessions may be on any member), one per node, named "peerpush"
/// (delivery_outbox_of()):
///
///  - (deliver_atom, uint8_t bucket_kind, std::string owner, sync_page): sent on to every
///    other member's session registry (sync_context::peer_sessions(), asked at the time).
///
/// Every op of a publish batch is committed by its own shard's actor; sent one by one, each
/// would cost a remote message per member. Here a member's deliveries go as one
/// owner_deliveries message while the previous one to it is unanswered (pipelined_lanes), so
/// an idle outbox sends at once and a busy one a round trip's worth per message. A lost
/// message costs nothing but latency: sessions read what they miss on their next sync.
caf::actor spawn_delivery_outbox(caf::actor_system& sys, sync_context_ptr ctx);

}  // namespace tidegate::actors
