#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "actors/sync/pending_calls.h"
#include "actors/sync/sync_context.h"
#include "actors/topics/topic_messages.h"

namespace tidegate::actors {

/// The user side of the follow index (DESIGN §6): which topics a user follows, kept under the
/// user's shard. On one node the topic actor writes it in the same transaction as the topic's
/// follower count. In a cluster the user's shard may live on another member than the topic's:
/// there the topic actor asks the topic directory of the user's primary, which uses these.

/// The topics `user` follows (at most topics.max_follows_per_user), from this node's store.
caf::expected<followed_topics> read_follows(const sync_context& ctx, const std::string& user);

/// Makes `users` follow `topic` from `since` (or unfollow it, when `follow` is false), as far
/// as each one's state and the per-user maximum allow, and calls `done` with one outcome per
/// user, in order, once the change is committed here and applied by the replica of each
/// user's shard. Every user's shard must be served here (the caller checked the route). Runs
/// on `self`, whose requests carry the writer's and the replicas' answers (those kept in
/// `replication`).
void write_follows(caf::event_based_actor* self, pending_calls& replication, sync_context_ptr ctx,
                   const std::string& topic, uint64_t since, bool follow,
                   const std::vector<std::string>& users,
                   std::function<void(caf::expected<follow_outcomes>)> done);

/// Tells the topic relays of this node (`local`, if valid) and of the other members that
/// `user` now follows `topic` from `outcome.since_version`, or no longer follows it.
void announce_follow_change(caf::event_based_actor* self, const sync_context& ctx,
                            const caf::actor& local, const std::string& user,
                            const std::string& topic, const follow_outcome& outcome);

}  // namespace tidegate::actors
