#include "actors/topics/topic_actor.h"

#include <chrono>
#include <deque>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "actors/topics/topic_messages.h"
#include "storage/follow_records.h"

namespace tidegate::actors {
namespace {

// As in sync_bucket: the writer answers every request it takes, so no timeout (a timed
// request costs two trips through CAF's clock thread).
constexpr auto write_timeout = caf::infinite;

// A message with its version, waiting for the next flush to the writer.
struct pending_message {
  storage::oplog_record record;
  uint64_t dedupe_expires_at_ms = 0;
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
};

struct topic_state {
  static inline const char* name = "tidegate.topic";
  sync_context_ptr ctx;
  caf::actor directory;
  std::string topic;
  uint16_t shard = 0;
  uint64_t assigned = 0;  // newest version given to a message (maybe not durable yet)
  uint64_t durable = 0;   // newest committed version
  uint64_t followers = 0;
  // The newest durable messages, contiguous versions, at most topics.cache_messages.
  std::deque<storage::oplog_record> cache;
  std::unordered_map<std::string, std::vector<publish_waiter>> in_flight;  // by msg_id
  std::vector<pending_message> unflushed;
  bool flush_scheduled = false;
  size_t writes_in_flight = 0;
  // Follows and unfollows: one write at a time (the follower count is read, changed and
  // written by it); what queues meanwhile goes in the next write, all together.
  std::vector<follow_job> follow_queue;
  bool follow_writing = false;
  std::unordered_map<caf::actor_addr, relay_entry> relays;
  // Messages the directory forwarded that this topic handled: the directory agrees to a
  // passivation only if it forwarded no more than that.
  uint64_t handled = 0;
  uint64_t handled_at_last_check = 0;
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
  st.durable = record.version;
  st.cache.push_back(std::move(record));
  while (st.cache.size() > st.ctx->config.topics.cache_messages) {
    st.cache.pop_front();
  }
}

// Sends the unflushed messages to the writer as one batch; once committed, answers their
// publishers and sends them to every interested relay as one topic_batch.
void flush(topic_actor* self) {
  auto& st = self->state;
  if (st.unflushed.empty()) {
    return;
  }
  auto msgs = std::make_shared<std::vector<pending_message>>(std::move(st.unflushed));
  st.unflushed.clear();
  storage::write_batch batch;
  batch.appends.reserve(msgs->size());
  batch.dedupes.reserve(msgs->size());
  for (const auto& m : *msgs) {
    const auto& r = m.record;
    batch.dedupes.push_back(
        {{topic_bucket_id, r.business, r.owner, r.msg_id}, {r.version, m.dedupe_expires_at_ms}});
    batch.appends.push_back({st.shard, r});
  }
  auto fail_all = [self, msgs](const caf::error& err) {
    auto& st = self->state;
    // Versions after the durable head were given out from a head that did not become
    // durable: the next message continues from the durable one. Later writes in flight fail
    // too (the writer refuses gaps); their publishers retry with the same msg_id.
    st.assigned = st.durable;
    auto reason = not_durable(self->home_system().render(err));
    for (const auto& m : *msgs) {
      auto waiters = std::move(st.in_flight[m.record.msg_id]);
      st.in_flight.erase(m.record.msg_id);
      for (auto& w : waiters) {
        w.promise.deliver(reason);
      }
    }
  };
  auto writer = storage_writer_of(self->home_system());
  if (!writer) {
    fail_all(not_durable("no storage writer"));
    return;
  }
  ++st.writes_in_flight;
  self->request(writer, write_timeout, write_atom_v, std::move(batch))
      .then(
          [self, msgs](caf::unit_t) {
            auto& st = self->state;
            --st.writes_in_flight;
            auto out = std::make_shared<topic_batch>();
            out->topic = st.topic;
            out->records.reserve(msgs->size());
            for (auto& m : *msgs) {
              auto waiters = std::move(st.in_flight[m.record.msg_id]);
              st.in_flight.erase(m.record.msg_id);
              for (auto& w : waiters) {
                w.promise.deliver(publish_result{m.record.version, w.duplicate});
              }
              remember(self, m.record);
              out->records.push_back(std::move(m.record));
            }
            out->head = st.durable;
            topic_batch_ptr shared = std::move(out);
            for (auto& [addr, entry] : st.relays) {
              self->send(entry.relay, topic_data_atom_v, shared);
            }
          },
          [self, fail_all](caf::error& err) {
            --self->state.writes_in_flight;
            fail_all(err);
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
    return publish_result{**seen, true};
  }
  auto promise = self->make_response_promise();
  storage::oplog_record record;
  record.bucket = topic_bucket_id;
  record.owner = st.topic;
  record.version = ++st.assigned;
  record.payload = std::move(msg.payload);
  record.msg_id = msg.msg_id;
  record.created_at_ms = now;
  record.expires_at_ms = msg.ttl_ms != 0 ? now + msg.ttl_ms : 0;
  st.in_flight[msg.msg_id].push_back({promise, false});
  st.unflushed.push_back({std::move(record), now + st.ctx->config.dedupe_ttl_ms});
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

// Writes every queued follow and unfollow as one batch, then answers them and tells the
// relay which users started or stopped following.
void run_follows(topic_actor* self) {
  auto& st = self->state;
  if (st.follow_writing || st.follow_queue.empty()) {
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
        storage::follow f{st.durable, wall_now_ms()};
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
            if (auto relay = topic_relay_of(self->home_system())) {
              for (const auto& [user, o] : *changes) {
                if (o.following) {
                  self->send(relay, followed_atom_v, user, st.topic, o.since_version);
                } else {
                  self->send(relay, unfollowed_atom_v, user, st.topic);
                }
              }
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

sync_page read_page(topic_actor* self, uint64_t after) {
  auto& st = self->state;
  const auto& cfg = st.ctx->config;
  trim_cache(self);
  sync_page page;
  page.topic = st.topic;
  page.head = st.durable;
  if (after == st.durable) {
    return page;  // caught up
  }
  if (!st.cache.empty() && after < st.durable && st.cache.front().version <= after + 1) {
    size_t bytes = 0;
    for (auto i = after + 1 - st.cache.front().version; i < st.cache.size(); ++i) {
      const auto& r = st.cache[i];
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
  if (!page.records.empty()) {
    page.head = std::max(page.head, page.records.back().version);
  }
  return page;
}

caf::result<topic_info> info(topic_actor* self) {
  auto& st = self->state;
  auto answer = std::make_shared<topic_info>();
  answer->topic = st.topic;
  answer->head = st.durable;
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
  bool idle = st.relays.empty() && st.in_flight.empty() && st.unflushed.empty()
              && st.writes_in_flight == 0 && !st.follow_writing && st.follow_queue.empty()
              && st.handled == st.handled_at_last_check;
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
  st.assigned = st.durable = *head;
  st.followers = meta->followers;
  self->set_down_handler([self](caf::down_msg& msg) { self->state.relays.erase(msg.source); });
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
      [self](interest_atom, const std::string&, caf::actor& relay, std::string& node, bool on) {
        auto& st = self->state;
        ++st.handled;
        if (!on) {
          st.relays.erase(relay.address());
          return;
        }
        if (st.relays.count(relay.address()) == 0) {
          self->monitor(relay);
          st.relays.emplace(relay.address(), relay_entry{relay, std::move(node)});
        }
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
