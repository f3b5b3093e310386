#include "actors/sync/sync_router.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_bucket.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

constexpr caf::atom_value router_name = sync_router_name;

struct router_state {
  static inline const char* name = "tidegate.sync_router";
  sync_context_ptr ctx;
  // (bucket id << 16 | shard) -> its sync_bucket, spawned on first use.
  std::unordered_map<uint32_t, caf::actor> buckets;
  std::unordered_map<caf::actor_addr, uint32_t> by_actor;
  std::shared_ptr<std::vector<caf::actor>> spawned = std::make_shared<std::vector<caf::actor>>();
};

using router_actor = caf::stateful_actor<router_state>;

// The sync_bucket of (`bucket`, shard of `owner`), spawned (and monitored) on first use.
caf::actor bucket_actor_for(router_actor* self, const bucket_config& bucket,
                            const std::string& owner) {
  auto& st = self->state;
  auto shard = shard_of(owner, st.ctx->config.shards);
  uint32_t key = (uint32_t{bucket.id} << 16) | shard;
  auto i = st.buckets.find(key);
  if (i != st.buckets.end()) {
    return i->second;
  }
  auto actor = spawn_sync_bucket(self->home_system(), st.ctx, &bucket, shard);
  self->monitor(actor);
  st.spawned->push_back(actor);
  st.by_actor.emplace(actor.address(), key);
  st.buckets.emplace(key, actor);
  return actor;
}

caf::behavior sync_router(router_actor* self, sync_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, router_name);
  // A bucket that crashed is spawned again on next use, from what storage holds.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto i = self->state.by_actor.find(msg.source);
    if (i != self->state.by_actor.end()) {
      self->state.buckets.erase(i->second);
      self->state.by_actor.erase(i);
      auto& spawned = *self->state.spawned;
      spawned.erase(std::remove_if(spawned.begin(), spawned.end(),
                                   [&](const caf::actor& a) { return a.address() == msg.source; }),
                    spawned.end());
    }
  });
  // Every bucket this router spawned ends with it. (The functor runs after the state is
  // gone, so it keeps its own list.)
  self->attach_functor([spawned = self->state.spawned](const caf::error&) {
    for (auto& bucket : *spawned) {
      caf::anon_send_exit(bucket, caf::exit_reason::kill);  // they hold no state of their own
    }
  });
  return {
      [self](publish_atom, publish_request& req) -> caf::result<caf::message> {
        const auto* bucket = self->state.ctx->config.bucket_of_business(req.business);
        if (bucket == nullptr) {
          return caf::make_error(sync_errc::unknown_business,
                                 "no bucket is mapped to business '" + req.business + "'");
        }
        if (req.owner.empty()) {
          return caf::make_error(sync_errc::bad_owner, "owner must be 1 to 160 bytes");
        }
        req.bucket = bucket->name;
        return self->delegate(bucket_actor_for(self, *bucket, req.owner), publish_atom_v,
                              std::move(req));
      },
      [self](head_atom, const std::string&, const std::string& business,
             const std::string& owner) -> caf::result<uint64_t> {
        const auto* bucket = self->state.ctx->config.bucket_of_business(business);
        if (bucket == nullptr) {
          return caf::make_error(sync_errc::unknown_business,
                                 "no bucket is mapped to business '" + business + "'");
        }
        auto head = self->state.ctx->store->head(shard_of(owner, self->state.ctx->config.shards),
                                                 bucket->id, owner);
        if (!head) {
          return caf::make_error(sync_errc::not_durable, head.error().detail);
        }
        return *head;
      },
      [self](sync_atom, const std::string& bucket_name, const std::string& owner,
             uint64_t after) -> caf::result<caf::message> {
        const auto* bucket = self->state.ctx->config.bucket(bucket_name);
        if (bucket == nullptr) {
          return caf::make_error(sync_errc::unknown_bucket, bucket_name);
        }
        return self->delegate(bucket_actor_for(self, *bucket, owner), sync_atom_v, owner, after);
      },
      [self](reload_atom, sync_context_ptr& ctx) -> caf::result<caf::ok_atom> {
        if (auto why = reload_conflict(self->state.ctx->config, ctx->config); !why.empty()) {
          return caf::make_error(sync_errc::reload_refused, why);
        }
        self->state.ctx = ctx;
        for (auto& [key, bucket] : self->state.buckets) {
          self->send(bucket, reload_atom_v, ctx);
        }
        return caf::ok_atom_v;
      },
      [self](sync_ack_atom, const std::string& bucket_name, const std::string& owner,
             uint64_t version) {
        if (const auto* bucket = self->state.ctx->config.bucket(bucket_name)) {
          self->send(bucket_actor_for(self, *bucket, owner), sync_ack_atom_v, owner, version);
        }
      },
  };
}

}  // namespace

caf::actor spawn_sync_router(caf::actor_system& sys, sync_context_ptr ctx) {
  return name_actor(sys, router_name, sys.spawn(sync_router, std::move(ctx)));
}

}  // namespace tidegate::actors
