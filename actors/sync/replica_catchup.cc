#include "actors/sync/replica_catchup.h"

#include <chrono>
#include <deque>
#include <iostream>
#include <memory>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// Owners per message of a pass: bounded, so one pass never builds a huge batch.
constexpr size_t owners_per_step = 256;
constexpr auto check_timeout = std::chrono::seconds(5);

// One pass over one shard: the steps left, each a batch of head ops or a heads check.
struct pass {
  uint16_t shard = 0;
  replica_target target;
  bool handoff = false;  // catchup_work::handoff
  std::deque<storage::write_batch> batches;
  std::deque<owner_heads> checks;
};

struct catchup_state {
  static inline const char* name = "tidegate.replica_catchup";
  sync_context_ptr ctx;
  std::chrono::milliseconds period{1000};
  std::shared_ptr<pass> running;   // at most one at a time
  std::deque<catchup_work> queue;  // the shards still to pass over in this period
  pending_calls calls;             // replication requests to the replicas' sinks
};

using catchup_actor = caf::stateful_actor<catchup_state>;

// The steps of a pass over `work.shard`, from this node's log.
caf::expected<std::shared_ptr<pass>> plan(const sync_context& ctx, const catchup_work& work) {
  auto p = std::make_shared<pass>();
  p->shard = work.shard;
  p->target = work.target;
  p->handoff = work.handoff;
  storage::write_batch batch;
  owner_heads check;
  // Every configured bucket's owners, and the shard's topics (owners of bucket 255, decision
  // 0010).
  std::vector<uint8_t> buckets;
  for (const auto& bucket : ctx.config.buckets) {
    buckets.push_back(bucket.id);
  }
  buckets.push_back(topic_bucket_id);
  for (auto bucket_id : buckets) {
    auto heads = ctx.store->scan_heads(bucket_id, work.shard);
    if (!heads) {
      return caf::make_error(sync_errc::not_durable, heads.error().detail);
    }
    for (const auto& h : *heads) {
      if (h.state.head == 0) {
        continue;
      }
      auto record = ctx.store->get(work.shard, bucket_id, h.id.owner, h.state.head);
      if (record) {
        batch.appends.push_back({work.shard, std::move(*record)});
      } else {
        check.heads.push_back({bucket_id, h.id.owner, h.state.head});
      }
      if (batch.appends.size() >= owners_per_step) {
        p->batches.push_back(std::move(batch));
        batch = {};
      }
      if (check.heads.size() >= owners_per_step) {
        p->checks.push_back(std::move(check));
        check = {};
      }
    }
  }
  if (!batch.appends.empty()) {
    p->batches.push_back(std::move(batch));
    batch = {};
  }
  // The follow index of the shard: its users' follows and its topics' follower counts.
  if (ctx.follows != nullptr) {
    for (auto table : {storage::delivery_table::follows, storage::delivery_table::topic_meta}) {
      auto entries = ctx.follows->shard_entries(table, work.shard);
      if (!entries) {
        return caf::make_error(sync_errc::not_durable, entries.error().detail);
      }
      for (auto& put : *entries) {
        batch.puts.push_back(std::move(put));
        if (batch.puts.size() >= owners_per_step) {
          p->batches.push_back(std::move(batch));
          batch = {};
        }
      }
    }
    if (!batch.puts.empty()) {
      p->batches.push_back(std::move(batch));
    }
  }
  if (!check.heads.empty()) {
    p->checks.push_back(std::move(check));
  }
  return p;
}

void next_step(catchup_actor* self);

void finish(catchup_actor* self, const caf::error& err) {
  auto& st = self->state;
  auto p = std::move(st.running);
  if (!p) {
    return;
  }
  if (err) {
    std::cerr << "tidegate: " << (p->handoff ? "hand-off" : "catch-up") << " of shard " << p->shard
              << " to " << p->target.replica << ": " << self->home_system().render(err)
              << " (tried again later)\n";
  } else if (p->handoff && st.ctx->report_handoff) {
    st.ctx->report_handoff(p->shard, p->target);
  } else if (!p->handoff && st.ctx->report_synced) {
    st.ctx->report_synced(p->shard, p->target);
  }
  self->send(self, caf::flush_atom_v);  // the next shard of this period
}

void next_step(catchup_actor* self) {
  auto& st = self->state;
  auto p = st.running;
  if (!p) {
    return;
  }
  auto then = [self](caf::error err) {
    if (err) {
      finish(self, err);
    } else {
      next_step(self);
    }
  };
  if (!p->batches.empty()) {
    auto batch = std::make_shared<const storage::write_batch>(std::move(p->batches.front()));
    p->batches.pop_front();
    replicate(self, st.calls, st.ctx, p->shard, p->target, std::move(batch), then);
    return;
  }
  if (!p->checks.empty()) {
    auto check = std::move(p->checks.front());
    p->checks.pop_front();
    if (!p->target.sink) {
      finish(self, caf::make_error(sync_errc::shard_unavailable, "the replica is unreachable"));
      return;
    }
    self->request(p->target.sink, check_timeout, sync_heads_atom_v, p->shard, p->target.epoch,
                  p->target.primary, std::move(check))
        .then(
            [self, then](replica_reply& reply) {
              auto& st = self->state;
              if (reply.gaps.empty() || !st.running) {
                then({});
                return;
              }
              fill_gaps(self, st.calls, st.ctx, st.running->shard, st.running->target, reply.gaps,
                        then);
            },
            [then](caf::error& err) { then(std::move(err)); });
    return;
  }
  finish(self, {});
}

// Plans the pass over `work` and runs it; false (logged) if it cannot be planned.
bool run_pass(catchup_actor* self, const catchup_work& work) {
  auto& st = self->state;
  auto planned = plan(*st.ctx, work);
  if (!planned) {
    std::cerr << "tidegate: catch-up of shard " << work.shard << ": "
              << self->home_system().render(planned.error()) << "\n";
    return false;
  }
  st.running = std::move(*planned);
  next_step(self);
  return true;
}

// A hand-off's pass (decision 0017). The shard is sealed: the writer refuses its oplog writes
// from now on, and answers an empty write only once everything it took before is committed.
// After that answer the heads are final, and the pass has the replica confirm all of them.
void run_handoff(catchup_actor* self, const catchup_work& work) {
  auto& st = self->state;
  auto placeholder = std::make_shared<pass>();  // holds the other shards back meanwhile
  placeholder->shard = work.shard;
  placeholder->target = work.target;
  placeholder->handoff = true;
  st.running = placeholder;
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    finish(self, caf::make_error(sync_errc::not_durable, "no storage writer"));
    return;
  }
  self->request(writer, check_timeout, write_atom_v, storage::write_batch{})
      .then(
          [self, work](caf::unit_t) {
            self->state.running.reset();
            if (!run_pass(self, work)) {
              self->send(self, caf::flush_atom_v);
            }
          },
          [self](caf::error& err) { finish(self, err); });
}

// Passes over the queued shards one after the other; the queue is refilled once a period.
void start_pass(catchup_actor* self) {
  auto& st = self->state;
  while (!st.running && !st.queue.empty()) {
    auto work = std::move(st.queue.front());
    st.queue.pop_front();
    if (work.handoff) {
      run_handoff(self, work);
      return;
    }
    run_pass(self, work);  // may finish at once: then the loop takes the next shard
  }
}

caf::behavior replica_catchup(catchup_actor* self, sync_context_ptr ctx,
                              std::chrono::milliseconds period) {
  self->state.ctx = std::move(ctx);
  self->state.period = period;
  self->set_down_handler(
      [self](caf::down_msg& msg) { self->state.calls.on_down(msg, replica_lost()); });
  self->send(self, catchup_atom_v);
  return {
      [self](catchup_atom) {
        auto& st = self->state;
        if (!st.running && st.queue.empty() && st.ctx->catchup_work_now) {
          for (auto& work : st.ctx->catchup_work_now()) {
            st.queue.push_back(std::move(work));
          }
          start_pass(self);
        }
        self->delayed_send(self, self->state.period, catchup_atom_v);
      },
      [self](caf::flush_atom) { start_pass(self); },
      [self](reload_atom, sync_context_ptr& ctx) { self->state.ctx = std::move(ctx); },
  };
}

}  // namespace

caf::actor spawn_replica_catchup(caf::actor_system& sys, sync_context_ptr ctx,
                                 std::chrono::milliseconds period) {
  return sys.spawn(replica_catchup, std::move(ctx), period);
}

}  // namespace tidegate::actors
