#include "actors/topics/topic_relay.h"

#include <chrono>
#include <iostream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_messages.h"
#include "actors/topics/follow_index.h"
#include "actors/topics/topic_messages.h"

namespace tidegate::actors {
namespace {

// A topic's online followers on this node.
struct topic_followers {
  // Foreground sessions: a vector to fan out over, with each one's index for O(1) removal.
  std::vector<caf::actor> active;
  std::unordered_map<caf::actor_addr, size_t> active_index;
  // Background sessions -> whether they were told the topic moved since they went passive.
  std::unordered_map<caf::actor_addr, bool> passive;
  // Fan-out coalescing (topics.fanout_linger_ms): when the last fan-out started, and the
  // batches that committed since, in version order, waiting for the linger timer.
  uint64_t last_fanout_ms = 0;
  std::vector<topic_batch_ptr> held;
  bool linger_armed = false;
  // The topic's actor this relay registered with (on the primary of the topic's shard), which
  // it monitors; invalid until it answered.
  caf::actor source;

  size_t size() const { return active.size() + passive.size(); }

  void add(const caf::actor& session, bool is_active) {
    auto addr = session.address();
    if (active_index.count(addr) != 0 || passive.count(addr) != 0) {
      return;
    }
    if (is_active) {
      active_index.emplace(addr, active.size());
      active.push_back(session);
    } else {
      passive.emplace(addr, false);
    }
  }

  void remove(const caf::actor_addr& addr) {
    passive.erase(addr);
    auto i = active_index.find(addr);
    if (i == active_index.end()) {
      return;
    }
    auto pos = i->second;
    active_index.erase(i);
    if (pos + 1 != active.size()) {
      active[pos] = std::move(active.back());
      active_index[active[pos].address()] = pos;
    }
    active.pop_back();
  }
};

struct session_entry {
  caf::actor session;
  std::string app;
  std::string user;
  bool active = true;
  std::unordered_set<std::string> topics;
};

struct relay_state {
  static inline const char* name = "tidegate.topic_relay";
  sync_context_ptr ctx;
  std::string node;
  std::unordered_map<caf::actor_addr, session_entry> sessions;
  std::unordered_map<std::string, std::unordered_set<caf::actor_addr>> by_user;
  std::unordered_map<std::string, std::unordered_set<caf::actor_addr>> by_app;
  std::unordered_map<std::string, topic_followers> topics;
  // Topic actors registered with -> their topics here (one actor serves one topic).
  std::unordered_map<caf::actor_addr, std::string> sources;
};

using relay_actor = caf::stateful_actor<relay_state>;

// A relay that could not register with a topic (its primary unreachable, a failover under
// way) tries again this often while the topic has followers here.
constexpr auto register_retry = std::chrono::milliseconds(500);

void tell_head(relay_actor* self, const std::string& topic, uint64_t head);

// Registers this relay's interest in `topic` with the topic's actor (through the directory,
// which finds its primary), or withdraws it. Registered, the relay monitors that actor: when
// it goes (its node died, the shard moved), the relay registers with the next one.
void interest(relay_actor* self, const std::string& topic, bool on) {
  auto directory = topic_directory_of(self->home_system());
  if (!directory) {
    return;
  }
  auto request = self->request(directory, std::chrono::seconds(10), interest_atom_v, topic,
                               caf::actor_cast<caf::actor>(self), self->state.node, on);
  if (!on) {
    request.then([](const caf::actor&, uint64_t) {}, [](caf::error&) {});
    return;
  }
  request.then(
      [self, topic](const caf::actor& source, uint64_t head) {
        auto& st = self->state;
        auto i = st.topics.find(topic);
        if (i == st.topics.end() || !source) {
          return;  // no follower left here meanwhile (the withdrawal went after this)
        }
        if (i->second.source.address() != source.address()) {
          if (i->second.source) {
            st.sources.erase(i->second.source.address());
          }
          i->second.source = source;
          st.sources[source.address()] = topic;
          self->monitor(source);
        }
        tell_head(self, topic, head);
      },
      [self, topic](caf::error&) {
        if (self->state.topics.count(topic) != 0) {
          self->delayed_send(self, register_retry, interest_atom_v, topic);
        }
      });
}

// Tells the topic's sessions here where the topic is after a (new) registration, so that they
// read what the live stream missed while no primary sent it.
void tell_head(relay_actor* self, const std::string& topic, uint64_t head) {
  auto i = self->state.topics.find(topic);
  if (i == self->state.topics.end()) {
    return;
  }
  for (const auto& session : i->second.active) {
    self->send(session, head_atom_v, topic, head);
  }
  for (auto& [addr, notified] : i->second.passive) {
    self->send(caf::actor_cast<caf::actor>(addr), head_atom_v, topic, head);
  }
}

// The topic actor `addr` is gone: its topics here register with the next one.
bool on_source_down(relay_actor* self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto i = st.sources.find(addr);
  if (i == st.sources.end()) {
    return false;
  }
  auto topic = std::move(i->second);
  st.sources.erase(i);
  auto t = st.topics.find(topic);
  if (t != st.topics.end() && t->second.source.address() == addr) {
    t->second.source = nullptr;
    interest(self, topic, true);
  }
  return true;
}

void subscribe(relay_actor* self, session_entry& s, const std::string& topic) {
  auto& st = self->state;
  auto [i, fresh] = st.topics.try_emplace(topic);
  i->second.add(s.session, s.active);
  s.topics.insert(topic);
  if (fresh) {
    interest(self, topic, true);
  }
}

void unsubscribe(relay_actor* self, const caf::actor_addr& addr, const std::string& topic) {
  auto& st = self->state;
  auto i = st.topics.find(topic);
  if (i == st.topics.end()) {
    return;
  }
  i->second.remove(addr);
  if (i->second.size() == 0) {
    if (i->second.source) {
      st.sources.erase(i->second.source.address());
      self->demonitor(i->second.source);
    }
    st.topics.erase(i);
    interest(self, topic, false);
  }
}

void forget_session(relay_actor* self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto i = st.sessions.find(addr);
  if (i == st.sessions.end()) {
    return;
  }
  for (const auto& topic : i->second.topics) {
    unsubscribe(self, addr, topic);
  }
  auto drop = [&](auto& index, const std::string& key) {
    auto j = index.find(key);
    if (j != index.end()) {
      j->second.erase(addr);
      if (j->second.empty()) {
        index.erase(j);
      }
    }
  };
  drop(st.by_user, i->second.user);
  drop(st.by_app, i->second.app);
  st.sessions.erase(i);
}

uint64_t mono_ms(relay_actor* self) {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<milliseconds>(self->clock().now().time_since_epoch()).count());
}

// Sends `batch` to the topic's followers here: foreground sessions get it, background ones
// one notice each until they come back.
void deliver(relay_actor* self, topic_followers& f, const topic_batch_ptr& batch) {
  f.last_fanout_ms = mono_ms(self);
  for (const auto& session : f.active) {
    self->send(session, topic_data_atom_v, batch);
  }
  for (auto& [addr, notified] : f.passive) {
    if (!notified) {
      notified = true;
      self->send(caf::actor_cast<caf::actor>(addr), notice_atom_v, batch->topic, batch->head);
    }
  }
}

// Delivers what `f` holds (consecutive commits of one topic, oldest first) as one batch.
void deliver_held(relay_actor* self, topic_followers& f) {
  if (f.held.empty()) {
    return;
  }
  auto batch = f.held.front();
  if (f.held.size() > 1) {
    auto merged = std::make_shared<topic_batch>();
    merged->topic = batch->topic;
    for (const auto& b : f.held) {
      merged->records.insert(merged->records.end(), b->records.begin(), b->records.end());
    }
    merged->head = f.held.back()->head;
    batch = std::move(merged);
  }
  f.held.clear();
  deliver(self, f, batch);
}

// A commit of a topic. A big topic (fanout_linger_followers foreground followers or more) is
// fanned out at most once per fanout_linger_ms: with S followers every fan-out costs S
// messages and S socket writes however few messages it carries, so at a high publish rate
// coalescing commits is what keeps the delivery latency bounded. The first commit after a
// quiet spell goes out at once; a later one waits at most the linger.
void fan_out(relay_actor* self, const topic_batch_ptr& batch) {
  auto& st = self->state;
  auto i = st.topics.find(batch->topic);
  if (i == st.topics.end()) {
    return;  // the last follower left while this was on its way
  }
  auto& f = i->second;
  const auto& cfg = st.ctx->config.topics;
  auto now = mono_ms(self);
  f.held.push_back(batch);  // behind what is held already: the order stays
  if (cfg.fanout_linger_ms == 0 || f.active.size() < cfg.fanout_linger_followers
      || (f.held.size() == 1 && now >= f.last_fanout_ms + cfg.fanout_linger_ms)) {
    deliver_held(self, f);
    return;
  }
  if (!f.linger_armed) {
    f.linger_armed = true;
    auto due = f.last_fanout_ms + cfg.fanout_linger_ms;
    self->delayed_send(self, std::chrono::milliseconds(due > now ? due - now : 0), linger_atom_v,
                       batch->topic);
  }
}

void end_linger(relay_actor* self, const std::string& topic) {
  auto i = self->state.topics.find(topic);
  if (i == self->state.topics.end()) {
    return;  // no follower left here: nothing to deliver
  }
  i->second.linger_armed = false;
  deliver_held(self, i->second);
}

// The session's user's topics: each registers the session with the topic here.
followed_topics subscribe_all(relay_actor* self, const caf::actor_addr& addr,
                              followed_topics follows) {
  auto s = self->state.sessions.find(addr);
  if (s == self->state.sessions.end()) {
    return {};  // the session ended meanwhile
  }
  for (const auto& [topic, since] : follows) {
    subscribe(self, s->second, topic);
  }
  return follows;
}

// A session's user logged in: the relay reads the user's follows (from this node's store, or
// in a cluster from the primary of the user's shard, through the topic directory) and
// registers the session with each topic.
caf::result<followed_topics> login(relay_actor* self, const std::string& user) {
  auto& st = self->state;
  auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto s = st.sessions.find(addr);
  if (s == st.sessions.end() || user.empty()) {
    return followed_topics{};
  }
  s->second.user = user;
  st.by_user[user].insert(addr);
  if (st.ctx->route) {
    auto directory = topic_directory_of(self->home_system());
    if (!directory) {
      return followed_topics{};
    }
    auto promise = self->make_response_promise<followed_topics>();
    self->request(directory, std::chrono::seconds(10), follows_of_atom_v, user)
        .then(
            [self, addr, promise](followed_topics& follows) mutable {
              promise.deliver(subscribe_all(self, addr, std::move(follows)));
            },
            [promise](caf::error& err) mutable {
              // The session gets no topics on this connection; the client's next connect
              // tries again.
              std::cerr << "tidegate: relay: follows of a user: " << to_string(err) << "\n";
              promise.deliver(followed_topics{});
            });
    return promise;
  }
  auto follows = read_follows(*st.ctx, user);
  if (!follows) {
    std::cerr << "tidegate: relay: follows of a user: " << to_string(follows.error()) << "\n";
    return followed_topics{};
  }
  return subscribe_all(self, addr, std::move(*follows));
}

void set_active(relay_actor* self, bool active) {
  auto& st = self->state;
  auto addr = caf::actor_cast<caf::actor_addr>(self->current_sender());
  auto s = st.sessions.find(addr);
  if (s == st.sessions.end() || s->second.active == active) {
    return;
  }
  s->second.active = active;
  for (const auto& topic : s->second.topics) {
    auto t = st.topics.find(topic);
    if (t != st.topics.end()) {
      t->second.remove(addr);
      t->second.add(s->second.session, active);
    }
  }
}

// `user` follows `topic` now (since `since`), or no longer: its sessions here follow suit.
void on_follow_change(relay_actor* self, const std::string& user, const std::string& topic,
                      bool following, uint64_t since) {
  auto& st = self->state;
  auto u = st.by_user.find(user);
  if (u == st.by_user.end()) {
    return;
  }
  for (const auto& addr : u->second) {
    auto found = st.sessions.find(addr);
    if (found == st.sessions.end()) {
      continue;  // by_user and sessions change together; never expected
    }
    auto& s = found->second;
    if (following) {
      subscribe(self, s, topic);
      self->send(s.session, followed_atom_v, topic, since);
    } else {
      s.topics.erase(topic);
      unsubscribe(self, addr, topic);
      self->send(s.session, unfollowed_atom_v, topic);
    }
  }
}

caf::behavior topic_relay(relay_actor* self, sync_context_ptr ctx, std::string node) {
  self->state.ctx = std::move(ctx);
  self->state.node = std::move(node);
  unname_on_exit(self, topic_relay_name);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (!on_source_down(self, msg.source)) {
      forget_session(self, msg.source);
    }
  });
  return {
      [self](hello_atom, std::string& app, bool active) {
        auto& st = self->state;
        auto session = caf::actor_cast<caf::actor>(self->current_sender());
        if (!session || st.sessions.count(session.address()) != 0) {
          return;
        }
        self->monitor(session);
        st.by_app[app].insert(session.address());
        st.sessions.emplace(session.address(),
                            session_entry{session, std::move(app), {}, active, {}});
      },
      [self](login_atom, const std::string& user) { return login(self, user); },
      [self](app_state_atom, bool active) { set_active(self, active); },
      [self](topic_data_atom, const topic_batch_ptr& batch) { fan_out(self, batch); },
      [self](topic_data_atom, topic_records& from_peer) {
        // A topic whose primary is another member: the batch is made here once and shared.
        auto batch = std::make_shared<topic_batch>();
        batch->topic = std::move(from_peer.topic);
        batch->records = std::move(from_peer.records);
        batch->head = from_peer.head;
        fan_out(self, std::move(batch));
      },
      [self](interest_atom, const std::string& topic) {
        // A registration retry: still wanted only while the topic has followers here and no
        // source.
        auto i = self->state.topics.find(topic);
        if (i != self->state.topics.end() && !i->second.source) {
          interest(self, topic, true);
        }
      },
      [self](linger_atom, const std::string& topic) { end_linger(self, topic); },
      [self](followed_atom, const std::string& user, const std::string& topic, uint64_t since) {
        on_follow_change(self, user, topic, true, since);
      },
      [self](unfollowed_atom, const std::string& user, const std::string& topic) {
        on_follow_change(self, user, topic, false, 0);
      },
      [self](count_atom, const std::string& topic) {
        auto i = self->state.topics.find(topic);
        return static_cast<uint64_t>(i == self->state.topics.end() ? 0 : i->second.size());
      },
      [self](deliver_atom, uint8_t, const std::string& app, const sync_page& page) {
        // A `global` op: every online client of the app; each session marks the op skipped
        // for a client its filters exclude.
        auto i = self->state.by_app.find(app);
        if (i == self->state.by_app.end()) {
          return;
        }
        for (const auto& addr : i->second) {
          self->send(caf::actor_cast<caf::actor>(addr), deliver_atom_v, page);
        }
      },
  };
}

}  // namespace

caf::actor spawn_topic_relay(caf::actor_system& sys, sync_context_ptr ctx, std::string node) {
  return name_actor(sys, topic_relay_name, sys.spawn(topic_relay, std::move(ctx), std::move(node)));
}

}  // namespace tidegate::actors
