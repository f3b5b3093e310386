#include "actors/topics/topic_actor.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "actors/topics/follow_index.h"
#include "actors/topics/topic_messages.h"
#include "storage/follow_records.h"

namespace tidegate::actors {
namespace {

// As in sync_bucket: the writer answers every request it takes, so no timeout (a timed
// request costs two trips through CAF's clock thread).
constexpr auto write_timeout = caf::infinite;

// A message waiting for the next flush to the writer, which gives it its version.
struct pending_message {
  topic_publish msg;
  uint64_t created_at_ms = 0;
};

// Who waits for one message's version.
struct publish_waiter {
  caf::response_promise promise;
  bool duplicate = false;  // a repeat of a msg_id that was in flight
};

// One follow or unfollow request of several users, answered once its write commits.
struct follow_job {
  bool follow = true;
  std::vector<std::string> users;
  caf::response_promise promise;
};

struct relay_entry {
  caf::actor relay;
  std::string node;
  bool remote = false;  // on another member: gets topic_records, not a shared batch
};

// Three heads, durable >= confirmed, durable >= fanned:
// - durable: the newest version committed here (storage's head);
// - confirmed: the newest version the shard's replica holds (= durable without a replica).
//   Nobody is told of a version above it: an acknowledged or delivered message survives the
//   loss of this node. Versions between it and `durable` were committed here while the replica
//   did not confirm; they are confirmed later (a retry, a read, the next write) or never seen;
// - fanned: the newest version sent to the relays and cached.
struct topic_state {
  static inline const char* name = "tidegate.topic";
  sync_context_ptr ctx;
  caf::actor directory;
  std::string topic;
  uint16_t shard = 0;
  uint64_t durable = 0;
  uint64_t confirmed = 0;
  uint64_t fanned = 0;
  uint64_t followers = 0;
  // The newest fanned-out messages, contiguous versions, at most topics.cache_messages.
  std::deque<storage::oplog_record> cache;
  std::unordered_map<std::string, std::vector<publish_waiter>> in_flight;  // by msg_id
  // Messages published since the last flush. One write (and its replication) is in flight at
  // a time; what is published meanwhile goes in the next, all together, with versions given
  // when it is flushed (so a failed write leaves no hole to renumber).
  std::vector<pending_message> unflushed;
  bool flush_scheduled = false;
  bool writing = false;
  // Follows and unfollows: one write at a time (the follower count is read, changed and
  // written by it); what queues meanwhile goes in the next write, all together.
  std::vector<follow_job> follow_queue;
  bool follow_writing = false;
  std::unordered_map<caf::actor_addr, relay_entry> relays;
  // Messages the directory forwarded that this topic handled: the directory agrees to a
  // passivation only if it forwarded no more than that.
  uint64_t handled = 0;
  uint64_t handled_at_last_check = 0;
  pending_calls replication;  // writes sent to the replica's sink, not confirmed yet
};

using topic_actor = caf::stateful_actor<topic_state>;

caf::error validate(const sync_config& cfg, const topic_publish& msg) {
  if (msg.msg_id.empty() || msg.msg_id.size() > storage::max_key_field_size) {
    return caf::make_error(sync_errc::bad_msg_id, "msg_id must be 1 to 160 bytes");
  }
  if (msg.payload.size() > cfg.max_payload_bytes) {
    return caf::make_error(sync_errc::payload_too_large,
                           "payload of " + std::to_string(msg.payload.size())
                               + " bytes over the maximum "
                               + std::to_string(cfg.max_payload_bytes));
  }
  return {};
}

caf::error not_durable(const std::string& why) {
  return caf::make_error(sync_errc::not_durable, why);
}

void remember(topic_actor* self, storage::oplog_record record) {
  auto& st = self->state;
  if (!st.cache.empty() && st.cache.back().version + 1 != record.version) {
    st.cache.clear();  // versions that were never fanned out lie between: start again
  }
  st.cache.push_back(std::move(record));
  while (st.cache.size() > st.ctx->config.topics.cache_messages) {
    st.cache.pop_front();
  }
}

// This node is the primary of the topic's shard (always, outside a cluster).
bool is_primary(topic_actor* self) {
  const auto& ctx = *self->state.ctx;
  return !ctx.route || ctx.route(self->state.shard).at == shard_route::where::local;
}

// Where the shard's writes must be copied before they count, or nullopt (no replica).
std::optional<replica_target> replica_now(topic_actor* self) {
  const auto& ctx = *self->state.ctx;
  return ctx.replica_of ? ctx.replica_of(self->state.shard) : std::nullopt;
}

// Sends `records` (contiguous, newest last, ending at `head`) to every interested relay: one
// shared batch to this node's, one copy per other member.
void fan_out(topic_actor* self, std::vector<storage::oplog_record> records, uint64_t head) {
  auto& st = self->state;
  auto out = std::make_shared<topic_batch>();
  out->topic = st.topic;
  out->records = std::move(records);
  out->head = head;
  topic_batch_ptr shared = std::move(out);
  std::optional<caf::message> remote;
  for (auto& [addr, entry] : st.relays) {
    if (!entry.remote) {
      self->send(entry.relay, topic_data_atom_v, shared);
      continue;
    }
    if (!remote) {
      remote = caf::make_message(topic_data_atom_v,
                                 topic_records{st.topic, shared->records, shared->head});
    }
    self->send(entry.relay, *remote);
  }
}

// Versions through `upto` are confirmed: those not fanned out yet are cached and sent to the
// relays. `known` holds the newest of them (in memory after a flush); older ones are read from
// storage, and left out (the sessions read them on the gap) unless they join `known` exactly.
void advance(topic_actor* self, uint64_t upto, std::vector<storage::oplog_record> known) {
  auto& st = self->state;
  st.confirmed = std::max(st.confirmed, upto);
  if (upto <= st.fanned) {
    return;
  }
  known.erase(
      std::remove_if(known.begin(), known.end(),
                     [&](const auto& r) { return r.version <= st.fanned || r.version > upto; }),
      known.end());
  uint64_t first_known = known.empty() ? upto + 1 : known.front().version;
  std::vector<storage::oplog_record> records;
  if (first_known > st.fanned + 1) {
    const auto& cfg = st.ctx->config;
    auto read = st.ctx->store->read_range(st.shard, topic_bucket_id, st.topic, st.fanned,
                                          cfg.page_max_ops, cfg.page_max_bytes);
    if (read && !read->reset) {
      for (auto& r : read->records) {
        if (r.version < first_known) {
          records.push_back(std::move(r));
        }
      }
    }
    if (records.empty() || records.back().version + 1 != first_known) {
      records.clear();
    }
  }
  for (auto& r : known) {
    records.push_back(std::move(r));
  }
  st.fanned = upto;
  if (records.empty()) {
    return;
  }
  for (const auto& r : records) {
    remember(self, r);
  }
  fan_out(self, std::move(records), upto);
}

// Makes sure the replica holds the topic up to `version` (it fills what it lacks from this
// node's log), then calls `then`: with no error also when there is no replica.
void confirm(topic_actor* self, uint64_t version, std::function<void(caf::error)> then) {
  auto& st = self->state;
  auto target = replica_now(self);
  if (!target || version <= st.confirmed) {
    then({});
    return;
  }
  auto record = st.ctx->store->get(st.shard, topic_bucket_id, st.topic, version);
  if (!record) {
    then({});  // trimmed here: nothing to vouch for
    return;
  }
  auto batch = std::make_shared<storage::write_batch>();
  batch->appends.push_back({st.shard, std::move(*record)});
  replicate(self, st.replication, st.ctx, st.shard, *target, std::move(batch),
            [self, version, then](caf::error err) {
              if (!err) {
                advance(self, version, {});
              }
              then(std::move(err));
            });
}

void flush(topic_actor* self);

// The flush of `msgs` (versions from `first`) ended: committed here and, when `err` is
// empty, on the replica too. Answers their publishers and starts the next flush.
void flushed(topic_actor* self, const std::shared_ptr<std::vector<storage::oplog_record>>& msgs,
             const caf::error& err) {
  auto& st = self->state;
  st.writing = false;
  // A moved shard says so (503 shard_unavailable, retried elsewhere); anything else is
  // not_durable.
  bool moved = err && err.category() == caf::detail::error_factory<sync_errc>::category
               && static_cast<sync_errc>(err.code()) == sync_errc::shard_unavailable;
  auto reason = !err ? caf::error{} : moved ? err : not_durable(self->home_system().render(err));
  for (const auto& r : *msgs) {
    auto waiters = std::move(st.in_flight[r.msg_id]);
    st.in_flight.erase(r.msg_id);
    for (auto& w : waiters) {
      if (err) {
        w.promise.deliver(reason);
      } else {
        w.promise.deliver(publish_result{r.version, w.duplicate});
      }
    }
  }
  if (!err && !msgs->empty()) {
    auto upto = msgs->back().version;
    advance(self, upto, std::move(*msgs));
  }
  flush(self);
}

// Gives the unflushed messages their versions and writes them as one batch; once committed
// here and (with a replica) applied there, answers their publishers and fans them out. If the
// replica does not confirm, they stay committed here but unacknowledged: a retry (same
// msg_id) finds its version and waits for the replica again.
void flush(topic_actor* self) {
  auto& st = self->state;
  if (st.writing || st.unflushed.empty()) {
    return;
  }
  auto msgs = std::make_shared<std::vector<storage::oplog_record>>();
  storage::write_batch batch;
  batch.appends.reserve(st.unflushed.size());
  batch.dedupes.reserve(st.unflushed.size());
  uint64_t version = st.durable;
  for (auto& m : st.unflushed) {
    storage::oplog_record r;
    r.bucket = topic_bucket_id;
    r.owner = st.topic;
    r.version = ++version;
    r.payload = std::move(m.msg.payload);
    r.msg_id = std::move(m.msg.msg_id);
    r.created_at_ms = m.created_at_ms;
    r.expires_at_ms = m.msg.ttl_ms != 0 ? m.created_at_ms + m.msg.ttl_ms : 0;
    batch.dedupes.push_back({{topic_bucket_id, r.business, r.owner, r.msg_id},
                             {r.version, m.created_at_ms + st.ctx->config.dedupe_ttl_ms}});
    batch.appends.push_back({st.shard, r});
    msgs->push_back(std::move(r));
  }
  st.unflushed.clear();
  st.writing = true;
  auto writer = storage_writer_of(self->home_system());
  if (!is_primary(self) || !writer) {
    flushed(self, msgs,
            !writer ? not_durable("no storage writer")
                    : caf::make_error(sync_errc::shard_unavailable,
                                      "this node is no longer the primary of topic " + st.topic));
    return;
  }
  auto target = replica_now(self);
  auto copy = target ? std::make_shared<const storage::write_batch>(batch) : nullptr;
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, msgs, target, copy](caf::unit_t) {
            self->state.durable = msgs->back().version;
            if (!target) {
              flushed(self, msgs, {});
              return;
            }
            // Acknowledged and delivered only once the replica applied it too (RPO = 0).
            replicate(self, self->state.replication, self->state.ctx, self->state.shard, *target,
                      copy, [self, msgs](caf::error err) { flushed(self, msgs, err); });
          },
          [self, msgs](caf::error& err) {
            // Storage is the truth: a writer that failed after committing moved the head.
            auto& st = self->state;
            if (auto head = st.ctx->store->head(st.shard, topic_bucket_id, st.topic)) {
              st.durable = *head;
            }
            flushed(self, msgs, err);
          });
}

caf::result<publish_result> publish(topic_actor* self, topic_publish& msg) {
  auto& st = self->state;
  if (auto err = validate(st.ctx->config, msg)) {
    return err;
  }
  // A response promise only where the answer comes later: once made, CAF ignores what the
  // handler returns.
  if (auto i = st.in_flight.find(msg.msg_id); i != st.in_flight.end()) {
    auto promise = self->make_response_promise();
    i->second.push_back({promise, true});
    return promise;
  }
  auto now = wall_now_ms();
  auto seen = st.ctx->store->lookup_dedupe(topic_bucket_id, "", st.topic, msg.msg_id, now);
  if (!seen) {
    return not_durable(seen.error().detail);
  }
  if (*seen) {
    // A retry: its version may be committed here but not confirmed by the replica (that is
    // why the publisher retries). It is answered once the replica holds it.
    auto version = **seen;
    auto promise = self->make_response_promise();
    confirm(self, version, [promise, version](caf::error err) mutable {
      if (err) {
        promise.deliver(not_durable("the replica did not confirm"));
      } else {
        promise.deliver(publish_result{version, true});
      }
    });
    return promise;
  }
  auto promise = self->make_response_promise();
  st.in_flight[msg.msg_id].push_back({promise, false});
  st.unflushed.push_back({std::move(msg), now});
  // Flushed after the publishes already in the mailbox: a burst is one write.
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, caf::flush_atom_v);
  }
  return promise;
}

// The user's follow of this topic as storage has it; nullopt when it does not follow.
caf::expected<std::optional<storage::follow>> stored_follow(topic_actor* self,
                                                            const std::string& user) {
  auto& st = self->state;
  auto f = st.ctx->follows->follow_of(shard_of(user, st.ctx->config.shards), user, st.topic);
  if (!f) {
    return not_durable(f.error().detail);
  }
  return *f;
}

void run_follows(topic_actor* self);

// A follower count that was not written or copied: logged, since nothing retries it (the next
// follow or unfollow writes the count again).
void log_count_failure(topic_actor* self, const char* what, const caf::error& err) {
  std::cerr << "tidegate: topic " << self->state.topic << ": follower count " << what
            << " failed: " << self->home_system().render(err) << "\n";
}

// Writes the follower count to storage and copies it to the shard's replica (not awaited: the
// count is advisory, and a replica that misses it is off by what changed since).
void write_follower_count(topic_actor* self, uint64_t followers) {
  auto& st = self->state;
  storage::write_batch batch;
  batch.puts.push_back({storage::delivery_table::topic_meta,
                        storage::encode_topic_meta_key(st.shard, st.topic),
                        storage::encode_topic_meta({followers})});
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    return;
  }
  auto target = replica_now(self);
  auto copy = target ? std::make_shared<const storage::write_batch>(batch) : nullptr;
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, target, copy](caf::unit_t) {
            if (target) {
              replicate(self, self->state.replication, self->state.ctx, self->state.shard, *target,
                        copy, [self](caf::error err) {
                          if (err) {
                            log_count_failure(self, "copy to the replica", err);
                          }
                        });
            }
          },
          [self](caf::error& err) { log_count_failure(self, "write", err); });
}

// A cluster's follow job: the users' follows live under their own shards, whose primaries may
// be other members. Each primary's topic directory writes its users' part (follow_index.h);
// then this topic counts what changed and tells every member's relay. One job at a time. If a
// part fails the job is answered with its error; what the other parts changed is counted.
void run_follows_across(topic_actor* self) {
  auto& st = self->state;
  auto job = std::make_shared<follow_job>(std::move(st.follow_queue.front()));
  st.follow_queue.erase(st.follow_queue.begin());
  struct part {
    caf::actor directory;
    std::vector<std::string> users;
    std::vector<size_t> slots;
  };
  std::unordered_map<caf::actor_addr, part> parts;
  for (size_t i = 0; i < job->users.size(); ++i) {
    auto route = route_request(*st.ctx, shard_of(job->users[i], st.ctx->config.shards), false);
    // A sealed shard's part goes to this node's directory, which holds it for the hand-off.
    bool here = route.at == shard_route::where::local || route.at == shard_route::where::sealed;
    caf::actor directory = here                                     ? st.directory
                           : route.at == shard_route::where::remote ? route.topics
                                                                    : caf::actor{};
    if (!directory) {
      job->promise.deliver(
          caf::make_error(sync_errc::shard_unavailable,
                          route.why.empty() ? "the user's primary serves no topics" : route.why));
      run_follows(self);
      return;
    }
    auto& p = parts[directory.address()];
    p.directory = directory;
    p.users.push_back(job->users[i]);
    p.slots.push_back(i);
  }
  struct gathered {
    follow_outcomes outcomes;
    caf::error error;
    size_t pending = 0;
  };
  auto all = std::make_shared<gathered>();
  all->outcomes.resize(job->users.size());
  all->pending = parts.size();
  st.follow_writing = true;
  auto finish = [self, job, all] {
    auto& st = self->state;
    st.follow_writing = false;
    int64_t delta = 0;
    auto relay = topic_relay_of(self->home_system());
    for (size_t i = 0; i < all->outcomes.size(); ++i) {
      const auto& o = all->outcomes[i];
      if (o.changed) {
        delta += o.following ? 1 : -1;
        announce_follow_change(self, *st.ctx, relay, job->users[i], st.topic, o);
      }
    }
    if (delta != 0) {
      st.followers =
          static_cast<uint64_t>(std::max<int64_t>(0, static_cast<int64_t>(st.followers) + delta));
      write_follower_count(self, st.followers);
    }
    if (all->error) {
      job->promise.deliver(all->error);
    } else {
      job->promise.deliver(std::move(all->outcomes));
    }
    run_follows(self);
  };
  for (auto& [addr, p] : parts) {
    auto slots = std::move(p.slots);
    self->request(p.directory, std::chrono::seconds(10), follow_index_atom_v, st.topic,
                  st.confirmed, job->follow, std::move(p.users))
        .then(
            [all, slots, finish](follow_outcomes& got) {
              for (size_t j = 0; j < slots.size() && j < got.size(); ++j) {
                all->outcomes[slots[j]] = std::move(got[j]);
              }
              if (--all->pending == 0) {
                finish();
              }
            },
            [all, finish](caf::error& err) {
              if (!all->error) {
                all->error = std::move(err);
              }
              if (--all->pending == 0) {
                finish();
              }
            });
  }
}

// Writes every queued follow and unfollow as one batch, then answers them and tells the
// relay which users started or stopped following.
void run_follows(topic_actor* self) {
  auto& st = self->state;
  if (st.follow_writing || st.follow_queue.empty()) {
    return;
  }
  if (st.ctx->route) {
    run_follows_across(self);
    return;
  }
  auto jobs = std::make_shared<std::vector<follow_job>>(std::move(st.follow_queue));
  st.follow_queue.clear();
  auto answers = std::make_shared<std::vector<follow_outcomes>>();
  // Each user's state after the jobs before it in this write.
  std::unordered_map<std::string, std::optional<storage::follow>> now_following;
  auto changes = std::make_shared<std::vector<std::pair<std::string, follow_outcome>>>();
  storage::write_batch batch;
  uint64_t followers = st.followers;
  const auto& cfg = st.ctx->config;
  for (auto& job : *jobs) {
    auto& out = answers->emplace_back();
    for (const auto& user : job.users) {
      auto known = now_following.find(user);
      if (known == now_following.end()) {
        auto f = stored_follow(self, user);
        if (!f) {
          for (auto& j : *jobs) {
            j.promise.deliver(f.error());
          }
          return;
        }
        known = now_following.emplace(user, *f).first;
      }
      auto& current = known->second;
      auto user_shard = shard_of(user, cfg.shards);
      follow_outcome o;
      if (job.follow && !current) {
        auto count = st.ctx->follows->topics_of(user_shard, user, cfg.topics.max_follows_per_user);
        if (!count) {
          for (auto& j : *jobs) {
            j.promise.deliver(not_durable(count.error().detail));
          }
          return;
        }
        if (count->size() >= cfg.topics.max_follows_per_user) {
          o.refused = "the user follows the maximum of "
                      + std::to_string(cfg.topics.max_follows_per_user) + " topics";
          out.push_back(o);
          continue;
        }
        storage::follow f{st.confirmed, wall_now_ms()};
        batch.puts.push_back({storage::delivery_table::follows,
                              storage::encode_follow_key(user_shard, user, st.topic),
                              storage::encode_follow(f)});
        current = f;
        ++followers;
        o = {true, true, f.since_version, {}};
        changes->emplace_back(user, o);
      } else if (!job.follow && current) {
        batch.erases.push_back({storage::delivery_table::follows,
                                storage::encode_follow_key(user_shard, user, st.topic)});
        current.reset();
        --followers;
        o = {false, true, 0, {}};
        changes->emplace_back(user, o);
      } else {
        o = {current.has_value(), false, current ? current->since_version : 0, {}};
      }
      out.push_back(o);
    }
  }
  auto answer_all = [jobs, answers] {
    for (size_t i = 0; i < jobs->size(); ++i) {
      (*jobs)[i].promise.deliver(std::move((*answers)[i]));
    }
  };
  if (batch.empty()) {
    answer_all();
    return;
  }
  batch.puts.push_back({storage::delivery_table::topic_meta,
                        storage::encode_topic_meta_key(st.shard, st.topic),
                        storage::encode_topic_meta({followers})});
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    for (auto& j : *jobs) {
      j.promise.deliver(not_durable("no storage writer"));
    }
    return;
  }
  st.follow_writing = true;
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, answer_all, changes, followers](caf::unit_t) {
            auto& st = self->state;
            st.follow_writing = false;
            st.followers = followers;
            answer_all();
            auto relay = topic_relay_of(self->home_system());
            for (const auto& [user, o] : *changes) {
              announce_follow_change(self, *st.ctx, relay, user, st.topic, o);
            }
            run_follows(self);
          },
          [self, jobs](caf::error& err) {
            self->state.follow_writing = false;
            auto reason = not_durable(self->home_system().render(err));
            for (auto& j : *jobs) {
              j.promise.deliver(reason);
            }
            run_follows(self);
          });
}

caf::result<follow_outcomes> enqueue_follows(topic_actor* self, bool follow,
                                             std::vector<std::string>& users) {
  for (const auto& user : users) {
    if (user.empty() || user.size() > storage::max_key_field_size) {
      return caf::make_error(sync_errc::bad_user, "a user id must be 1 to 160 bytes");
    }
  }
  auto promise = self->make_response_promise();
  self->state.follow_queue.push_back({follow, std::move(users), promise});
  run_follows(self);
  return promise;
}

// Drops cached messages that retention has removed (or will remove) from the log, so the
// cache never serves what a read of storage would answer with `reset`.
void trim_cache(topic_actor* self) {
  auto& st = self->state;
  const auto& retention = st.ctx->config.topics.retention;
  auto now = wall_now_ms();
  while (!st.cache.empty()) {
    const auto& r = st.cache.front();
    bool too_many = retention.keep_count && st.durable - r.version >= *retention.keep_count;
    bool too_old = retention.max_age_ms && r.created_at_ms + *retention.max_age_ms < now;
    if (!too_many && !too_old) {
      break;
    }
    st.cache.pop_front();
  }
}

// One page of the log after `after`, holding back versions above `cap` (not confirmed by the
// replica): from the recent-messages cache when it holds them, else from storage.
sync_page build_page(topic_actor* self, uint64_t after, uint64_t cap) {
  auto& st = self->state;
  const auto& cfg = st.ctx->config;
  trim_cache(self);
  sync_page page;
  page.topic = st.topic;
  page.head = std::min(st.durable, cap);
  if (after == page.head) {
    return page;  // caught up
  }
  if (!st.cache.empty() && after < page.head && st.cache.front().version <= after + 1) {
    size_t bytes = 0;
    for (auto i = after + 1 - st.cache.front().version; i < st.cache.size(); ++i) {
      const auto& r = st.cache[i];
      if (r.version > cap) {
        break;
      }
      if (page.records.size() >= cfg.page_max_ops
          || (!page.records.empty() && bytes + r.payload.size() > cfg.page_max_bytes)) {
        page.more = true;
        break;
      }
      bytes += r.payload.size();
      page.records.push_back(r);
    }
    return page;
  }
  auto read = st.ctx->store->read_range(st.shard, topic_bucket_id, st.topic, after,
                                        cfg.page_max_ops, cfg.page_max_bytes);
  if (!read) {
    return page;  // the session's cursor does not move; its next sync asks again
  }
  page.records = std::move(read->records);
  page.more = read->more;
  page.reset = read->reset;
  if (!page.records.empty() && page.records.back().version > cap) {
    page.records.erase(std::remove_if(page.records.begin(), page.records.end(),
                                      [cap](const auto& r) { return r.version > cap; }),
                       page.records.end());
    page.more = false;  // the rest is fanned out once the replica confirms it
  }
  if (!page.records.empty()) {
    page.head = std::max(page.head, page.records.back().version);
  }
  return page;
}

// A page for a session. With a replica, this node's head is confirmed on it first (this node
// may hold versions it never acknowledged), and nothing above what it confirmed is sent; at
// least what the client already has counts as confirmed (it got those once they were).
caf::result<sync_page> read_page(topic_actor* self, uint64_t after) {
  auto& st = self->state;
  if (!replica_now(self)) {
    return build_page(self, after, UINT64_MAX);
  }
  if (st.confirmed >= st.durable) {
    return build_page(self, after, std::max(st.confirmed, after));
  }
  auto promise = self->make_response_promise<sync_page>();
  confirm(self, st.durable, [self, after, promise](caf::error) mutable {
    promise.deliver(build_page(self, after, std::max(self->state.confirmed, after)));
  });
  return promise;
}

caf::result<topic_info> info(topic_actor* self) {
  auto& st = self->state;
  auto answer = std::make_shared<topic_info>();
  answer->topic = st.topic;
  answer->head = st.confirmed;
  answer->followers = st.followers;
  for (const auto& [addr, entry] : st.relays) {
    answer->interested_nodes.push_back(entry.node);
  }
  if (st.relays.empty()) {
    return std::move(*answer);
  }
  auto promise = self->make_response_promise<topic_info>();
  auto pending = std::make_shared<size_t>(st.relays.size());
  for (const auto& [addr, entry] : st.relays) {
    auto done = [promise, answer, pending](uint64_t online) mutable {
      answer->online_followers += online;
      if (--*pending == 0) {
        promise.deliver(std::move(*answer));
      }
    };
    self->request(entry.relay, std::chrono::seconds(2), count_atom_v, st.topic)
        .then([done](uint64_t online) mutable { done(online); },
              [done](caf::error&) mutable { done(0); });
  }
  return promise;
}

void schedule_idle_check(topic_actor* self) {
  self->delayed_send(self,
                     std::chrono::milliseconds(self->state.ctx->config.topics.idle_passivate_ms),
                     passivate_atom_v);
}

// Idle: no online followers anywhere, nothing in flight, nothing forwarded since the last
// check. Asks the directory, which agrees only if it forwarded nothing this topic has not
// handled (so no message can reach a stopped topic).
void check_idle(topic_actor* self) {
  auto& st = self->state;
  bool busy = !st.in_flight.empty() || !st.unflushed.empty() || st.writing || st.follow_writing
              || !st.follow_queue.empty();
  if (!busy && !is_primary(self)) {
    // The shard moved (a failover, a partition healed): the relays this topic had hear of it
    // (they monitor it) and register with the new primary's topic; a later request here
    // starts a new incarnation from storage.
    self->quit();
    return;
  }
  bool idle = st.relays.empty() && !busy && st.handled == st.handled_at_last_check;
  st.handled_at_last_check = st.handled;
  if (!idle) {
    schedule_idle_check(self);
    return;
  }
  self->request(st.directory, std::chrono::seconds(5), passivate_atom_v, st.topic, st.handled)
      .then(
          [self](bool agreed) {
            if (agreed) {
              self->quit();
            } else {
              schedule_idle_check(self);
            }
          },
          [self](caf::error&) { schedule_idle_check(self); });
}

caf::behavior topic(topic_actor* self, sync_context_ptr ctx, caf::actor directory,
                    std::string name) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.directory = std::move(directory);
  st.topic = std::move(name);
  st.shard = shard_of(st.topic, st.ctx->config.shards);
  auto head = st.ctx->store->head(st.shard, topic_bucket_id, st.topic);
  auto meta = st.ctx->follows->meta_of(st.shard, st.topic);
  if (!head || !meta) {
    // Messages already queued bounce to their senders (request_receiver_down): a retry
    // reaches the next incarnation.
    self->quit(not_durable(!head ? head.error().detail : meta.error().detail));
    return {};
  }
  st.durable = st.fanned = *head;
  st.followers = meta->followers;
  // With a replica, what the replica holds is not known yet: confirmed at once (a former
  // primary's tail is held back until then). Sessions read what they lack from the log.
  st.confirmed = replica_now(self) ? 0 : *head;
  if (st.confirmed < st.durable) {
    confirm(self, st.durable, [](caf::error) {});
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    if (!self->state.replication.on_down(msg, replica_lost())) {
      self->state.relays.erase(msg.source);
    }
  });
  schedule_idle_check(self);
  return {
      [self](publish_atom, topic_publish& msg) {
        ++self->state.handled;
        return publish(self, msg);
      },
      [self](caf::flush_atom) {
        self->state.flush_scheduled = false;
        flush(self);
      },
      [self](map_changed_atom) {
        self->state.replication.sweep(self, replica_still_named(self->state.ctx));
      },
      [self](sweep_atom) {
        self->state.replication.sweep(self, replica_still_named(self->state.ctx));
      },
      [self](follow_atom, const std::string&, std::vector<std::string>& users) {
        ++self->state.handled;
        return enqueue_follows(self, true, users);
      },
      [self](unfollow_atom, const std::string&, std::vector<std::string>& users) {
        ++self->state.handled;
        return enqueue_follows(self, false, users);
      },
      [self](topic_page_atom, const std::string&, uint64_t after) {
        ++self->state.handled;
        return read_page(self, after);
      },
      [self](interest_atom, const std::string&, caf::actor& relay, std::string& node,
             bool on) -> caf::result<caf::message> {
        auto& st = self->state;
        ++st.handled;
        if (!on) {
          st.relays.erase(relay.address());
        } else if (relay && st.relays.count(relay.address()) == 0) {
          self->monitor(relay);
          bool remote = relay.node() != self->node();
          st.relays.emplace(relay.address(), relay_entry{relay, std::move(node), remote});
        }
        // The relay monitors this actor (to register again with the next one) and tells its
        // sessions where the topic is, so that they read what they missed meanwhile: the
        // newest version they may read, so a new incarnation confirms its head first.
        auto me = caf::actor_cast<caf::actor>(self);
        if (!replica_now(self)) {
          return caf::make_message(me, st.durable);
        }
        if (st.confirmed >= st.durable) {
          return caf::make_message(me, st.confirmed);
        }
        auto promise = self->make_response_promise();
        confirm(self, st.durable, [self, me, promise](caf::error) mutable {
          promise.deliver(me, self->state.confirmed);
        });
        return promise;
      },
      [self](info_atom, const std::string&) {
        ++self->state.handled;
        return info(self);
      },
      [self](passivate_atom) { check_idle(self); },
      [self](reload_atom, sync_context_ptr& ctx) { self->state.ctx = std::move(ctx); },
  };
}

}  // namespace

caf::actor spawn_topic(caf::actor_system& sys, sync_context_ptr ctx, caf::actor directory,
                       std::string topic) {
  return sys.spawn(actors::topic, std::move(ctx), std::move(directory), std::move(topic));
}

}  // namespace tidegate::actors
