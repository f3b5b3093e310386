#include "actors/sync/sync_bucket.h"

#include <algorithm>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/delivery_tracker.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// Writes to the storage_writer carry no timeout. The writer answers every request it takes,
// committed or failed, and fails what is pending when it stops (its destructor); a request
// still in its mailbox when it dies bounces as request_receiver_down. A timed request would
// cost two trips through CAF's clock thread per write: about a sixth of a core at 25k ops/s.
constexpr auto write_timeout = caf::infinite;

// The answers of one publish_batch (or its share in this bucket), sent once all are known.
struct batch_reply {
  caf::response_promise promise;
  publish_outcomes answers;
  size_t pending = 0;
};

// Who waits for one op's version: a single publish's requester or one slot of a batch.
struct waiter {
  caf::response_promise promise;       // a single publish, or
  std::shared_ptr<batch_reply> batch;  // slot `index` of a batch
  size_t index = 0;
  bool duplicate = false;  // a repeat of a msg_id that was in flight

  void answer(publish_result result, caf::error error) {
    if (!batch) {
      if (error) {
        promise.deliver(std::move(error));
      } else {
        promise.deliver(result);
      }
      return;
    }
    batch->answers.outcomes[index] = {result, std::move(error)};
    if (--batch->pending == 0) {
      batch->promise.deliver(std::move(batch->answers));
    }
  }
};

// An op with its version, waiting for the next flush to the writer.
struct unflushed_op {
  std::string key;  // flight_key
  storage::oplog_record record;
  uint64_t dedupe_expires_at_ms = 0;
};

struct bucket_state {
  static inline const char* name = "tidegate.sync_bucket";
  sync_context_ptr ctx;
  const bucket_config* bucket = nullptr;
  uint16_t shard = 0;
  std::unordered_map<std::string, uint64_t> heads;  // owner -> newest assigned version
  // (business, owner, msg_id) of ops being written -> who waits for the version.
  std::unordered_map<std::string, std::vector<waiter>> in_flight;
  // Ops published since the last flush. Every publish handled in one run of the mailbox goes
  // to the writer as one request (the flush message queues behind them), so a burst costs one
  // write request, not one per op.
  std::vector<unflushed_op> unflushed;
  bool flush_scheduled = false;
  // Cursors, retries, dead letters and receipts of this (bucket, shard)'s devices; empty when
  // the node keeps none (no delivery store).
  std::optional<delivery_tracker> tracker;
  // In a cluster, with a replica: owner -> newest version the replica confirmed. Clients are
  // sent nothing above it (a version they saw must survive the loss of this node). Valid for
  // one stream (replica, epoch); cleared when the map names another.
  std::unordered_map<std::string, uint64_t> replicated;
  std::string stream;
  pending_calls calls;  // replication requests to the replica's sink
};

using bucket_actor = caf::stateful_actor<bucket_state>;

std::string flight_key(const publish_request& req) {
  std::string key = req.business;
  key.push_back('\0');
  key += req.owner;
  key.push_back('\0');
  key += req.msg_id;
  return key;
}

caf::error validate(const sync_config& cfg, const publish_request& req) {
  if (req.owner.empty() || req.owner.size() > storage::max_key_field_size) {
    return caf::make_error(sync_errc::bad_owner, "owner must be 1 to 160 bytes");
  }
  if (req.msg_id.empty() || req.msg_id.size() > storage::max_key_field_size) {
    return caf::make_error(sync_errc::bad_msg_id, "msg_id must be 1 to 160 bytes");
  }
  if (req.business.size() > storage::max_key_field_size) {
    return caf::make_error(sync_errc::unknown_business, "business over 160 bytes");
  }
  if (req.payload.size() > cfg.max_payload_bytes) {
    return caf::make_error(sync_errc::payload_too_large,
                           "payload of " + std::to_string(req.payload.size())
                               + " bytes over the maximum "
                               + std::to_string(cfg.max_payload_bytes));
  }
  return {};
}

// The newest version of `owner`: cached, or read from storage on first use.
caf::expected<uint64_t> head_of(bucket_actor* self, const std::string& owner) {
  auto& st = self->state;
  if (auto i = st.heads.find(owner); i != st.heads.end()) {
    return i->second;
  }
  auto head = st.ctx->store->head(st.shard, st.bucket->id, owner);
  if (!head) {
    return caf::make_error(sync_errc::not_durable, head.error().detail);
  }
  st.heads.emplace(owner, *head);
  return *head;
}

// Where this shard's writes must be copied before they count, or nullopt (no replica).
std::optional<replica_target> replica_now(bucket_actor* self) {
  auto& st = self->state;
  if (!st.ctx->replica_of) {
    return std::nullopt;
  }
  auto target = st.ctx->replica_of(st.shard);
  auto stream = target ? target->replica + "@" + std::to_string(target->epoch) : std::string{};
  if (stream != st.stream) {
    st.replicated.clear();
    st.stream = std::move(stream);
  }
  return target;
}

// Makes sure the replica holds `owner` up to `version` (sending what it lacks from this
// node's log), then calls `then`: with no error also when there is no replica.
void confirm(bucket_actor* self, const std::string& owner, uint64_t version,
             std::function<void(caf::error)> then) {
  auto& st = self->state;
  auto target = replica_now(self);
  if (!target || version == 0) {
    then({});
    return;
  }
  if (auto it = st.replicated.find(owner); it != st.replicated.end() && it->second >= version) {
    then({});
    return;
  }
  auto record = st.ctx->store->get(st.shard, st.bucket->id, owner, version);
  if (!record) {
    then({});  // trimmed or deleted here: nothing to vouch for
    return;
  }
  auto batch = std::make_shared<storage::write_batch>();
  batch->appends.push_back({st.shard, std::move(*record)});
  replicate(self, st.calls, st.ctx, st.shard, *target, std::move(batch),
            [self, owner, version, then, stream = st.stream](caf::error err) {
              if (!err && self->state.stream != stream) {
                // Confirmed by a replica the map no longer names: it vouches for nothing.
                err = caf::make_error(sync_errc::not_durable,
                                      "the shard's replica changed while it confirmed");
              }
              if (!err) {
                auto& replicated = self->state.replicated[owner];
                replicated = std::max(replicated, version);
              }
              then(std::move(err));
            });
}

void on_committed(bucket_actor* self, const std::string& key, storage::oplog_record record) {
  auto& st = self->state;
  if (!st.stream.empty()) {
    auto& replicated = st.replicated[record.owner];
    replicated = std::max(replicated, record.version);
  }
  auto waiters = std::move(st.in_flight[key]);
  st.in_flight.erase(key);
  for (auto& w : waiters) {
    w.answer(publish_result{record.version, w.duplicate}, {});
  }
  // Online delivery: through the session registry (by user or device), or for `global`
  // through the topic relay, the read-diffusion path (one message per node, fanned out there).
  auto to = st.bucket->kind == bucket_kind::global ? topic_relay_of(self->home_system())
                                                   : session_registry_of(self->home_system());
  sync_page page;
  page.bucket = st.bucket->name;
  page.head = record.version;
  auto owner = record.owner;
  page.records.push_back(std::move(record));
  // In a cluster the owner's sessions may be on any member: their registries get it too,
  // through the delivery outbox (batched per member; a registry without the owner's sessions
  // drops it). The message is built once and shared by both sends.
  auto msg = caf::make_message(deliver_atom_v, static_cast<uint8_t>(st.bucket->kind),
                               std::move(owner), std::move(page));
  if (to) {
    self->send(to, msg);
  }
  if (st.bucket->kind != bucket_kind::global && st.ctx->peer_sessions) {
    if (auto peers = delivery_outbox_of(self->home_system())) {
      self->send(peers, msg);
    }
  }
}

void on_failed(bucket_actor* self, const std::string& key, const std::string& owner,
               const caf::error& err) {
  auto& st = self->state;
  // Versions after the failed one were assigned from a head that is not durable: forget it,
  // so the next op continues from storage. Writes of later versions in flight fail too (the
  // writer refuses gaps), and their backends retry with the same msg_id.
  st.heads.erase(owner);
  auto waiters = std::move(st.in_flight[key]);
  st.in_flight.erase(key);
  auto reason = caf::make_error(sync_errc::not_durable, self->home_system().render(err));
  for (auto& w : waiters) {
    w.answer({}, reason);
  }
}

// Takes one op: answers `w` at once (bad op, a msg_id already stored) or gives the op the
// next version of its owner and queues it for the next flush, answering `w` once it is
// durable. `w.duplicate` must be false. The caller flushes, or schedules a flush.
void admit(bucket_actor* self, publish_request& req, waiter w) {
  auto& st = self->state;
  if (auto err = validate(st.ctx->config, req)) {
    w.answer({}, std::move(err));
    return;
  }
  auto key = flight_key(req);
  if (auto i = st.in_flight.find(key); i != st.in_flight.end()) {
    w.duplicate = true;
    i->second.push_back(std::move(w));
    return;
  }
  auto now = wall_now_ms();
  auto seen = st.ctx->store->lookup_dedupe(st.bucket->id, req.business, req.owner, req.msg_id, now);
  if (!seen) {
    w.answer({}, caf::make_error(sync_errc::not_durable, seen.error().detail));
    return;
  }
  if (*seen) {
    // A retry: its version may have been committed here but never confirmed by the replica
    // (that is why the backend retries). It is answered once the replica holds it.
    auto version = **seen;
    auto answer = std::make_shared<waiter>(std::move(w));
    confirm(self, req.owner, version, [answer, version](caf::error err) {
      if (err) {
        answer->answer({}, caf::make_error(sync_errc::not_durable, "the replica did not confirm"));
      } else {
        answer->answer(publish_result{version, true}, {});
      }
    });
    return;
  }
  auto head = head_of(self, req.owner);
  if (!head) {
    w.answer({}, head.error());
    return;
  }
  storage::oplog_record record;
  record.bucket = st.bucket->id;
  record.owner = req.owner;
  record.version = *head + 1;
  record.business = req.business;
  record.payload = std::move(req.payload);
  record.msg_id = req.msg_id;
  record.created_at_ms = now;
  record.expires_at_ms = req.ttl_ms != 0 ? now + req.ttl_ms : 0;
  record.filters = std::move(req.filters);
  record.push = std::move(req.push);
  st.heads[req.owner] = record.version;
  st.in_flight[key].push_back(std::move(w));
  st.unflushed.push_back({std::move(key), std::move(record), now + st.ctx->config.dedupe_ttl_ms});
}

void flush(bucket_actor* self);

// A single publish: flushed after the publishes already queued in the mailbox, so a burst of
// them costs one write request (the flush message queues behind them).
caf::result<publish_result> publish(bucket_actor* self, publish_request& req) {
  waiter w;
  w.promise = self->make_response_promise();
  auto promise = w.promise;
  admit(self, req, std::move(w));
  auto& st = self->state;
  if (!st.unflushed.empty() && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, caf::flush_atom_v);
  }
  return promise;
}

// Every op of `batch` goes into one flush, made at once: one write request for the whole
// share (with any single publishes admitted before it), and no flush message.
caf::result<publish_outcomes> publish_all(bucket_actor* self, publish_batch& batch) {
  auto reply = std::make_shared<batch_reply>();
  reply->promise = self->make_response_promise();
  reply->answers.outcomes.resize(batch.ops.size());
  reply->pending = batch.ops.size();
  auto promise = reply->promise;
  if (batch.ops.empty()) {
    promise.deliver(publish_outcomes{});
    return promise;
  }
  for (size_t i = 0; i < batch.ops.size(); ++i) {
    waiter w;
    w.batch = reply;
    w.index = i;
    admit(self, batch.ops[i], std::move(w));
  }
  flush(self);
  return promise;
}

// Sends every unflushed op to the writer as one batch; answers their publishers once it is
// committed (or failed: then none of it was written). A flush message that finds nothing
// (a batch flushed first) does nothing.
void flush(bucket_actor* self) {
  auto& st = self->state;
  if (st.unflushed.empty()) {
    return;
  }
  auto ops = std::make_shared<std::vector<unflushed_op>>(std::move(st.unflushed));
  st.unflushed.clear();
  storage::write_batch batch;
  batch.dedupes.reserve(ops->size());
  batch.appends.reserve(ops->size());
  for (const auto& op : *ops) {
    const auto& r = op.record;
    batch.dedupes.push_back(
        {{st.bucket->id, r.business, r.owner, r.msg_id}, {r.version, op.dedupe_expires_at_ms}});
    batch.appends.push_back({st.shard, r});
  }
  auto fail_all = [self, ops](const caf::error& err) {
    for (const auto& op : *ops) {
      on_failed(self, op.key, op.record.owner, err);
    }
  };
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    fail_all(caf::make_error(sync_errc::not_durable, "no storage writer"));
    return;
  }
  auto target = replica_now(self);
  // With a replica the batch is kept to stream it once committed here.
  auto copy = target ? std::make_shared<const storage::write_batch>(batch) : nullptr;
  auto complete = [self, ops] {
    for (auto& op : *ops) {
      on_committed(self, op.key, std::move(op.record));
    }
  };
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, target, copy, complete, fail_all](caf::unit_t) {
            if (!target) {
              complete();
              return;
            }
            // Acknowledged (and delivered) only once the replica applied it too (RPO = 0).
            // If it does not, the ops stay committed here but unacknowledged; the backend's
            // retry (same msg_id) finds them and waits for the replica again.
            replicate(self, self->state.calls, self->state.ctx, self->state.shard, *target, copy,
                      [complete, fail_all](caf::error err) {
                        if (err) {
                          fail_all(err);
                        } else {
                          complete();
                        }
                      });
          },
          [fail_all](caf::error& err) { fail_all(err); });
}

// Sends delivery state (cursors, receipts, dead letters, and acked `once` deletions) to the
// writer. Not awaited by anyone: a failed write is logged, and what it carried is recomputed
// from storage (ops stay until a delete commits; a cursor falls back to its stored state).
// `done(committed)`, if given, runs once the write is answered.
void write_delivery(bucket_actor* self, storage::write_batch batch,
                    std::function<void(bool)> done = {}) {
  if (batch.empty()) {
    if (done) {
      done(true);
    }
    return;
  }
  auto keys = std::make_shared<std::vector<std::string>>(delivery_tracker::cursor_keys(batch));
  auto settle = [self, keys, done](bool committed) {
    if (self->state.tracker) {
      self->state.tracker->settled(*keys);
    }
    if (done) {
      done(committed);
    }
  };
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    settle(false);
    return;
  }
  auto target = replica_now(self);
  auto copy = target ? std::make_shared<const storage::write_batch>(batch) : nullptr;
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, settle, target, copy](caf::unit_t) {
            settle(true);
            if (target) {
              // Delivery state is copied as well, not awaited: a replica that misses it
              // re-delivers some versions after a failover (clients drop repeats by version).
              replicate(self, self->state.calls, self->state.ctx, self->state.shard, *target, copy,
                        [](caf::error) {});
            }
          },
          [self, settle](caf::error& err) {
            std::cerr << "tidegate: " << self->state.bucket->name
                      << ": delivery state: " << self->home_system().render(err) << "\n";
            settle(false);
          });
}

bool has_dead_letters(const storage::write_batch& batch) {
  return std::any_of(batch.puts.begin(), batch.puts.end(), [](const storage::table_put& p) {
    return p.table == storage::delivery_table::dead_letters;
  });
}

// Builds one page of `owner`'s log after `after` for `device`, holding back versions above
// `cap` (not yet confirmed by the replica), and calls `done` with it: at once, or once the
// dead letters it makes are durable.
void build_page(bucket_actor* self, const std::string& owner, const std::string& device,
                uint64_t after, bool first, uint64_t cap, std::function<void(sync_page)> done) {
  auto& st = self->state;
  const auto& cfg = st.ctx->config;
  sync_page page;
  page.bucket = st.bucket->name;
  auto read = st.ctx->store->read_range(st.shard, st.bucket->id, owner, after, cfg.page_max_ops,
                                        cfg.page_max_bytes);
  if (read) {
    page.records = std::move(read->records);
    page.more = read->more;
    page.reset = read->reset;
  }
  auto head = st.ctx->store->head(st.shard, st.bucket->id, owner);
  page.head = std::min(head ? *head : 0, cap);
  if (!page.records.empty() && page.records.back().version > cap) {
    page.records.erase(std::remove_if(page.records.begin(), page.records.end(),
                                      [cap](const auto& r) { return r.version > cap; }),
                       page.records.end());
    page.more = false;  // the rest is pushed once the replica confirms it
  }
  if (deletes_on_ack(st.bucket->kind) && !page.reset && !page.records.empty()
      && page.records.front().version > after + 1) {
    // Ops are appended contiguously and leave a `once` log only as a prefix (acks are
    // cumulative), so a hole before the first op is acked-and-deleted, never lost.
    page.gone_through = page.records.front().version - 1;
  }
  if (st.tracker && !device.empty() && !page.reset) {
    storage::write_batch out;
    page.dead_through =
        st.tracker->on_page(owner, device, after, first, page.records, wall_now_ms(), out);
    if (has_dead_letters(out)) {
      // Ops become skipped for the device only once their dead letters are durable: never a
      // silent drop. If the write fails they are sent as they are (one more retry).
      auto shared = std::make_shared<sync_page>(std::move(page));
      write_delivery(self, std::move(out), [done, shared](bool committed) {
        if (!committed) {
          shared->dead_through = 0;
        }
        done(std::move(*shared));
      });
      return;
    }
    write_delivery(self, std::move(out));
  }
  done(std::move(page));
}

// A page for a session's SYNC_REQ. With a replica, the owner's head is confirmed on it first
// (this node may hold versions it never acknowledged), and nothing above what it confirmed is
// sent.
caf::result<sync_page> read_page(bucket_actor* self, const std::string& owner,
                                 const std::string& device, uint64_t after, bool first) {
  auto promise = self->make_response_promise<sync_page>();
  auto deliver = [promise](sync_page page) mutable { promise.deliver(std::move(page)); };
  if (!replica_now(self)) {
    build_page(self, owner, device, after, first, UINT64_MAX, deliver);
    return promise;
  }
  auto head = self->state.ctx->store->head(self->state.shard, self->state.bucket->id, owner);
  confirm(self, owner, head ? *head : 0,
          [self, owner, device, after, first, deliver, promise](caf::error err) mutable {
            if (err) {
              // Not a page capped at what was confirmed before: it would report that head as the
              // owner's, and an op acknowledged since (whose online push this session may have
              // missed while it was connecting) would not reach the client until its next SYNC_REQ.
              // The session reads again after a backoff.
              promise.deliver(std::move(err));
              return;
            }
            // Versions the replica confirmed; at least what the client already has (it got those
            // once they were confirmed), so a page never reports a head behind the client.
            auto& replicated = self->state.replicated;
            auto it = replicated.find(owner);
            uint64_t cap = std::max(it == replicated.end() ? uint64_t{0} : it->second, after);
            build_page(self, owner, device, after, first, cap, deliver);
          });
  return promise;
}

void on_acked(bucket_actor* self, const std::string& owner, const std::string& device,
              uint64_t version) {
  auto& st = self->state;
  storage::write_batch batch;
  std::vector<uint64_t> acked_ops;
  if (deletes_on_ack(st.bucket->kind)) {
    auto page = st.ctx->store->read_range(st.shard, st.bucket->id, owner, 0, 1000, size_t{1} << 30);
    if (page) {
      for (const auto& r : page->records) {
        if (r.version <= version) {
          batch.deletes.push_back({st.shard, st.bucket->id, owner, r.version});
          acked_ops.push_back(r.version);
        }
      }
    }
  }
  if (st.tracker && !device.empty()) {
    st.tracker->on_acked(owner, device, version, acked_ops, wall_now_ms(), batch);
  }
  write_delivery(self, std::move(batch));
}

caf::behavior sync_bucket(bucket_actor* self, sync_context_ptr ctx, const bucket_config* bucket,
                          uint16_t shard) {
  self->state.ctx = std::move(ctx);
  self->state.bucket = bucket;
  self->state.shard = shard;
  if (self->state.ctx->deliveries != nullptr) {
    self->state.tracker.emplace(*self->state.ctx->store, *self->state.ctx->deliveries, shard,
                                bucket);
  }
  self->set_down_handler(
      [self](caf::down_msg& msg) { self->state.calls.on_down(msg, replica_lost()); });
  return {
      [self](publish_atom, publish_request& req) { return publish(self, req); },
      [self](publish_atom, publish_batch& batch) { return publish_all(self, batch); },
      [self](caf::flush_atom) {
        self->state.flush_scheduled = false;
        flush(self);
      },
      [self](sync_atom, const std::string& owner, const std::string& device, uint64_t after,
             bool first) { return read_page(self, owner, device, after, first); },
      [self](sync_ack_atom, const std::string& owner, const std::string& device, uint64_t version) {
        on_acked(self, owner, device, version);
      },
      [self](delivered_atom, const std::string& owner, const std::string& device, uint64_t first,
             uint64_t last) {
        auto& st = self->state;
        if (st.tracker && !device.empty()) {
          storage::write_batch out;
          st.tracker->on_pushed(owner, device, first, last, wall_now_ms(), out);
          write_delivery(self, std::move(out));
        }
      },
      [self](map_changed_atom) {
        self->state.calls.sweep(self, replica_still_named(self->state.ctx));
      },
      [self](sweep_atom) { self->state.calls.sweep(self, replica_still_named(self->state.ctx)); },
      [self](reload_atom, sync_context_ptr& ctx) {
        // New limits and retention from now on; versions and heads are untouched. A bucket
        // removed from the config stops (its ops stay on disk, served again if it returns).
        const auto* bucket = ctx->config.bucket_by_id(self->state.bucket->id);
        if (bucket == nullptr) {
          self->quit();
          return;
        }
        self->state.ctx = std::move(ctx);
        self->state.bucket = bucket;
        if (self->state.tracker) {
          self->state.tracker->set_bucket(bucket);
        }
      },
  };
}

}  // namespace

caf::actor spawn_sync_bucket(caf::actor_system& sys, sync_context_ptr ctx,
                             const bucket_config* bucket, uint16_t shard) {
  return sys.spawn(sync_bucket, std::move(ctx), bucket, shard);
}

}  // namespace tidegate::actors
