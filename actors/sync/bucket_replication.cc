#include "actors/sync/bucket_replication.h"

#include <iostream>
#include <map>
#include <set>
#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/replica_outbox.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// Ops read from the log per gap and round, and the rounds one batch may take.
constexpr size_t fill_ops = 1000;
constexpr size_t fill_bytes = size_t{4} << 20;
constexpr int max_rounds = 256;

// The ops the replica lacks before `batch` for each gap, from this node's log, with their
// idempotency entries (so a retried msg_id finds its version on the replica too).
caf::expected<storage::write_batch> fill_for(const sync_context& ctx, uint16_t shard,
                                             const storage::write_batch& batch,
                                             const std::vector<replica_gap>& gaps) {
  // The first version the batch sends per (bucket, owner): the fill stops before it.
  std::map<std::pair<uint8_t, std::string>, uint64_t> first;
  for (const auto& a : batch.appends) {
    first.emplace(std::pair{a.record.bucket, a.record.owner}, a.record.version);
  }
  storage::write_batch fill;
  auto now = wall_now_ms();
  for (const auto& gap : gaps) {
    auto stop = first.find({gap.bucket, gap.owner});
    auto page = ctx.store->read_range(shard, gap.bucket, gap.owner, gap.have, fill_ops, fill_bytes);
    if (!page) {
      return caf::make_error(sync_errc::not_durable, page.error().detail);
    }
    if (page->reset) {
      // Retention trimmed the ops after `have` here: send what is kept, from the watermark.
      auto low = ctx.store->low_watermark(shard, gap.bucket, gap.owner);
      if (!low) {
        return caf::make_error(sync_errc::not_durable, low.error().detail);
      }
      page = ctx.store->read_range(shard, gap.bucket, gap.owner, *low - 1, fill_ops, fill_bytes);
      if (!page || page->reset) {
        return caf::make_error(sync_errc::not_durable, "the owner's log moved while read");
      }
    }
    // Ops this node no longer keeps (trimmed, or acked `once` ops deleted) cannot be sent: the
    // replica's log is moved forward past them (owner_rebase), as they are gone here too.
    uint64_t kept_from = 0;
    if (!page->records.empty()) {
      kept_from = page->records.front().version;
    } else if (stop == first.end()) {
      auto head = ctx.store->head(shard, gap.bucket, gap.owner);
      if (!head) {
        return caf::make_error(sync_errc::not_durable, head.error().detail);
      }
      kept_from = *head + 1;  // nothing after `have` is kept: the replica takes the head
    } else {
      kept_from = stop->second;
    }
    if (kept_from > gap.have + 1) {
      fill.rebases.push_back({shard, gap.bucket, gap.owner, kept_from - 1});
    }
    for (auto& r : page->records) {
      if (stop != first.end() && r.version >= stop->second) {
        break;
      }
      auto expires = r.created_at_ms + ctx.config.dedupe_ttl_ms;
      if (expires > now) {
        fill.dedupes.push_back({{r.bucket, r.business, r.owner, r.msg_id}, {r.version, expires}});
      }
      fill.appends.push_back({shard, std::move(r)});
    }
  }
  return fill;
}

// The ops this node holds before each owner's first append in `batch` (owner_prev), read
// from its log: the replica checks its own op there before it appends. An op no longer kept
// here (trimmed, or an acked `once` op) is not named; the replica then appends unchecked.
std::vector<owner_prev> prevs_of(const sync_context& ctx, uint16_t shard,
                                 const storage::write_batch& batch) {
  std::vector<owner_prev> out;
  std::set<std::pair<uint8_t, std::string>> seen;
  for (const auto& a : batch.appends) {
    const auto& r = a.record;
    if (!seen.emplace(r.bucket, r.owner).second || r.version <= 1) {
      continue;
    }
    if (auto before = ctx.store->get(shard, r.bucket, r.owner, r.version - 1)) {
      out.push_back({r.bucket, r.owner, r.version - 1, std::move(before->msg_id)});
    }
  }
  return out;
}

void send(caf::event_based_actor* self, pending_calls* calls, sync_context_ptr ctx, uint16_t shard,
          replica_target target, std::shared_ptr<const storage::write_batch> batch,
          std::function<void(caf::error)> done, int rounds_left) {
  auto outbox = replica_outbox_of(self->home_system());
  if (!outbox) {
    done(caf::make_error(sync_errc::not_durable, "no replica outbox runs on this node"));
    return;
  }
  auto sink = target.sink;
  replica_item item{shard, target.epoch, target.primary, *batch, prevs_of(*ctx, shard, *batch)};
  calls->request_via<replica_reply>(
      self, outbox, sink, shard, caf::duration{replica_answer_timeout},
      [self, calls, ctx, shard, target, batch, done, rounds_left](replica_reply& reply) {
        if (reply.applied()) {
          done({});
          return;
        }
        if (rounds_left <= 0) {
          done(caf::make_error(sync_errc::not_durable,
                               "replica " + target.replica + " is still behind"));
          return;
        }
        // A diverged owner's log is sent whole, from this node's low watermark, after a
        // truncate of everything the replica has of it (decision 0022): where the two logs
        // part is not known, and the owner's log is bounded by retention.
        auto gaps = std::move(reply.gaps);
        for (const auto& d : reply.diverged) {
          std::cerr << "tidegate: replica " << target.replica << " of shard " << shard
                    << " holds other ops of " << d.owner << " (head " << d.have
                    << "): truncating it to this node's log\n";
          gaps.push_back({d.bucket, d.owner, 0});
        }
        auto fill = fill_for(*ctx, shard, *batch, gaps);
        if (!fill) {
          done(fill.error());
          return;
        }
        for (const auto& d : reply.diverged) {
          fill->truncates.push_back({shard, d.bucket, d.owner, 0});
        }
        auto filled = std::make_shared<const storage::write_batch>(std::move(*fill));
        // The fill first (it may itself take rounds), then the batch again.
        send(
            self, calls, ctx, shard, target, filled,
            [self, calls, ctx, shard, target, batch, done, rounds_left](caf::error err) {
              if (err) {
                done(std::move(err));
                return;
              }
              send(self, calls, ctx, shard, target, batch, done, rounds_left - 1);
            },
            rounds_left - 1);
      },
      [done](caf::error& err) { done(std::move(err)); }, replicate_atom_v, sink, std::move(item));
}

}  // namespace

pending_calls::still_named_fn replica_still_named(sync_context_ptr ctx) {
  return [ctx = std::move(ctx)](uint16_t shard, const caf::actor_addr& target) {
    if (!ctx->replica_of) {
      return true;
    }
    auto now = ctx->replica_of(shard);
    return now
           && ((now->sink && now->sink.address() == target)
               || (now->learner_sink && now->learner_sink.address() == target));
  };
}

caf::error replica_lost() {
  return caf::make_error(sync_errc::not_durable,
                         "the link to the shard's replica dropped before it confirmed the write:"
                         " retry with the same msg_id");
}

void replicate(caf::event_based_actor* self, pending_calls& calls, sync_context_ptr ctx,
               uint16_t shard, replica_target target,
               std::shared_ptr<const storage::write_batch> batch,
               std::function<void(caf::error)> done) {
  auto unreachable = [shard](const std::string& what, const std::string& name) {
    return caf::make_error(
        sync_errc::shard_unavailable,
        what + " " + name + " of shard " + std::to_string(shard) + " is not reachable");
  };
  if (!target.sink) {
    done(unreachable("replica", target.replica));
    return;
  }
  if (target.learner.empty()) {
    send(self, &calls, std::move(ctx), shard, std::move(target), std::move(batch), std::move(done),
         max_rounds);
    return;
  }
  // A learner gets every write too, and the write waits for both (decision 0020).
  if (!target.learner_sink) {
    done(unreachable("learner", target.learner));
    return;
  }
  struct both {
    int left = 2;
    caf::error first_error;
    std::function<void(caf::error)> done;
  };
  auto join = std::make_shared<both>();
  join->done = std::move(done);
  auto one_done = [join](caf::error err) {
    if (err && !join->first_error) {
      join->first_error = std::move(err);
    }
    if (--join->left == 0) {
      join->done(std::move(join->first_error));
    }
  };
  // A learner whose log diverged (it holds a lost primary's last, unacknowledged writes) is
  // truncated like a replica (decision 0022).
  auto learner = target.learner_alone();
  target.learner.clear();
  target.learner_sink = {};
  send(self, &calls, ctx, shard, std::move(target), batch, one_done, max_rounds);
  send(self, &calls, std::move(ctx), shard, std::move(learner), std::move(batch), one_done,
       max_rounds);
}

void fill_gaps(caf::event_based_actor* self, pending_calls& calls, sync_context_ptr ctx,
               uint16_t shard, replica_target target, const std::vector<replica_gap>& gaps,
               std::function<void(caf::error)> done) {
  auto fill = fill_for(*ctx, shard, storage::write_batch{}, gaps);
  if (!fill) {
    done(fill.error());
    return;
  }
  if (fill->empty()) {
    done({});  // nothing to send: the replica is not behind after all
    return;
  }
  replicate(self, calls, std::move(ctx), shard, std::move(target),
            std::make_shared<const storage::write_batch>(std::move(*fill)), std::move(done));
}

}  // namespace tidegate::actors
