#include "actors/gateway/session_registry.h"

#include <chrono>
#include <optional>
#include <unordered_map>

#include <caf/actor_registry.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/gateway/gateway_context.h"
#include "actors/names.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

constexpr caf::atom_value registry_name = session_registry_name;

struct registry_state {
  static inline const char* name = "tidegate.session_registry";
  gateway_context_ptr ctx;
  struct session_info {
    std::string device;
    std::string app;
  };
  std::unordered_map<caf::actor_addr, session_info> sessions;  // every session past HELLO
  std::unordered_map<std::string, caf::actor> devices;         // device -> newest session
  std::unordered_map<caf::actor_addr, std::string> users;      // session -> user
  std::unordered_multimap<std::string, caf::actor> by_user;    // user -> sessions
  std::optional<caf::response_promise> drained;
  uint64_t drain_count = 0;
};

using registry_actor = caf::stateful_actor<registry_state>;

// Sends `page`, new ops of `owner`, to its online sessions here (by user or by device).
void deliver(registry_actor* self, uint8_t kind, const std::string& owner, const sync_page& page) {
  auto& st = self->state;
  switch (static_cast<bucket_kind>(kind)) {
    case bucket_kind::device:
    case bucket_kind::once_device:
      if (auto d = st.devices.find(owner); d != st.devices.end()) {
        self->send(d->second, deliver_atom_v, page);
      }
      return;
    case bucket_kind::global:
      return;  // the topic relay delivers these (read diffusion)
    default: {
      auto range = st.by_user.equal_range(owner);
      for (auto s = range.first; s != range.second; ++s) {
        self->send(s->second, deliver_atom_v, page);
      }
    }
  }
}

void forget(registry_actor* self, const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.sessions.find(who);
  if (i == st.sessions.end()) {
    return;
  }
  if (!i->second.device.empty()) {
    auto d = st.devices.find(i->second.device);
    if (d != st.devices.end() && d->second.address() == who) {
      st.devices.erase(d);
    }
  }
  st.sessions.erase(i);
  if (auto u = st.users.find(who); u != st.users.end()) {
    auto range = st.by_user.equal_range(u->second);
    for (auto s = range.first; s != range.second; ++s) {
      if (s->second.address() == who) {
        st.by_user.erase(s);
        break;
      }
    }
    st.users.erase(u);
  }
  if (st.drained && st.sessions.empty()) {
    st.drained->deliver(st.drain_count);
    st.drained.reset();
  }
}

// (CAF 0.17.6 dereferences a null argument tuple when a function actor takes no arguments,
// which UBSan reports; every function actor here takes at least one.)
caf::behavior session_registry(registry_actor* self, gateway_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, registry_name);
  self->set_down_handler([self](caf::down_msg& msg) { forget(self, msg.source); });
  return {
      [self](hello_atom, const std::string& device, const std::string& app) {
        auto& st = self->state;
        auto session = caf::actor_cast<caf::actor>(self->current_sender());
        if (!session) {
          return;
        }
        auto i = st.sessions.find(session.address());
        if (i == st.sessions.end()) {
          self->monitor(session);
          i = st.sessions.emplace(session.address(), registry_state::session_info{}).first;
          if (st.drained) {  // arrived during a drain: it leaves like the others
            ++st.drain_count;
            self->send(session, goaway_atom_v, uint32_t{0});
          }
        }
        i->second = {device, app};
        auto& current = st.devices[device];
        if (current && current != session) {
          self->send(current, replaced_atom_v);
        }
        current = session;
      },
      [self](drain_atom, uint32_t window_ms) -> caf::result<uint64_t> {
        auto& st = self->state;
        st.drain_count = st.sessions.size();
        if (st.sessions.empty()) {
          return uint64_t{0};
        }
        auto step = std::chrono::microseconds(uint64_t{window_ms} * 1000 / st.sessions.size());
        auto delay = std::chrono::microseconds(0);
        for (auto& [addr, info] : st.sessions) {
          auto session = caf::actor_cast<caf::actor>(addr);
          // The GOAWAYs themselves are spread, so reconnects are too: no extra wait is asked
          // for beyond the client's own jitter.
          self->delayed_send(session, delay, goaway_atom_v, uint32_t{0});
          delay += step;
        }
        st.drained = self->make_response_promise();
        return *st.drained;
      },
      [self](zone_atom, uint32_t window_ms) -> uint64_t {
        // The zone rules changed: sessions whose user now belongs to another zone get GOAWAY,
        // spread over the window; the login of their reconnect here is redirected to the
        // home zone (gateway_context::zone_redirect), one there goes through.
        auto& st = self->state;
        if (!st.ctx->zone_redirect) {
          return 0;
        }
        std::vector<caf::actor> moving;
        for (const auto& [addr, user] : st.users) {
          if (!st.ctx->zone_redirect(user).empty()) {
            moving.push_back(caf::actor_cast<caf::actor>(addr));
          }
        }
        if (moving.empty()) {
          return 0;
        }
        auto step = std::chrono::microseconds(uint64_t{window_ms} * 1000 / moving.size());
        auto delay = std::chrono::microseconds(0);
        for (const auto& session : moving) {
          self->delayed_send(session, delay, goaway_atom_v, uint32_t{0});
          delay += step;
        }
        return moving.size();
      },
      [self](login_atom, const std::string& user) {
        auto& st = self->state;
        auto session = caf::actor_cast<caf::actor>(self->current_sender());
        if (!session || st.sessions.count(session.address()) == 0) {
          return;  // said hello to a registry that has since restarted: not tracked
        }
        if (st.users.emplace(session.address(), user).second) {
          st.by_user.emplace(user, session);
        }
      },
      [self](deliver_atom, uint8_t kind, const std::string& owner, const sync_page& page) {
        deliver(self, kind, owner, page);
      },
      [self](deliver_atom, const owner_deliveries& batch) {
        for (const auto& d : batch.items) {
          deliver(self, d.kind, d.owner, d.page);
        }
      },
      [self](count_atom) { return static_cast<uint64_t>(self->state.sessions.size()); },
      [self](caf::get_atom, const std::string& device) -> caf::result<caf::actor> {
        auto i = self->state.devices.find(device);
        if (i == self->state.devices.end()) {
          return caf::make_error(caf::sec::invalid_argument, device);
        }
        return i->second;
      },
  };
}

}  // namespace

caf::actor spawn_session_registry(caf::actor_system& sys, gateway_context_ptr ctx) {
  return name_actor(sys, registry_name, sys.spawn(session_registry, std::move(ctx)));
}

}  // namespace tidegate::actors
