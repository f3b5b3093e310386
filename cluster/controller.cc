#include "cluster/controller.h"

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "cluster/cluster_atoms.h"
#include "cluster/map_consensus.h"
#include "cluster/membership.h"

namespace tidegate::cluster {
namespace {

struct controller_state {
  controller_settings settings;
  std::shared_ptr<cluster_status> status;
  std::optional<map_acceptor> acceptor;
  std::optional<map_proposer> proposer;  // while this node leads
  controller_view view;
  int64_t last_retry_ms = 0;
  int64_t leader_since_ms = 0;
  // Primaries' reports of replicas that caught up, applied to the next map (the leader's).
  std::vector<sync_report> reports;
  std::vector<handoff_report> handoffs;
  // Drains asked for since the last proposal: member -> start (true) or stop.
  std::map<std::string, bool> drains;
  // Zone rules pushed since the last proposal (PUT /cluster/zone-rules).
  std::optional<std::vector<zone_rule>> pushed_rules;
  // Shards sealed for a hand-off in the base map -> since when (steady ms), to cancel one
  // that is never reported ready.
  std::map<uint32_t, int64_t> sealed_since;
  // Shards whose hand-off was cancelled -> when: not moved again for a while.
  std::map<uint32_t, int64_t> cancelled_at;
  static inline const char* name = "controller";
};

using controller_actor = caf::stateful_actor<controller_state>;

/// Persists the acceptor's state; false (logged) if it could not: then nothing is answered,
/// since a promise or acceptance that a restart could forget is worth nothing.
bool persist(controller_actor* self) {
  auto& st = self->state;
  auto why = save_map_state(st.settings.state_path, st.acceptor->state());
  if (!why.empty()) {
    std::cerr << "tidegate: controller: " << why << "\n";
    return false;
  }
  return true;
}

void publish_committed(controller_actor* self) {
  self->state.status->publish_map(self->state.acceptor->state().committed);
}

std::vector<member_info> members_up(const cluster_snapshot& s) {
  std::vector<member_info> up;
  for (const auto& m : s.members) {
    if (m.reachable) {
      up.push_back(m.info);
    }
  }
  return up;
}

void start_proposer(controller_actor* self, uint64_t at_least) {
  auto& st = self->state;
  size_t majority = st.view.snapshot.known / 2 + 1;
  at_least = std::max(at_least, st.acceptor->state().promised_term);
  st.proposer.emplace(st.settings.self, at_least, majority);
  auto term = st.proposer->term();
  if (st.acceptor->prepare(term) && persist(self)) {
    st.proposer->promised(st.settings.self, st.acceptor->state().accepted);
  }
  for (const auto& [name, peer] : st.view.controllers) {
    self->send(peer, map_prepare_atom_v, term, st.settings.self);
  }
  st.last_retry_ms = steady_ms_now();
}

void send_proposal(controller_actor* self, const shard_map& map) {
  for (const auto& [name, peer] : self->state.view.controllers) {
    self->send(peer, map_propose_atom_v, map);
  }
}

void on_committed(controller_actor* self, const shard_map& map) {
  auto& st = self->state;
  if (st.acceptor->commit(map)) {
    persist(self);
    publish_committed(self);
  }
  for (const auto& [name, peer] : st.view.controllers) {
    self->send(peer, map_commit_atom_v, map);
  }
}

/// The members draining after `asked` (member -> start or stop) is applied to `now`. Sorted.
std::vector<std::string> next_draining(const std::vector<std::string>& now,
                                       const std::map<std::string, bool>& asked) {
  std::set<std::string> out(now.begin(), now.end());
  for (const auto& [member, on] : asked) {
    if (on) {
      out.insert(member);
    } else {
      out.erase(member);
    }
  }
  return {out.begin(), out.end()};
}

/// The shards of `base` sealed for longer than the hand-off timeout (logged): their moves are
/// cancelled, and they are not moved again for ten timeouts. Tracks since when each is sealed.
std::set<uint32_t> overdue_handoffs(controller_actor* self, const shard_map& base, int64_t now) {
  auto& st = self->state;
  std::set<uint32_t> overdue;
  auto cooldown = 10 * int64_t{st.settings.handoff_timeout_ms};
  for (auto it = st.cancelled_at.begin(); it != st.cancelled_at.end();) {
    if (now - it->second > cooldown) {
      it = st.cancelled_at.erase(it);
    } else {
      overdue.insert(it->first);
      ++it;
    }
  }
  std::map<uint32_t, int64_t> since;
  for (uint32_t s = 0; s < base.shards.size(); ++s) {
    if (!base.shards[s].sealed()) {
      continue;
    }
    auto it = st.sealed_since.find(s);
    auto t = it == st.sealed_since.end() ? now : it->second;
    since[s] = t;
    if (now - t > int64_t{st.settings.handoff_timeout_ms}) {
      std::cerr << "tidegate: controller: shard " << s << "'s hand-off from "
                << base.shards[s].primary << " to " << base.shards[s].moving_to
                << " was not ready in " << st.settings.handoff_timeout_ms << " ms: cancelled\n";
      overdue.insert(s);
      st.cancelled_at[s] = now;
    }
  }
  st.sealed_since = std::move(since);
  return overdue;
}

/// The leader's step: prepare, then propose the placement of the members up when it differs
/// from the base (or the base is not known to be committed), and re-send what may be lost.
void drive(controller_actor* self) {
  auto& st = self->state;
  if (!st.proposer) {
    return;
  }
  auto now = steady_ms_now();
  bool retry = now - st.last_retry_ms >= st.settings.retry_ms;
  if (!st.proposer->prepared()) {
    if (retry) {
      start_proposer(self, st.proposer->term());  // a new, higher term: maybe one was lost
    }
    return;
  }
  if (const auto& flight = st.proposer->in_flight()) {
    if (retry) {
      send_proposal(self, *flight);
      st.last_retry_ms = now;
    }
    return;
  }
  const auto& base = st.proposer->base();
  const auto& view = st.view.snapshot;
  if (base.version == 0 && view.reachable < view.known
      && now - st.leader_since_ms < st.settings.initial_settle_ms) {
    return;  // a new cluster: let the members still starting join the first map
  }
  std::map<std::string, int64_t> incarnations;
  for (const auto& m : view.members) {
    incarnations[m.info.name] = m.info.started_at_ms;
  }
  // Reports first, so a replica that restarted is out of sync before placement may promote it.
  auto current = base.shards;
  apply_sync_reports(current, st.reports, incarnations);
  st.reports.clear();
  apply_handoffs(current, st.handoffs, incarnations);
  st.handoffs.clear();
  shard_map next;
  next.draining = next_draining(base.draining, st.drains);
  st.drains.clear();
  // Pushed rules win over the config's from then on, across leaders (the map carries them).
  if (st.pushed_rules) {
    next.zone_rules = std::move(*st.pushed_rules);
    next.zone_rules_pushed = true;
    st.pushed_rules.reset();
  } else if (base.zone_rules_pushed) {
    next.zone_rules = base.zone_rules;
    next.zone_rules_pushed = true;
  } else {
    next.zone_rules = st.settings.zone_rules;
  }
  auto up = members_up(view);
  next.shards = place(current, up, next.zone_rules, st.settings.shard_count);
  move_limits limits;
  limits.max_in_motion = st.settings.max_in_motion;
  limits.cancel = overdue_handoffs(self, base, now);
  plan_moves(next.shards, up, next.zone_rules, next.draining, limits);
  const auto& committed = st.acceptor->state().committed;
  bool base_committed = base.term == committed.term && base.version == committed.version;
  if (next.shards != base.shards || next.draining != base.draining
      || next.zone_rules != base.zone_rules || next.zone_rules_pushed != base.zone_rules_pushed
      || !base_committed) {
    auto map = st.proposer->propose(std::move(next));
    if (st.acceptor->accept(map) && persist(self)) {
      if (auto done = st.proposer->accepted(st.settings.self, map.version)) {
        on_committed(self, *done);  // a cluster of one
        return;
      }
    }
    send_proposal(self, map);
    st.last_retry_ms = now;
  } else if (retry) {
    for (const auto& [name, peer] : st.view.controllers) {
      self->send(peer, map_commit_atom_v, committed);  // members that missed it catch up
    }
    st.last_retry_ms = now;
  }
}

caf::behavior controller(controller_actor* self, controller_settings settings,
                         std::shared_ptr<cluster_status> status, map_state persisted) {
  self->state.settings = std::move(settings);
  self->state.status = std::move(status);
  self->state.acceptor.emplace(std::move(persisted));
  publish_committed(self);
  return {
      [self](members_atom, controller_view& view) {
        auto& st = self->state;
        bool leads = view.snapshot.leader == st.settings.self;
        st.view = std::move(view);
        if (!leads) {
          st.proposer.reset();
          return;
        }
        if (!st.proposer) {
          st.leader_since_ms = steady_ms_now();
          start_proposer(self, 0);
        }
        drive(self);
      },
      [self](map_prepare_atom, uint64_t term, const std::string&) {
        auto& st = self->state;
        bool ok = st.acceptor->prepare(term) && persist(self);
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        self->send(sender, map_promise_atom_v, st.settings.self, ok,
                   st.acceptor->state().promised_term, st.acceptor->state().accepted);
      },
      [self](map_promise_atom, const std::string& member, bool ok, uint64_t promised_term,
             const shard_map& accepted) {
        auto& st = self->state;
        if (!st.proposer) {
          return;
        }
        if (!ok) {
          if (promised_term >= st.proposer->term()) {
            start_proposer(self, promised_term);  // outbid: try above it
          }
          return;
        }
        if (promised_term == st.proposer->term() && st.proposer->promised(member, accepted)) {
          drive(self);
        }
      },
      [self](map_propose_atom, const shard_map& map) {
        auto& st = self->state;
        bool ok = st.acceptor->accept(map) && persist(self);
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        self->send(sender, map_accepted_atom_v, st.settings.self, map.version, ok,
                   st.acceptor->state().promised_term);
      },
      [self](map_accepted_atom, const std::string& member, uint64_t version, bool ok,
             uint64_t promised_term) {
        auto& st = self->state;
        if (!st.proposer) {
          return;
        }
        if (!ok) {
          if (promised_term > st.proposer->term()) {
            start_proposer(self, promised_term);
          }
          return;
        }
        if (auto done = st.proposer->accepted(member, version)) {
          on_committed(self, *done);
          drive(self);
        }
      },
      [self](replica_synced_atom, uint32_t shard, uint64_t epoch, const std::string& replica,
             int64_t incarnation) {
        auto& st = self->state;
        if (st.proposer) {
          st.reports.push_back({shard, epoch, replica, incarnation});
          drive(self);
        }
      },
      [self](handoff_ready_atom, uint32_t shard, uint64_t epoch, const std::string& from,
             const std::string& to, int64_t incarnation) {
        auto& st = self->state;
        if (st.proposer) {
          st.handoffs.push_back({shard, epoch, from, to, incarnation});
          drive(self);
        }
      },
      [self](zone_rules_atom, std::vector<zone_rule>& rules) {
        auto& st = self->state;
        if (st.proposer) {
          st.pushed_rules = std::move(rules);
          drive(self);
        }
      },
      [self](drain_atom, const std::string& member, bool on) {
        auto& st = self->state;
        if (st.proposer) {
          st.drains[member] = on;
          drive(self);
        }
      },
      [self](map_commit_atom, const shard_map& map) {
        auto& st = self->state;
        if (st.acceptor->commit(map)) {
          persist(self);
          publish_committed(self);
        } else if (newer(st.acceptor->state().committed, map)) {
          // The sender re-sends an older map: a leader that was frozen or cut off while a
          // later term went on without it. Tell it what is in effect.
          auto sender = caf::actor_cast<caf::actor>(self->current_sender());
          self->send(sender, map_commit_atom_v, st.acceptor->state().committed);
          return;
        }
        if (st.proposer && newer(map, st.proposer->base())) {
          // This node leads but another leader committed past its base: it slept through a
          // later term. Nothing it would propose could be accepted, and with nothing to change
          // it would propose nothing and keep re-sending its old map for ever. A new prepare
          // round, above that term, learns the current map from a majority.
          start_proposer(self, map.term);
        }
      },
  };
}

}  // namespace

caf::actor spawn_controller(caf::actor_system& sys, controller_settings settings,
                            std::shared_ptr<cluster_status> status, std::string& error) {
  auto persisted = load_map_state(settings.state_path, error);
  if (!persisted) {
    return {};
  }
  return sys.spawn(controller, std::move(settings), std::move(status), std::move(*persisted));
}

}  // namespace tidegate::cluster
