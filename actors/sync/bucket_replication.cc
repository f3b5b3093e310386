#include "actors/sync/bucket_replication.h"

#include <chrono>
#include <map>
#include <utility>

#include <caf/event_based_actor.hpp>

#include "actors/atoms.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// A replica that does not answer within this fails the write (the backend retries with its
// msg_id); it never hangs on a frozen peer.
constexpr auto replica_timeout = std::chrono::seconds(5);
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
    if (page->reset || (!page->records.empty() && page->records.front().version != gap.have + 1)) {
      // The replica is behind what this node still keeps (retention trimmed them, or acked
      // `once` ops were deleted): it cannot be filled op by op.
      return caf::make_error(sync_errc::not_durable, "the replica lacks ops of " + gap.owner
                                                         + " that are no longer kept here");
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

void send(caf::event_based_actor* self, sync_context_ptr ctx, uint16_t shard, replica_target target,
          std::shared_ptr<const storage::write_batch> batch, std::function<void(caf::error)> done,
          int rounds_left) {
  self->request(target.sink, replica_timeout, replicate_atom_v, shard, target.epoch, target.primary,
                *batch)
      .then(
          [self, ctx, shard, target, batch, done, rounds_left](replica_reply& reply) {
            if (reply.gaps.empty()) {
              done({});
              return;
            }
            if (rounds_left <= 0) {
              done(caf::make_error(sync_errc::not_durable,
                                   "replica " + target.replica + " is still behind"));
              return;
            }
            auto fill = fill_for(*ctx, shard, *batch, reply.gaps);
            if (!fill) {
              done(fill.error());
              return;
            }
            auto filled = std::make_shared<const storage::write_batch>(std::move(*fill));
            // The fill first (it may itself take rounds), then the batch again.
            send(
                self, ctx, shard, target, filled,
                [self, ctx, shard, target, batch, done, rounds_left](caf::error err) {
                  if (err) {
                    done(std::move(err));
                    return;
                  }
                  send(self, ctx, shard, target, batch, done, rounds_left - 1);
                },
                rounds_left - 1);
          },
          [done](caf::error& err) { done(std::move(err)); });
}

}  // namespace

void replicate(caf::event_based_actor* self, sync_context_ptr ctx, uint16_t shard,
               replica_target target, std::shared_ptr<const storage::write_batch> batch,
               std::function<void(caf::error)> done) {
  if (!target.sink) {
    done(caf::make_error(
        sync_errc::shard_unavailable,
        "replica " + target.replica + " of shard " + std::to_string(shard) + " is not reachable"));
    return;
  }
  send(self, std::move(ctx), shard, std::move(target), std::move(batch), std::move(done),
       max_rounds);
}

void fill_gaps(caf::event_based_actor* self, sync_context_ptr ctx, uint16_t shard,
               replica_target target, const std::vector<replica_gap>& gaps,
               std::function<void(caf::error)> done) {
  auto fill = fill_for(*ctx, shard, storage::write_batch{}, gaps);
  if (!fill) {
    done(fill.error());
    return;
  }
  if (fill->appends.empty()) {
    done(caf::make_error(sync_errc::not_durable,
                         "the ops the replica lacks are no longer kept here"));
    return;
  }
  replicate(self, std::move(ctx), shard, std::move(target),
            std::make_shared<const storage::write_batch>(std::move(*fill)), std::move(done));
}

}  // namespace tidegate::actors
