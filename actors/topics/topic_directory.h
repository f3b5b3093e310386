#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the topic directory and names it topic_directory_name (topic_directory_of()). It
/// finds the actor of a topic through the topic's virtual shard (shard_of(topic)): every
/// shard is local on one node, and the cluster places shards on nodes without changing
/// callers. A topic's actor is spawned on first use and passivates when idle.
///
/// Messages, each forwarded to the topic's actor (see topic_actor.h for the answers):
///  - (publish_atom, topic_publish)
///  - (follow_atom | unfollow_atom, std::string topic, std::vector<std::string> users)
///  - (topic_page_atom, std::string topic, uint64_t after)
///  - (interest_atom, std::string topic, caf::actor relay, std::string node, bool on)
///  - (info_atom, std::string topic)
/// (count_atom) -> uint64_t: topics with a running actor.
/// A bad topic name is answered at once with sync_errc::bad_topic and reaches no actor.
/// From a topic actor: (passivate_atom, std::string topic, uint64_t handled) -> bool.
/// From the node: (reload_atom, sync_context_ptr): the new limits, for every topic.
caf::actor spawn_topic_directory(caf::actor_system& sys, sync_context_ptr ctx);

}  // namespace tidegate::actors
