#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the topic directory and names it topic_directory_name (topic_directory_of()). It
/// finds the actor of a topic through the topic's virtual shard (shard_of(topic)): on one node
/// every shard is local; in a cluster a topic's actor runs on its shard's primary, and the
/// directory of any member forwards there (answers come from the primary; `shard_unavailable`
/// while the shard has no reachable primary). A topic's actor is spawned on first use and
/// passivates when idle.
///
/// Messages, each forwarded to the topic's actor (see topic_actor.h for the answers):
///  - (publish_atom, topic_publish)
///  - (follow_atom | unfollow_atom, std::string topic, std::vector<std::string> users)
///  - (topic_page_atom, std::string topic, uint64_t after)
///  - (interest_atom, std::string topic, caf::actor relay, std::string node, bool on)
///  - (info_atom, std::string topic)
/// Routed by the user's shard instead (the follow index's user side, follow_index.h):
///  - (follows_of_atom, std::string user) -> followed_topics
///  - (follow_index_atom, std::string topic, uint64_t since, bool follow,
///    std::vector<std::string> users) -> follow_outcomes: only for users of shards this node
///    is the primary of (from a topic actor, which split its users by primary).
/// (count_atom) -> uint64_t: topics with a running actor.
/// A bad topic name is answered at once with sync_errc::bad_topic and reaches no actor.
/// From a topic actor: (passivate_atom, std::string topic, uint64_t handled) -> bool.
/// From the node: (reload_atom, sync_context_ptr): the new limits, for every topic.
caf::actor spawn_topic_directory(caf::actor_system& sys, sync_context_ptr ctx);

}  // namespace tidegate::actors
