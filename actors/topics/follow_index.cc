#include "actors/topics/follow_index.h"

#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/sync_errc.h"
#include "storage/follow_records.h"

namespace tidegate::actors {
namespace {

caf::error not_durable(std::string why) {
  return caf::make_error(sync_errc::not_durable, std::move(why));
}

// The answers a write_follows call waits for: the local commit, then one replication per
// shard. `done` runs once, with the first error if any.
struct follow_write {
  follow_outcomes outcomes;
  size_t pending = 0;
  caf::error first_error;
  std::function<void(caf::expected<follow_outcomes>)> done;

  void settle(caf::error err) {
    if (err && !first_error) {
      first_error = std::move(err);
    }
    if (--pending == 0) {
      if (first_error) {
        done(std::move(first_error));
      } else {
        done(std::move(outcomes));
      }
    }
  }
};

}  // namespace

caf::expected<followed_topics> read_follows(const sync_context& ctx, const std::string& user) {
  if (ctx.follows == nullptr) {
    return followed_topics{};
  }
  const auto& cfg = ctx.config;
  auto follows =
      ctx.follows->topics_of(shard_of(user, cfg.shards), user, cfg.topics.max_follows_per_user);
  if (!follows) {
    return not_durable(follows.error().detail);
  }
  followed_topics out;
  out.reserve(follows->size());
  for (auto& [topic, f] : *follows) {
    out.emplace_back(std::move(topic), f.since_version);
  }
  return out;
}

void write_follows(caf::event_based_actor* self, pending_calls& replication, sync_context_ptr ctx,
                   const std::string& topic, uint64_t since, bool follow,
                   const std::vector<std::string>& users,
                   std::function<void(caf::expected<follow_outcomes>)> done) {
  const auto& cfg = ctx->config;
  if (ctx->follows == nullptr) {
    done(not_durable("this node keeps no follow index"));
    return;
  }
  follow_outcomes outcomes;
  std::map<uint16_t, storage::write_batch> by_shard;
  // Each user's state after the earlier entries of `users` (a user may appear twice).
  std::unordered_map<std::string, std::optional<storage::follow>> now_following;
  for (const auto& user : users) {
    auto shard = shard_of(user, cfg.shards);
    auto known = now_following.find(user);
    if (known == now_following.end()) {
      auto f = ctx->follows->follow_of(shard, user, topic);
      if (!f) {
        done(not_durable(f.error().detail));
        return;
      }
      known = now_following.emplace(user, *f).first;
    }
    auto& current = known->second;
    follow_outcome o;
    if (follow && !current) {
      auto count = ctx->follows->topics_of(shard, user, cfg.topics.max_follows_per_user);
      if (!count) {
        done(not_durable(count.error().detail));
        return;
      }
      if (count->size() >= cfg.topics.max_follows_per_user) {
        o.refused = "the user follows the maximum of "
                    + std::to_string(cfg.topics.max_follows_per_user) + " topics";
        outcomes.push_back(o);
        continue;
      }
      storage::follow f{since, wall_now_ms()};
      by_shard[shard].puts.push_back({storage::delivery_table::follows,
                                      storage::encode_follow_key(shard, user, topic),
                                      storage::encode_follow(f)});
      current = f;
      o = {true, true, since, {}};
    } else if (!follow && current) {
      by_shard[shard].erases.push_back(
          {storage::delivery_table::follows, storage::encode_follow_key(shard, user, topic)});
      current.reset();
      o = {false, true, 0, {}};
    } else {
      o = {current.has_value(), false, current ? current->since_version : 0, {}};
    }
    outcomes.push_back(o);
  }
  if (by_shard.empty()) {
    done(std::move(outcomes));
    return;
  }
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    done(not_durable("no storage writer"));
    return;
  }
  storage::write_batch all;
  for (const auto& [shard, batch] : by_shard) {
    all.puts.insert(all.puts.end(), batch.puts.begin(), batch.puts.end());
    all.erases.insert(all.erases.end(), batch.erases.begin(), batch.erases.end());
  }
  auto write = std::make_shared<follow_write>();
  write->outcomes = std::move(outcomes);
  write->done = std::move(done);
  write->pending = 1;
  auto shards = std::make_shared<std::map<uint16_t, storage::write_batch>>(std::move(by_shard));
  self->request(writer, caf::infinite, write_atom_v, std::move(all))
      .then(
          [self, &replication, ctx, write, shards](caf::unit_t) {
            // Each shard's part goes to that shard's replica, awaited like a SYNC op: a
            // follow that was answered survives the loss of this node.
            for (auto& [shard, batch] : *shards) {
              auto target = ctx->replica_of ? ctx->replica_of(shard) : std::nullopt;
              if (!target) {
                continue;
              }
              ++write->pending;
              replicate(self, replication, ctx, shard, *target,
                        std::make_shared<const storage::write_batch>(std::move(batch)),
                        [write](caf::error err) { write->settle(std::move(err)); });
            }
            write->settle({});
          },
          [self, write](caf::error& err) {
            write->settle(not_durable(self->home_system().render(err)));
          });
}

void announce_follow_change(caf::event_based_actor* self, const sync_context& ctx,
                            const caf::actor& local, const std::string& user,
                            const std::string& topic, const follow_outcome& outcome) {
  auto msg = outcome.following
                 ? caf::make_message(followed_atom_v, user, topic, outcome.since_version)
                 : caf::make_message(unfollowed_atom_v, user, topic);
  if (local) {
    self->send(local, msg);
  }
  if (ctx.peer_relays) {
    for (const auto& relay : ctx.peer_relays()) {
      self->send(relay, msg);
    }
  }
}

}  // namespace tidegate::actors
