#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the node's topic relay and names it topic_relay_name (topic_relay_of()): the one
/// place where a topic's message fans out to this node's online followers (DESIGN §6). A
/// topic sends it one message per commit; it sends that batch (shared, never copied) to each
/// active (foreground) follower's session, and to each passive (background) one only a
/// notice that the topic moved, once until the session comes to the foreground. A topic with
/// many foreground followers here is fanned out at most once per topics.fanout_linger_ms,
/// the commits of the meantime merged into one batch (the cost of a fan-out is per follower,
/// not per message). It registers
/// its interest with a topic while the node has an online follower of it. The `global`
/// bucket's online delivery takes the same path: one message per node, fanned out here to
/// the app's sessions, each applying the op's filters.
///
/// Messages from sessions (the relay monitors each; a session that ends is forgotten):
///  - (hello_atom, std::string app, bool active): the session serves a client of `app`.
///  - (login_atom, std::string user) -> followed_topics: the session's user; the relay reads
///    the user's follows and registers the session with each topic.
///  - (app_state_atom, bool active): the client went to the foreground or the background.
/// From topics:
///  - (topic_data_atom, topic_batch_ptr): sessions get (topic_data_atom, topic_batch_ptr)
///    or (notice_atom, std::string topic, uint64_t head).
///  - (followed_atom, std::string user, std::string topic, uint64_t since) and
///    (unfollowed_atom, std::string user, std::string topic): the user's sessions here start
///    or stop receiving the topic, and get the same message without the user.
///  - (count_atom, std::string topic) -> uint64_t: online followers here.
/// From the `global` bucket: (deliver_atom, uint8_t kind, std::string app, sync_page).
caf::actor spawn_topic_relay(caf::actor_system& sys, sync_context_ptr ctx, std::string node);

}  // namespace tidegate::actors
