#pragma once

#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// Spawns the actor of one active topic (DESIGN §6). Only the topic directory spawns it, and
/// every message reaches it through the directory (which counts them, for passivation). Its
/// state is all in storage: the log (oplog of topic_bucket_id), its head, and its follower
/// count; a new incarnation continues from there.
///
/// Messages (forwarded by the directory; answers go to the original sender):
///  - (publish_atom, topic_publish) -> publish_result, once durable; a repeated msg_id
///    answers the original version with `duplicated`.
///  - (follow_atom, std::string topic, std::vector<std::string> users) ->
///    follow_outcomes: the follows are durable (one write for all of them);
///    each newly following user's local sessions are told through the relay.
///  - (unfollow_atom, std::string topic, std::vector<std::string> users) ->
///    follow_outcomes.
///  - (topic_page_atom, std::string topic, uint64_t after) -> sync_page (topic set): up to
///    sync.page_max_ops messages after `after`, from the recent-messages cache when it holds
///    them, else from storage; `reset` past retention.
///  - (interest_atom, std::string topic, caf::actor relay, std::string node, bool on): the
///    relay of `node` has (or no longer has) online followers. The topic monitors it, and
///    sends it (topic_data_atom, topic_batch_ptr) once per commit.
///  - (info_atom, std::string topic) -> topic_info (online followers asked from the relays).
///
/// After topics.idle_passivate_ms with no relay and nothing in flight it asks the directory
/// (passivate_atom, topic, handled) and stops if the directory agrees.
caf::actor spawn_topic(caf::actor_system& sys, sync_context_ptr ctx, caf::actor directory,
                       std::string topic);

}  // namespace tidegate::actors
