#include "actors/topics/topic_directory.h"

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/held_requests.h"
#include "actors/sync/pending_calls.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "actors/topics/follow_index.h"
#include "actors/topics/topic_actor.h"
#include "actors/topics/topic_messages.h"

namespace tidegate::actors {
namespace {

struct active_topic {
  caf::actor actor;
  uint64_t forwarded = 0;  // messages sent to it, compared with what it handled on passivation
};

struct directory_state {
  static inline const char* name = "tidegate.topic_directory";
  sync_context_ptr ctx;
  std::unordered_map<std::string, active_topic> topics;
  std::unordered_map<caf::actor_addr, std::string> by_actor;
  // Every topic actor alive, for the exit functor (which runs after the state is gone).
  std::shared_ptr<std::vector<caf::actor>> spawned = std::make_shared<std::vector<caf::actor>>();
  held_requests held;         // requests of shards sealed for a hand-off
  pending_calls calls;        // requests forwarded to other members' directories
  pending_calls replication;  // follow index writes sent to the users' shards' replicas
};

using directory_actor = caf::stateful_actor<directory_state>;

// The actor of `topic`, spawned on first use; counts the message about to be forwarded.
caf::expected<caf::actor> topic_for(directory_actor* self, const std::string& topic) {
  if (!is_topic_name(topic)) {
    return caf::make_error(sync_errc::bad_topic, "bad topic name");
  }
  auto& st = self->state;
  auto i = st.topics.find(topic);
  if (i == st.topics.end()) {
    auto actor = spawn_topic(self->home_system(), st.ctx, caf::actor_cast<caf::actor>(self), topic);
    self->monitor(actor);
    st.by_actor.emplace(actor.address(), topic);
    st.spawned->push_back(actor);
    i = st.topics.emplace(topic, active_topic{actor, 0}).first;
  }
  ++i->second.forwarded;
  return i->second.actor;
}

void forget(directory_actor* self, const caf::actor_addr& addr) {
  auto& st = self->state;
  auto i = st.by_actor.find(addr);
  if (i == st.by_actor.end()) {
    return;
  }
  auto t = st.topics.find(i->second);
  if (t != st.topics.end() && t->second.actor.address() == addr) {
    st.topics.erase(t);
  }
  st.by_actor.erase(i);
  auto& spawned = *st.spawned;
  spawned.erase(std::remove_if(spawned.begin(), spawned.end(),
                               [&](const caf::actor& a) { return a.address() == addr; }),
                spawned.end());
}

// The route of `key`'s shard for the current message: a request another member forwarded is
// not forwarded again (route_request()).
shard_route route_of(directory_actor* self, const std::string& key) {
  const auto& ctx = *self->state.ctx;
  const auto& sender = self->current_sender();
  return route_request(ctx, shard_of(key, ctx.config.shards),
                       sender && sender->node() != self->node());
}

// Serves the current message for the shard of `key`: `serve_here()` when this node is the
// primary, else forwards (xs...) to the primary's directory, whose answer (of type
// Answer...) goes to the sender; held while the shard is sealed for a hand-off. `whose` names
// the key in errors.
template <class... Answer, class ServeHere, class... Ts>
caf::result<caf::message> serve_or_forward(directory_actor* self, const std::string& key,
                                           const std::string& whose, ServeHere serve_here,
                                           Ts&&... xs) {
  auto route = route_of(self, key);
  switch (route.at) {
    case shard_route::where::unavailable:
      return caf::make_error(sync_errc::shard_unavailable, route.why);
    case shard_route::where::sealed:
      return self->state.held.hold(self, route.shard);
    case shard_route::where::remote:
      if (!route.topics) {
        return caf::make_error(sync_errc::shard_unavailable,
                               "the primary of " + whose + " serves no topics");
      }
      return self->state.calls.forward<Answer...>(self, route.topics, route.shard,
                                                  std::forward<Ts>(xs)...);
    case shard_route::where::local:
      break;
  }
  return serve_here();
}

// Forwards the current message (xs...) to the actor of `topic`, here or on the primary's
// member (serve_or_forward).
template <class... Answer, class... Ts>
caf::result<caf::message> forward(directory_actor* self, const std::string& topic, Ts&&... xs) {
  if (!is_topic_name(topic)) {
    return caf::make_error(sync_errc::bad_topic, "bad topic name");
  }
  auto here = [&]() -> caf::result<caf::message> {
    auto actor = topic_for(self, topic);
    if (!actor) {
      return actor.error();
    }
    return self->delegate(*actor, xs...);
  };
  return serve_or_forward<Answer...>(self, topic, "topic " + topic, here, std::forward<Ts>(xs)...);
}

// Fails the calls to other members' directories that the shard map no longer names.
void sweep_calls(directory_actor* self) {
  self->state.calls.sweep(self, routed_to(self->state.ctx->route, &shard_route::topics));
  self->state.replication.sweep(self, replica_still_named(self->state.ctx));
}

// The topics `user` follows, read here when this node is the primary of the user's shard,
// else by the primary's directory.
caf::result<caf::message> follows_of(directory_actor* self, const std::string& user) {
  auto here = [&]() -> caf::result<caf::message> {
    auto follows = read_follows(*self->state.ctx, user);
    if (!follows) {
      return std::move(follows.error());
    }
    return caf::make_message(std::move(*follows));
  };
  return serve_or_forward<followed_topics>(self, user, "the user", here, follows_of_atom_v, user);
}

// A topic's follow change for users whose shards this node is the primary of (the topic
// actor split its users by primary).
caf::result<follow_outcomes> write_user_follows(directory_actor* self, const std::string& topic,
                                                uint64_t since, bool follow,
                                                const std::vector<std::string>& users) {
  for (const auto& user : users) {
    auto route = route_of(self, user);
    if (route.at == shard_route::where::sealed) {
      return self->state.held.hold(self, route.shard);  // replayed here or to the new primary
    }
    if (route.at != shard_route::where::local) {
      return caf::make_error(sync_errc::shard_unavailable,
                             route.why.empty() ? "the user's shard moved" : route.why);
    }
  }
  auto promise = self->make_response_promise<follow_outcomes>();
  write_follows(self, self->state.replication, self->state.ctx, topic, since, follow, users,
                [promise](caf::expected<follow_outcomes> outcomes) mutable {
                  if (outcomes) {
                    promise.deliver(std::move(*outcomes));
                  } else {
                    promise.deliver(std::move(outcomes.error()));
                  }
                });
  return promise;
}

caf::behavior topic_directory(directory_actor* self, sync_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, topic_directory_name);
  // A topic that stopped (passivated or crashed) is spawned again on next use, from storage.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto lost = caf::make_error(sync_errc::shard_unavailable,
                                "the link to the shard's primary dropped before it answered;"
                                " it may have been applied: retry");
    if (!self->state.calls.on_down(msg, lost)
        && !self->state.replication.on_down(msg, replica_lost())) {
      forget(self, msg.source);
    }
  });
  self->attach_functor([spawned = self->state.spawned](const caf::error&) {
    for (auto& t : *spawned) {
      caf::anon_send_exit(t, caf::exit_reason::kill);  // everything they keep is in storage
    }
  });
  return {
      [self](publish_atom, topic_publish& msg) {
        auto topic = msg.topic;
        return forward<publish_result>(self, topic, publish_atom_v, std::move(msg));
      },
      [self](follow_atom, std::string& topic, std::vector<std::string>& users) {
        return forward<follow_outcomes>(self, topic, follow_atom_v, topic, std::move(users));
      },
      [self](unfollow_atom, std::string& topic, std::vector<std::string>& users) {
        return forward<follow_outcomes>(self, topic, unfollow_atom_v, topic, std::move(users));
      },
      [self](topic_page_atom, std::string& topic, uint64_t after) {
        return forward<sync_page>(self, topic, topic_page_atom_v, topic, after);
      },
      [self](interest_atom, std::string& topic, caf::actor& relay, std::string& node, bool on) {
        return forward<caf::actor, uint64_t>(self, topic, interest_atom_v, topic, std::move(relay),
                                             std::move(node), on);
      },
      [self](info_atom, std::string& topic) {
        return forward<topic_info>(self, topic, info_atom_v, topic);
      },
      [self](count_atom) { return static_cast<uint64_t>(self->state.topics.size()); },
      [self](replay_atom) { self->state.held.replay(self, self->state.ctx->route); },
      [self](map_changed_atom) {
        sweep_calls(self);
        for (auto& [name, t] : self->state.topics) {
          self->send(t.actor, map_changed_atom_v);
        }
      },
      [self](sweep_atom) { sweep_calls(self); },
      [self](follows_of_atom, const std::string& user) { return follows_of(self, user); },
      [self](follow_index_atom, const std::string& topic, uint64_t since, bool follow,
             const std::vector<std::string>& users) {
        return write_user_follows(self, topic, since, follow, users);
      },
      [self](reload_atom, sync_context_ptr& ctx) {
        // Cache sizes, limits and passivation from now on; topics keep their logs.
        self->state.ctx = ctx;
        for (auto& [name, t] : self->state.topics) {
          self->send(t.actor, reload_atom_v, ctx);
        }
      },
      [self](passivate_atom, const std::string& topic, uint64_t handled) {
        auto& st = self->state;
        auto i = st.topics.find(topic);
        auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
        if (i == st.topics.end() || i->second.actor.address() != sender
            || i->second.forwarded != handled) {
          return false;  // something is on its way to it: it stays
        }
        st.topics.erase(i);  // the next message for the topic spawns a new actor
        return true;
      },
  };
}

}  // namespace

caf::actor spawn_topic_directory(caf::actor_system& sys, sync_context_ptr ctx) {
  return name_actor(sys, topic_directory_name, sys.spawn(topic_directory, std::move(ctx)));
}

}  // namespace tidegate::actors
