#include "actors/gateway/session.h"

#include <chrono>
#include <optional>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/gateway/session_machine.h"
#include "actors/gateway/session_registry.h"
#include "actors/names.h"
#include "actors/topics/topic_messages.h"
#include "tidegate/v1/error.pb.h"

namespace tidegate::actors {
namespace {

struct session_state {
  static inline const char* name = "tidegate.session";
  gateway_context_ptr ctx;
  client_socket_ptr socket;
  std::optional<session_machine> machine;
  uint64_t tick_at = 0;  // mono ms of the one pending tick, 0 = none
  bool authenticated = false;
};

using session_actor = caf::stateful_actor<session_state>;

session_time now_of(session_actor* self) {
  using namespace std::chrono;
  auto mono = duration_cast<milliseconds>(self->clock().now().time_since_epoch()).count();
  auto wall = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  return {static_cast<uint64_t>(mono), static_cast<uint64_t>(wall)};
}

// Keeps exactly one tick pending, at the machine's next deadline or earlier. A tick that
// fires early (the deadline moved later) just schedules the next one.
void schedule_tick(session_actor* self, session_time now) {
  auto& st = self->state;
  uint64_t deadline = st.machine->next_deadline();
  if (deadline == UINT64_MAX || (st.tick_at != 0 && st.tick_at <= deadline)) {
    return;
  }
  st.tick_at = deadline;
  auto delay = std::chrono::milliseconds(deadline > now.mono_ms ? deadline - now.mono_ms : 0);
  self->delayed_send(self, delay, tick_timer_atom_v, deadline);
}

void apply(session_actor* self, session_effects& fx, session_time now);

// Reads one page for the client and sends it; follows `more` until the bucket is caught up.
void fetch(session_actor* self, sync_fetch what) {
  auto router = sync_router_of(self->home_system());
  if (!router) {
    return;  // SYNC is not running on this node
  }
  auto asked = what;
  self->request(router, std::chrono::seconds(10), sync_atom_v, what.bucket, what.owner,
                self->state.machine->device_id(), what.after, what.first)
      .then(
          [self, asked](sync_page& page) {
            auto now = now_of(self);
            session_effects fx;
            self->state.machine->on_fetched(asked, page, now, fx);
            apply(self, fx, now);
          },
          [self, asked](caf::error&) {
            auto now = now_of(self);
            session_effects fx;
            self->state.machine->on_fetch_failed(asked, now, fx);
            apply(self, fx, now);
          });
}

// Reads one page of a followed topic's log for the client.
void fetch_topic(session_actor* self, topic_fetch what) {
  auto directory = topic_directory_of(self->home_system());
  if (!directory) {
    self->state.machine->on_topic_fetch_failed(what, now_of(self));
    return;
  }
  auto asked = what;
  self->request(directory, std::chrono::seconds(10), topic_page_atom_v, what.topic, what.after)
      .then(
          [self, asked](sync_page& page) {
            auto now = now_of(self);
            session_effects fx;
            self->state.machine->on_topic_fetched(asked, page, now, fx);
            apply(self, fx, now);
          },
          [self, asked](caf::error&) {
            auto now = now_of(self);
            self->state.machine->on_topic_fetch_failed(asked, now);
            session_effects fx;
            apply(self, fx, now);  // schedules the tick of the retry
          });
}

// Sends the client's FOLLOW or UNFOLLOW to the topic; the answer becomes a FOLLOW_RESULT.
void follow(session_actor* self, follow_request what) {
  auto answer = [self, what](const follow_outcome& outcome, uint32_t code,
                             const std::string& error) {
    auto now = now_of(self);
    session_effects fx;
    self->state.machine->on_follow_result(what, outcome, code, error, now, fx);
    apply(self, fx, now);
  };
  auto directory = topic_directory_of(self->home_system());
  if (!directory) {
    answer({}, v1::ERROR_CODE_NOT_DURABLE, "topics are not served by this node");
    return;
  }
  std::vector<std::string> users{self->state.machine->user_id()};
  auto request = what.follow ? self->request(directory, std::chrono::seconds(10), follow_atom_v,
                                             what.topic, std::move(users))
                             : self->request(directory, std::chrono::seconds(10), unfollow_atom_v,
                                             what.topic, std::move(users));
  request.then(
      [answer](follow_outcomes& outcomes) {
        answer(outcomes.empty() ? follow_outcome{} : outcomes.front(), 0, "");
      },
      [self, answer](caf::error& err) {
        answer({}, v1::ERROR_CODE_NOT_DURABLE, self->home_system().render(err));
      });
}

void apply(session_actor* self, session_effects& fx, session_time now) {
  auto& st = self->state;
  auto& m = st.ctx->metrics;
  m.frames_in.fetch_add(fx.frames_in, gateway_metrics::relaxed);
  m.frames_out.fetch_add(fx.frames_out, gateway_metrics::relaxed);
  if (fx.protocol_error) {
    m.protocol_error(*fx.protocol_error);
  }
  if (fx.authenticated) {
    st.authenticated = true;
    m.handshakes.fetch_add(1, gateway_metrics::relaxed);
    m.authenticated.fetch_add(1, gateway_metrics::relaxed);
  }
  if (fx.hello_accepted) {
    if (auto registry = session_registry_of(self->home_system())) {
      self->send(registry, hello_atom_v, st.machine->device_id(), st.machine->app_id());
    }
    if (auto relay = topic_relay_of(self->home_system())) {
      self->send(relay, hello_atom_v, st.machine->app_id(), st.machine->active());
    }
  }
  if (fx.authenticated) {
    if (auto registry = session_registry_of(self->home_system())) {
      self->send(registry, login_atom_v, st.machine->user_id());
    }
    if (auto relay = topic_relay_of(self->home_system())) {
      self->request(relay, std::chrono::seconds(10), login_atom_v, st.machine->user_id())
          .then(
              [self](followed_topics& topics) {
                auto now = now_of(self);
                session_effects more;
                self->state.machine->on_follows(topics, now, more);
                apply(self, more, now);
              },
              [](caf::error&) {
                // No topics on this connection: the relay is restarting. The client's next
                // connection registers again.
              });
    }
  }
  if (fx.active) {
    if (auto relay = topic_relay_of(self->home_system())) {
      self->send(relay, app_state_atom_v, *fx.active);
    }
  }
  for (auto& what : fx.topic_fetches) {
    fetch_topic(self, std::move(what));
  }
  for (auto& what : fx.follow_requests) {
    follow(self, std::move(what));
  }
  for (auto& what : fx.fetches) {
    fetch(self, std::move(what));
  }
  if (!fx.sync_acks.empty() || !fx.pushed.empty()) {
    if (auto router = sync_router_of(self->home_system())) {
      const auto& device = st.machine->device_id();
      for (auto& ack : fx.sync_acks) {
        self->send(router, sync_ack_atom_v, ack.bucket, ack.owner, device, ack.after);
      }
      for (auto& p : fx.pushed) {
        self->send(router, delivered_atom_v, p.bucket, p.owner, device, p.first, p.last);
      }
    }
  }
  if (fx.goodbye) {
    st.socket->said_goodbye(caf::make_error(*fx.goodbye));  // before the GOAWAY can be read
  }
  if (!fx.out.empty()) {
    st.ctx->metrics.bytes_out.fetch_add(fx.out.size(), gateway_metrics::relaxed);
    st.socket->send(fx.out);
  }
  if (fx.close) {
    // The socket writes what was sent before, then closes; the connection ends with this
    // reason (the first one given), and so does this actor.
    auto reason = caf::make_error(*fx.close);
    st.socket->close(reason);
    self->quit(std::move(reason));
    return;
  }
  schedule_tick(self, now);
}

caf::behavior session(session_actor* self, client_socket_ptr socket, gateway_context_ptr ctx) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.socket = std::move(socket);
  auto now = now_of(self);
  st.machine.emplace(*st.ctx, st.ctx->next_session.fetch_add(1), now);
  self->attach_functor([ctx = st.ctx, authenticated = &st.authenticated,
                        socket = st.socket](const caf::error& reason) {
    if (*authenticated) {  // state is still alive while attached functors run
      ctx->metrics.authenticated.fetch_sub(1, gateway_metrics::relaxed);
    }
    socket->close(reason);  // a no-op if it is closed or closing already
  });
  schedule_tick(self, now);
  return {
      [self](inbound_atom, const std::string& bytes) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_bytes(bytes.data(), bytes.size(), now, fx);
        apply(self, fx, now);
      },
      [self](tick_timer_atom, uint64_t at) {
        if (at != self->state.tick_at) {
          return;  // superseded by an earlier tick
        }
        self->state.tick_at = 0;
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_tick(now, fx);
        apply(self, fx, now);
      },
      [self](replaced_atom) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_replaced(now, fx);
        apply(self, fx, now);
      },
      [self](goaway_atom, uint32_t reconnect_after_ms) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_drain(now, reconnect_after_ms, fx);
        apply(self, fx, now);
      },
      [self](topic_data_atom, const topic_batch_ptr& batch) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_topic_batch(*batch, now, fx);
        apply(self, fx, now);
      },
      [self](notice_atom, const std::string& topic, uint64_t head) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_topic_notice(topic, head, now, fx);
        apply(self, fx, now);
      },
      [self](head_atom, const std::string& topic, uint64_t head) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_topic_head(topic, head, now, fx);
        apply(self, fx, now);
      },
      [self](followed_atom, const std::string& topic, uint64_t since) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_followed(topic, since, now, fx);
        apply(self, fx, now);
      },
      [self](unfollowed_atom, const std::string& topic) {
        self->state.machine->on_unfollowed(topic);
      },
      [self](deliver_atom, const sync_page& page) {
        auto now = now_of(self);
        session_effects fx;
        self->state.machine->on_sync_page(page, now, fx);
        apply(self, fx, now);
      },
      [self](caf::get_atom) {
        const auto& m = *self->state.machine;
        return caf::make_message(m.session_id(), m.device_id(), m.user_id());
      },
  };
}

}  // namespace

caf::actor spawn_session(caf::actor_system& sys, client_socket_ptr socket,
                         gateway_context_ptr ctx) {
  return sys.spawn(session, std::move(socket), std::move(ctx));
}

}  // namespace tidegate::actors
