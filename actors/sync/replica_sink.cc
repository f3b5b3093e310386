#include "actors/sync/replica_sink.h"

#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

std::string head_key(uint16_t shard, uint8_t bucket, const std::string& owner) {
  std::string key;
  key.push_back(static_cast<char>(shard >> 8));
  key.push_back(static_cast<char>(shard & 0xff));
  key.push_back(static_cast<char>(bucket));
  key += owner;
  return key;
}

struct sink_state {
  static inline const char* name = "tidegate.replica_sink";
  sync_context_ptr ctx;
  // The newest version of owners whose writes are on their way to the writer, so that a batch
  // arriving before the previous one committed is checked against it. An entry goes once its
  // write is answered: storage is the truth after that (this node may write the same owners
  // as a primary later).
  std::unordered_map<std::string, uint64_t> heads;
};

using sink_actor = caf::stateful_actor<sink_state>;

caf::expected<uint64_t> head_of(sink_actor* self, uint16_t shard, uint8_t bucket,
                                const std::string& owner) {
  auto& st = self->state;
  if (auto it = st.heads.find(head_key(shard, bucket, owner)); it != st.heads.end()) {
    return it->second;
  }
  auto head = st.ctx->store->head(shard, bucket, owner);
  if (!head) {
    return caf::make_error(sync_errc::not_durable, head.error().detail);
  }
  return *head;
}

// Why `primary`'s stream of `shard` in `epoch` is refused here, or no error: the committed map
// must name it and this node.
caf::error fenced(const sink_state& st, uint16_t shard, uint64_t epoch,
                  const std::string& primary) {
  if (!st.ctx->accept_stream) {
    return caf::make_error(sync_errc::replica_fenced, "this node is not a cluster member");
  }
  return st.ctx->accept_stream(shard, epoch, primary);
}

// Called once with the outcome of one batch: its gaps, its error, or (neither) applied.
using applied_fn = std::function<void(replica_outcome)>;

// Checks `batch` against this node's logs and writes what it adds through the storage
// writer; `done` runs when it is committed, or at once when nothing is written.
void apply(sink_actor* self, uint16_t shard, uint64_t epoch, const std::string& primary,
           storage::write_batch& batch, const std::vector<owner_prev>& prevs, applied_fn done) {
  auto& st = self->state;
  auto fail = [&done](caf::error err) {
    replica_outcome out;
    out.error = std::move(err);
    done(std::move(out));
  };
  if (auto err = fenced(st, shard, epoch, primary)) {
    return fail(std::move(err));
  }
  // An owner whose log here holds another op than the primary's, under a version the batch
  // sends or names (owner_prev): reported, and nothing of the batch is applied. The primary
  // answers with a truncate of the owner and its own log (decision 0022).
  replica_outcome out;
  std::unordered_map<std::string, bool> skipped;  // owners with a gap or a divergence
  auto diverged = [&](const storage::oplog_record& r, uint64_t version, uint64_t head) {
    std::cerr << "tidegate: replica: shard " << shard << " owner " << r.owner << " version "
              << version << " differs from " << primary << "'s; asking for its log\n";
    skipped[head_key(shard, r.bucket, r.owner)] = true;
    out.reply.diverged.push_back({r.bucket, r.owner, head});
  };
  std::unordered_map<std::string, const owner_prev*> prev_of;
  for (const auto& p : prevs) {
    prev_of.emplace(head_key(shard, p.bucket, p.owner), &p);
  }
  std::unordered_map<std::string, uint64_t> next;  // heads after this batch
  // The head an owner starts this batch from: as an earlier part of the batch left it, else
  // as stored (or still on its way to the writer).
  auto start_head = [&](uint8_t bucket, const std::string& owner) -> caf::expected<uint64_t> {
    if (auto it = next.find(head_key(shard, bucket, owner)); it != next.end()) {
      return it->second;
    }
    return head_of(self, shard, bucket, owner);
  };
  // Truncates first, as storage applies them: only the current primary's stream (fenced()
  // above) may drop ops here, and it holds every acknowledged op.
  for (const auto& t : batch.truncates) {
    if (t.shard != shard) {
      return fail(caf::make_error(sync_errc::replica_fenced, "a truncate of another shard"));
    }
    auto head = start_head(t.bucket, t.owner);
    if (!head) {
      return fail(head.error());
    }
    next[head_key(shard, t.bucket, t.owner)] = std::min(*head, t.above);
  }
  for (const auto& r : batch.rebases) {  // applied before the appends, as storage does
    if (r.shard != shard) {
      return fail(caf::make_error(sync_errc::replica_fenced, "a rebase of another shard"));
    }
    auto stored = start_head(r.bucket, r.owner);
    if (!stored) {
      return fail(stored.error());
    }
    if (r.head > *stored) {
      next[head_key(shard, r.bucket, r.owner)] = r.head;
    }
  }
  // Truncated versions are still in storage until the batch commits: never compared with.
  auto truncated = [&](const storage::oplog_record& r, uint64_t version) {
    for (const auto& t : batch.truncates) {
      if (t.bucket == r.bucket && t.owner == r.owner && version > t.above) {
        return true;
      }
    }
    return false;
  };
  std::vector<storage::oplog_append> kept;
  for (auto& a : batch.appends) {
    const auto& r = a.record;
    if (a.shard != shard) {
      return fail(caf::make_error(sync_errc::replica_fenced, "an append of another shard"));
    }
    auto key = head_key(shard, r.bucket, r.owner);
    if (skipped.count(key) != 0) {
      continue;
    }
    auto head = start_head(r.bucket, r.owner);
    if (!head) {
      return fail(head.error());
    }
    if (r.version <= *head) {
      auto mine = st.ctx->store->get(shard, r.bucket, r.owner, r.version);
      if (mine && !truncated(r, r.version)
          && (mine->msg_id != r.msg_id || mine->payload != r.payload)) {
        diverged(r, r.version, *head);
      }
      continue;  // already here (or trimmed here): a resend
    }
    if (r.version != *head + 1) {
      skipped[key] = true;
      out.reply.gaps.push_back({r.bucket, r.owner, *head});
      continue;
    }
    if (auto p = prev_of.find(key); p != prev_of.end() && p->second->version == *head) {
      // The first append onto this owner's stored head: it must be the primary's op there.
      // (An op still on its way to the writer cannot be read yet; it came from a stream that
      // was checked the same way.)
      auto mine = st.ctx->store->get(shard, r.bucket, r.owner, *head);
      if (mine && !truncated(r, *head) && mine->msg_id != p->second->msg_id) {
        diverged(r, *head, *head);
        continue;
      }
      prev_of.erase(p);
    }
    next[key] = r.version;
    kept.push_back(std::move(a));
  }
  if (!out.reply.applied()) {
    return done(std::move(out));
  }
  batch.appends = std::move(kept);
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    return fail(caf::make_error(sync_errc::not_durable, "no storage writer"));
  }
  for (auto& [key, version] : next) {
    st.heads[key] = version;
  }
  // Forgets the heads this write set, unless a later batch moved them on meanwhile.
  auto settle = [self, written = std::move(next)] {
    for (const auto& [key, version] : written) {
      if (auto it = self->state.heads.find(key);
          it != self->state.heads.end() && it->second == version) {
        self->state.heads.erase(it);
      }
    }
  };
  self->request(writer, caf::infinite, write_atom_v, std::move(batch))
      .then(
          [done, settle](caf::unit_t) {
            settle();
            done(replica_outcome{});
          },
          [self, done, settle](caf::error& err) {
            settle();
            replica_outcome failed;
            failed.error = caf::make_error(sync_errc::not_durable, self->home_system().render(err));
            done(std::move(failed));
          });
}

// Applies every item of `stream` in order (each against the heads the ones before it set)
// and answers once each is committed or refused. The writes of one stream reach the storage
// writer together, so they share its group commit.
caf::result<replica_outcomes> apply_stream(sink_actor* self, replica_stream& stream) {
  if (stream.items.empty()) {
    return replica_outcomes{};
  }
  // Taken only now: once made, the promise alone answers the request.
  auto promise = self->make_response_promise<replica_outcomes>();
  auto answers = std::make_shared<replica_outcomes>();
  answers->outcomes.resize(stream.items.size());
  auto left = std::make_shared<size_t>(stream.items.size());
  for (size_t i = 0; i < stream.items.size(); ++i) {
    auto& item = stream.items[i];
    apply(self, item.shard, item.epoch, item.primary, item.batch, item.prevs,
          [promise, answers, left, i](replica_outcome out) mutable {
            answers->outcomes[i] = std::move(out);
            if (--*left == 0) {
              promise.deliver(std::move(*answers));
            }
          });
  }
  return promise;
}

// A catch-up's check: the owners whose head here is below the primary's, as gaps.
caf::result<replica_reply> check_heads(sink_actor* self, uint16_t shard, uint64_t epoch,
                                       const std::string& primary, const owner_heads& theirs) {
  auto& st = self->state;
  if (auto err = fenced(st, shard, epoch, primary)) {
    return err;
  }
  replica_reply reply;
  for (const auto& h : theirs.heads) {
    auto mine = head_of(self, shard, h.bucket, h.owner);
    if (!mine) {
      return mine.error();
    }
    if (*mine < h.have) {
      reply.gaps.push_back({h.bucket, h.owner, *mine});
    }
  }
  return reply;
}

caf::behavior replica_sink(sink_actor* self, sync_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, replica_sink_name);
  return {
      [self](replicate_atom, replica_stream& stream) { return apply_stream(self, stream); },
      [self](sync_heads_atom, uint16_t shard, uint64_t epoch, const std::string& primary,
             const owner_heads& heads) { return check_heads(self, shard, epoch, primary, heads); },
      [self](reload_atom, sync_context_ptr& ctx) { self->state.ctx = std::move(ctx); },
  };
}

}  // namespace

caf::actor spawn_replica_sink(caf::actor_system& sys, sync_context_ptr ctx) {
  return name_actor(sys, replica_sink_name, sys.spawn(replica_sink, std::move(ctx)));
}

}  // namespace tidegate::actors
