#include "cluster/membership.h"

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include "cluster/cluster_atoms.h"
#include "cluster/controller.h"
#include "cluster/membership_view.h"
#include "cluster/shard_map.h"

namespace tidegate::cluster {
namespace {

std::optional<std::pair<std::string, uint16_t>> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return std::pair{host, static_cast<uint16_t>(std::stoul(address.substr(colon + 1)))};
}

struct membership_state {
  membership_settings settings;
  std::shared_ptr<cluster_status> status;
  std::optional<membership_view> view;  // set by member_start_atom
  /// Links to peers' membership actors, by cluster address. A link is monitored: its
  /// down_msg (the peer's process died or its connection broke) removes it.
  std::map<std::string, caf::actor> links;
  /// The services of the members, by name, as their latest heartbeats name them.
  std::map<std::string, node_services> services;
  std::set<std::string> dialing;                // addresses with a connect in flight
  std::map<std::string, int64_t> last_dial_ms;  // address -> when it was last dialled
  int64_t last_tick_ms = 0;
  bool leaving = false;
  static inline const char* name = "membership";
};

using membership_actor = caf::stateful_actor<membership_state>;

/// Publishes the view to the status and to the local controller (with the controllers of the
/// reachable peers).
void publish(membership_actor* self) {
  auto& st = self->state;
  auto snapshot = snapshot_of(*st.view, steady_ms_now());
  st.status->publish(snapshot);
  st.status->publish_services(st.services);
  if (st.settings.controller) {
    controller_view view;
    for (const auto& m : snapshot.members) {
      if (m.self || !m.reachable) {
        continue;
      }
      if (auto it = st.services.find(m.info.name);
          it != st.services.end() && it->second.controller) {
        view.controllers.emplace(m.info.name, it->second.controller);
      }
    }
    view.snapshot = std::move(snapshot);
    self->send(st.settings.controller, members_atom_v, std::move(view));
  }
}

void send_heartbeat(membership_actor* self, const caf::actor& peer) {
  auto& view = *self->state.view;
  const auto& settings = self->state.settings;
  node_services services;
  if (settings.local_services) {
    services = settings.local_services();
  }
  services.controller = settings.controller;
  self->send(peer, heartbeat_atom_v, view.self(), view.infos(), std::move(services));
}

/// Keeps `peer` as the link to `address` (monitored) unless one exists.
void adopt_link(membership_actor* self, const std::string& address, const caf::actor& peer) {
  auto [it, fresh] = self->state.links.emplace(address, peer);
  if (fresh) {
    self->monitor(peer);
  }
}

void dial(membership_actor* self, const std::string& address) {
  auto& st = self->state;
  auto target = split_address(address);
  if (!target) {
    return;
  }
  st.dialing.insert(address);
  st.last_dial_ms[address] = steady_ms_now();
  auto mm = self->system().middleman().actor_handle();
  self->request(mm, std::chrono::milliseconds(st.settings.connect_timeout_ms), caf::connect_atom_v,
                target->first, target->second)
      .then(
          [self, address](const caf::node_id&, caf::strong_actor_ptr& ptr,
                          const std::set<std::string>&) {
            self->state.dialing.erase(address);
            auto peer = caf::actor_cast<caf::actor>(std::move(ptr));
            if (!peer || self->state.leaving) {
              return;
            }
            adopt_link(self, address, peer);
            send_heartbeat(self, peer);  // it learns us now, not a heartbeat period later
          },
          [self, address](const caf::error&) { self->state.dialing.erase(address); });
}

/// Dials every seed and known member without a link, at most once per redial period each.
void dial_missing(membership_actor* self) {
  auto& st = self->state;
  auto now = steady_ms_now();
  std::vector<std::string> targets = st.view->unresolved_seeds();
  for (const auto& m : st.view->infos()) {
    if (m.name != st.view->self().name) {
      targets.push_back(cluster_address(m));
    }
  }
  for (const auto& address : targets) {
    if (st.links.count(address) != 0 || st.dialing.count(address) != 0) {
      continue;
    }
    if (auto last = st.last_dial_ms.find(address);
        last != st.last_dial_ms.end() && now - last->second < st.settings.redial_ms) {
      continue;
    }
    dial(self, address);
  }
}

void tick(membership_actor* self) {
  auto& st = self->state;
  auto now = steady_ms_now();
  // A tick far later than asked means this process stalled (SIGSTOP, swap, overload): the
  // silence of the peers in the meantime is ours, so it declares no one unreachable yet.
  if (st.last_tick_ms != 0 && now - st.last_tick_ms > 3 * int64_t{st.settings.heartbeat_ms}) {
    st.view->forgive(now);
  }
  st.last_tick_ms = now;
  st.view->expire(now, st.settings.failure_timeout_ms);
  for (const auto& [address, peer] : st.links) {
    send_heartbeat(self, peer);
  }
  dial_missing(self);
  publish(self);
}

caf::behavior membership(membership_actor* self, membership_settings settings,
                         std::shared_ptr<cluster_status> status) {
  self->state.settings = std::move(settings);
  self->state.status = std::move(status);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto it = st.links.begin(); it != st.links.end(); ++it) {
      if (it->second.address() != msg.source) {
        continue;
      }
      for (const auto& m : st.view->members()) {
        if (!m.self && cluster_address(m.info) == it->first) {
          st.view->lost(m.info.name);
        }
      }
      st.links.erase(it);
      publish(self);
      return;
    }
  });
  return {
      [self](member_start_atom, uint16_t port) {
        auto& st = self->state;
        st.settings.self.port = port;
        st.view.emplace(st.settings.self, st.settings.seeds);
        tick(self);
        self->delayed_send(self, std::chrono::milliseconds(st.settings.heartbeat_ms),
                           member_tick_atom_v);
      },
      [self](member_tick_atom) {
        if (self->state.leaving) {
          return;
        }
        tick(self);
        self->delayed_send(self, std::chrono::milliseconds(self->state.settings.heartbeat_ms),
                           member_tick_atom_v);
      },
      [self](heartbeat_atom, const member_info& from, const std::vector<member_info>& known,
             const node_services& services) {
        auto& st = self->state;
        if (!st.view || st.leaving) {
          return;  // not started yet: its next heartbeat comes a period later
        }
        if (!st.view->heard(from, steady_ms_now())) {
          return;
        }
        if (auto sender = caf::actor_cast<caf::actor>(self->current_sender())) {
          adopt_link(self, cluster_address(from), sender);
        }
        st.services[from.name] = services;
        for (const auto& m : known) {
          st.view->learn(m);  // the next tick dials what is new
        }
      },
      [self](leave_atom, const std::string& name, int64_t started_at_ms) {
        auto& st = self->state;
        if (!st.view) {
          return;
        }
        if (const auto* m = st.view->find(name); m != nullptr && !m->self) {
          auto address = cluster_address(m->info);
          if (auto link = st.links.find(address); link != st.links.end()) {
            self->demonitor(link->second);
            st.links.erase(link);
          }
        }
        st.view->left(name, started_at_ms);
        publish(self);
      },
      [self](leave_atom) {
        auto& st = self->state;
        if (st.view && !st.leaving) {
          for (const auto& [address, peer] : st.links) {
            self->send(peer, leave_atom_v, st.view->self().name, st.view->self().started_at_ms);
          }
        }
        st.leaving = true;
        return caf::ok_atom_v;
      },
  };
}

}  // namespace

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<member_info>("tidegate::cluster::member_info");
  cfg.add_message_type<std::vector<member_info>>("std::vector<tidegate::cluster::member_info>");
  cfg.add_message_type<shard_owner>("tidegate::cluster::shard_owner");
  cfg.add_message_type<std::vector<shard_owner>>("std::vector<tidegate::cluster::shard_owner>");
  cfg.add_message_type<shard_map>("tidegate::cluster::shard_map");
  cfg.add_message_type<zone_rule>("tidegate::cluster::zone_rule");
  cfg.add_message_type<std::vector<zone_rule>>("std::vector<tidegate::cluster::zone_rule>");
  cfg.add_message_type<node_services>("tidegate::cluster::node_services");
}

caf::actor spawn_membership(caf::actor_system& sys, membership_settings settings,
                            std::shared_ptr<cluster_status> status) {
  return sys.spawn<caf::detached>(membership, std::move(settings), std::move(status));
}

int64_t steady_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tidegate::cluster
