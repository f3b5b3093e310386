#include "actors/sync/sync_router.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/held_requests.h"
#include "actors/sync/pending_calls.h"
#include "actors/sync/sync_bucket.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

constexpr caf::atom_value router_name = sync_router_name;

// The answers of one publish_batch, filled in as bucket shares answer; sent when none is left.
struct batch_answers {
  caf::response_promise promise;
  publish_outcomes answers;
  size_t pending_shares = 0;

  void fill(const std::vector<size_t>& slots, publish_outcomes* got, const caf::error& err) {
    for (size_t j = 0; j < slots.size(); ++j) {
      auto& slot = answers.outcomes[slots[j]];
      if (got != nullptr && j < got->outcomes.size()) {
        slot = std::move(got->outcomes[j]);
      } else {
        slot.error = err ? err : caf::make_error(sync_errc::not_durable, "no answer");
      }
    }
    if (--pending_shares == 0) {
      promise.deliver(std::move(answers));
    }
  }
};

struct router_state {
  static inline const char* name = "tidegate.sync_router";
  sync_context_ptr ctx;
  // (bucket id << 16 | shard) -> its sync_bucket, spawned on first use.
  std::unordered_map<uint32_t, caf::actor> buckets;
  // The shard's epoch each bucket was spawned in: a bucket caches its owners' heads, so one
  // from before the shard was primary elsewhere is replaced (decision 0017).
  std::unordered_map<uint32_t, uint64_t> bucket_epochs;
  held_requests held;  // requests of shards sealed for a hand-off
  std::unordered_map<caf::actor_addr, uint32_t> by_actor;
  std::shared_ptr<std::vector<caf::actor>> spawned = std::make_shared<std::vector<caf::actor>>();
  // Requests to buckets and to other members' routers not answered yet. Those to local
  // buckets carry no timeout (CAF 0.17's clock cancels a timeout with a scan of the
  // requester's pending ones, quadratic for a router with thousands in flight); a bucket
  // answers each once its write commits or fails (its writer request is timed), and one that
  // dies fails them through the down handler.
  pending_calls calls;
};

using router_actor = caf::stateful_actor<router_state>;

// The sync_bucket of (`bucket`, shard of `owner`) in the shard's epoch `epoch` (the local
// route's), spawned (and monitored) on first use in that epoch.
caf::actor bucket_actor_for(router_actor* self, const bucket_config& bucket,
                            const std::string& owner, uint64_t epoch) {
  auto& st = self->state;
  auto shard = shard_of(owner, st.ctx->config.shards);
  uint32_t key = (uint32_t{bucket.id} << 16) | shard;
  auto i = st.buckets.find(key);
  if (i != st.buckets.end()) {
    if (st.bucket_epochs[key] == epoch) {
      return i->second;
    }
    // The shard was primary elsewhere since: its cached heads may be behind. The old bucket
    // gets nothing new and ends once what it has in flight is answered (a write from stale
    // heads fails at the writer and is retried); its down message fails any share left.
    auto old = i->second.address();
    st.buckets.erase(i);
    auto& spawned = *st.spawned;
    spawned.erase(std::remove_if(spawned.begin(), spawned.end(),
                                 [&](const caf::actor& a) { return a.address() == old; }),
                  spawned.end());
  }
  st.bucket_epochs[key] = epoch;
  auto actor = spawn_sync_bucket(self->home_system(), st.ctx, &bucket, shard);
  st.calls.watch(self, actor);
  st.spawned->push_back(actor);
  st.by_actor.emplace(actor.address(), key);
  st.buckets.emplace(key, actor);
  return actor;
}

// Where `owner`'s requests go (route_request()).
shard_route route_of(router_actor* self, const std::string& owner) {
  const auto& ctx = *self->state.ctx;
  const auto& sender = self->current_sender();
  return route_request(ctx, shard_of(owner, ctx.config.shards),
                       sender && sender->node() != self->node());
}

// Fails the calls to other members' routers that the shard map no longer names.
void sweep_calls(router_actor* self) {
  self->state.calls.sweep(self, routed_to(self->state.ctx->route, &shard_route::router));
}

caf::error unavailable(const shard_route& route) {
  return caf::make_error(sync_errc::shard_unavailable, route.why);
}

// The shard of `batch`'s ops when every one of them is sealed here (held whole), else none.
std::optional<uint16_t> all_sealed(router_actor* self, const publish_batch& batch) {
  std::optional<uint16_t> shard;
  for (const auto& req : batch.ops) {
    if (req.owner.empty()) {
      return std::nullopt;
    }
    auto route = route_of(self, req.owner);
    if (route.at != shard_route::where::sealed) {
      return std::nullopt;
    }
    shard = route.shard;
  }
  return shard;
}

constexpr auto remote_timeout = pending_calls::remote_timeout;

// One target's share of a publish_batch (a local bucket actor, or the router of the member
// that is the shards' primary), and where its answers go in the whole.
struct batch_share {
  caf::actor target;
  bool remote = false;
  uint16_t shard = 0;  // of one of its ops (pending_calls::sweep())
  publish_batch ops;
  std::vector<size_t> slots;
};

// Splits `batch` by bucket actor and sends each share as one message; answers once every
// share answered (or failed: then each of its ops gets that error).
caf::result<publish_outcomes> publish_all(router_actor* self, publish_batch& batch) {
  if (auto shard = all_sealed(self, batch)) {
    return self->state.held.hold(self, *shard);
  }
  auto answers = std::make_shared<publish_outcomes>();
  answers->outcomes.resize(batch.ops.size());
  // By address, not id: ids repeat across nodes, and a share may go to another member.
  std::unordered_map<caf::actor_addr, batch_share> shares;
  for (size_t i = 0; i < batch.ops.size(); ++i) {
    auto& req = batch.ops[i];
    const auto* bucket = self->state.ctx->config.bucket_of_business(req.business);
    if (bucket == nullptr) {
      answers->outcomes[i].error = caf::make_error(
          sync_errc::unknown_business, "no bucket is mapped to business '" + req.business + "'");
      continue;
    }
    if (req.owner.empty()) {
      answers->outcomes[i].error =
          caf::make_error(sync_errc::bad_owner, "owner must be 1 to 160 bytes");
      continue;
    }
    req.bucket = bucket->name;
    auto route = route_of(self, req.owner);
    if (route.at == shard_route::where::unavailable) {
      answers->outcomes[i].error = unavailable(route);
      continue;
    }
    // Ops of sealed shards go back to this router as a batch of their own, which is held
    // whole (below) until the hand-off, so the rest is not kept waiting.
    bool remote = route.at == shard_route::where::remote;
    bool sealed = route.at == shard_route::where::sealed;
    auto actor = remote   ? route.router
                 : sealed ? caf::actor_cast<caf::actor>(self)
                          : bucket_actor_for(self, *bucket, req.owner, route.epoch);
    auto& share = shares[actor.address()];
    share.target = actor;
    share.remote = remote;
    share.shard = route.shard;
    share.ops.ops.push_back(std::move(req));
    share.slots.push_back(i);
  }
  if (shares.empty()) {
    return std::move(*answers);
  }
  auto batch_state = std::make_shared<batch_answers>();
  batch_state->promise = self->make_response_promise();
  batch_state->answers = std::move(*answers);
  batch_state->pending_shares = shares.size();
  auto promise = batch_state->promise;
  for (auto& [id, share] : shares) {
    // Local buckets and held shares always answer; another member may not.
    auto timeout = share.remote ? caf::duration{remote_timeout} : caf::infinite;
    self->state.calls.request<publish_outcomes>(
        self, share.target, share.shard, timeout,
        [batch_state, slots = share.slots](publish_outcomes& got) {
          batch_state->fill(slots, &got, {});
        },
        [batch_state, slots = share.slots](caf::error& err) {
          batch_state->fill(slots, nullptr, err);
        },
        publish_atom_v, std::move(share.ops));
  }
  return promise;
}

// The bucket of `business` on a node that keeps delivery state, or why not.
caf::expected<const bucket_config*> delivery_bucket(const sync_context& ctx,
                                                    const std::string& business) {
  const auto* bucket = ctx.config.bucket_of_business(business);
  if (bucket == nullptr) {
    return caf::make_error(sync_errc::unknown_business,
                           "no bucket is mapped to business '" + business + "'");
  }
  if (ctx.deliveries == nullptr) {
    return caf::make_error(sync_errc::not_durable, "this node keeps no delivery state");
  }
  return bucket;
}

// The device cursors of `owner` in the bucket of `business` (a read; no actor involved).
caf::expected<owner_cursors> read_cursors(const sync_context& ctx, const std::string& business,
                                          const std::string& owner) {
  auto bucket = delivery_bucket(ctx, business);
  if (!bucket) {
    return bucket.error();
  }
  auto shard = shard_of(owner, ctx.config.shards);
  auto cursors = ctx.deliveries->cursors(shard, (*bucket)->id, owner);
  auto head = ctx.store->head(shard, (*bucket)->id, owner);
  if (!cursors || !head) {
    return caf::make_error(sync_errc::not_durable,
                           !cursors ? cursors.error().detail : head.error().detail);
  }
  owner_cursors out;
  out.bucket = (*bucket)->name;
  out.head = *head;
  for (auto& [device, cursor] : *cursors) {
    out.devices.push_back({device, cursor});
  }
  return out;
}

// The receipts of the op `msg_id` of (business, owner): found through the idempotency index,
// so they are readable as long as the msg_id is remembered (sync.dedupe_ttl_ms).
caf::expected<op_receipts> read_receipts(const sync_context& ctx, const std::string& business,
                                         const std::string& owner, const std::string& msg_id) {
  auto bucket = delivery_bucket(ctx, business);
  if (!bucket) {
    return bucket.error();
  }
  auto version = ctx.store->lookup_dedupe((*bucket)->id, business, owner, msg_id, wall_now_ms());
  if (!version) {
    return caf::make_error(sync_errc::not_durable, version.error().detail);
  }
  if (!*version) {
    return caf::make_error(sync_errc::unknown_op, "no op '" + msg_id + "' of " + owner
                                                      + " in business '" + business + "'");
  }
  auto receipts =
      ctx.deliveries->receipts(shard_of(owner, ctx.config.shards), (*bucket)->id, owner, **version);
  if (!receipts) {
    return caf::make_error(sync_errc::not_durable, receipts.error().detail);
  }
  return op_receipts{**version, std::move(*receipts)};
}

caf::behavior sync_router(router_actor* self, sync_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, router_name);
  // A bucket that crashed is spawned again on next use, from what storage holds.
  self->set_down_handler([self](caf::down_msg& msg) {
    bool remote = msg.source.node() != self->node();
    self->state.calls.on_down(
        msg, remote
                 ? caf::make_error(sync_errc::shard_unavailable,
                                   "the link to the shard's primary dropped before it"
                                   " answered; it may have been applied: retry with the"
                                   " same msg_id")
                 : caf::make_error(sync_errc::not_durable, "the bucket stopped before answering"));
    auto i = self->state.by_actor.find(msg.source);
    if (i != self->state.by_actor.end()) {
      if (auto b = self->state.buckets.find(i->second);
          b != self->state.buckets.end() && b->second.address() == msg.source) {
        self->state.buckets.erase(b);
      }
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
        auto route = route_of(self, req.owner);
        switch (route.at) {
          case shard_route::where::unavailable:
            return unavailable(route);
          case shard_route::where::sealed:
            return self->state.held.hold(self, route.shard);
          case shard_route::where::remote:
            return self->state.calls.forward<publish_result>(self, route.router, route.shard,
                                                             publish_atom_v, std::move(req));
          case shard_route::where::local:
            break;
        }
        return self->delegate(bucket_actor_for(self, *bucket, req.owner, route.epoch),
                              publish_atom_v, std::move(req));
      },
      [self](publish_atom, publish_batch& batch) { return publish_all(self, batch); },
      [self](head_atom, const std::string& app, const std::string& business,
             const std::string& owner) -> caf::result<caf::message> {
        const auto* bucket = self->state.ctx->config.bucket_of_business(business);
        if (bucket == nullptr) {
          return caf::make_error(sync_errc::unknown_business,
                                 "no bucket is mapped to business '" + business + "'");
        }
        auto route = route_of(self, owner);
        if (route.at == shard_route::where::unavailable) {
          return unavailable(route);
        }
        if (route.at == shard_route::where::sealed) {
          return self->state.held.hold(self, route.shard);
        }
        if (route.at == shard_route::where::remote) {
          return self->state.calls.forward<uint64_t>(self, route.router, route.shard, head_atom_v,
                                                     app, business, owner);
        }
        auto head = self->state.ctx->store->head(shard_of(owner, self->state.ctx->config.shards),
                                                 bucket->id, owner);
        if (!head) {
          return caf::make_error(sync_errc::not_durable, head.error().detail);
        }
        return caf::make_message(*head);
      },
      [self](sync_atom, const std::string& bucket_name, const std::string& owner,
             const std::string& device, uint64_t after, bool first) -> caf::result<caf::message> {
        const auto* bucket = self->state.ctx->config.bucket(bucket_name);
        if (bucket == nullptr) {
          return caf::make_error(sync_errc::unknown_bucket, bucket_name);
        }
        auto route = route_of(self, owner);
        if (route.at == shard_route::where::unavailable) {
          return unavailable(route);
        }
        if (route.at == shard_route::where::sealed) {
          return self->state.held.hold(self, route.shard);
        }
        if (route.at == shard_route::where::remote) {
          return self->state.calls.forward<sync_page>(self, route.router, route.shard, sync_atom_v,
                                                      bucket_name, owner, device, after, first);
        }
        return self->delegate(bucket_actor_for(self, *bucket, owner, route.epoch), sync_atom_v,
                              owner, device, after, first);
      },
      [self](delivered_atom, const std::string& bucket_name, const std::string& owner,
             const std::string& device, uint64_t first, uint64_t last) {
        if (const auto* bucket = self->state.ctx->config.bucket(bucket_name)) {
          auto route = route_of(self, owner);
          if (route.at == shard_route::where::remote) {
            self->send(route.router, delivered_atom_v, bucket_name, owner, device, first, last);
          } else if (route.at == shard_route::where::local) {
            self->send(bucket_actor_for(self, *bucket, owner, route.epoch), delivered_atom_v, owner,
                       device, first, last);
          } else if (route.at == shard_route::where::sealed) {
            self->state.held.hold(self, route.shard);
          }  // unavailable: the next sync sends those versions again
        }
      },
      [self](cursors_atom, const std::string& business,
             const std::string& owner) -> caf::result<caf::message> {
        auto route = route_of(self, owner);
        if (route.at == shard_route::where::unavailable) {
          return unavailable(route);
        }
        if (route.at == shard_route::where::sealed) {
          return self->state.held.hold(self, route.shard);
        }
        if (route.at == shard_route::where::remote) {
          return self->state.calls.forward<owner_cursors>(self, route.router, route.shard,
                                                          cursors_atom_v, business, owner);
        }
        auto cursors = read_cursors(*self->state.ctx, business, owner);
        if (!cursors) {
          return std::move(cursors.error());
        }
        return caf::make_message(std::move(*cursors));
      },
      [self](receipts_atom, const std::string& business, const std::string& owner,
             const std::string& msg_id) -> caf::result<caf::message> {
        auto route = route_of(self, owner);
        if (route.at == shard_route::where::unavailable) {
          return unavailable(route);
        }
        if (route.at == shard_route::where::sealed) {
          return self->state.held.hold(self, route.shard);
        }
        if (route.at == shard_route::where::remote) {
          return self->state.calls.forward<op_receipts>(self, route.router, route.shard,
                                                        receipts_atom_v, business, owner, msg_id);
        }
        auto receipts = read_receipts(*self->state.ctx, business, owner, msg_id);
        if (!receipts) {
          return std::move(receipts.error());
        }
        return caf::make_message(std::move(*receipts));
      },
      [self](dead_atom, const std::string& business, const std::string& after,
             uint32_t limit) -> caf::result<storage::dead_letter_page> {
        const auto& ctx = self->state.ctx;
        if (ctx->deliveries == nullptr) {
          return caf::make_error(sync_errc::not_durable, "this node keeps no delivery state");
        }
        auto page = ctx->deliveries->dead_letters(business, after, limit);
        if (!page) {
          return caf::make_error(sync_errc::not_durable, page.error().detail);
        }
        return std::move(*page);
      },
      [self](replay_atom) { self->state.held.replay(self, self->state.ctx->route); },
      [self](map_changed_atom) {
        sweep_calls(self);
        for (auto& [key, bucket] : self->state.buckets) {
          self->send(bucket, map_changed_atom_v);
        }
      },
      [self](sweep_atom) { sweep_calls(self); },
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
             const std::string& device, uint64_t version) {
        if (const auto* bucket = self->state.ctx->config.bucket(bucket_name)) {
          auto route = route_of(self, owner);
          if (route.at == shard_route::where::remote) {
            self->send(route.router, sync_ack_atom_v, bucket_name, owner, device, version);
          } else if (route.at == shard_route::where::local) {
            self->send(bucket_actor_for(self, *bucket, owner, route.epoch), sync_ack_atom_v, owner,
                       device, version);
          } else if (route.at == shard_route::where::sealed) {
            self->state.held.hold(self, route.shard);
          }  // unavailable: acks are cumulative, the next one carries this one
        }
      },
  };
}

}  // namespace

caf::actor spawn_sync_router(caf::actor_system& sys, sync_context_ptr ctx) {
  return name_actor(sys, router_name, sys.spawn(sync_router, std::move(ctx)));
}

}  // namespace tidegate::actors
