// The cluster side of a node (DESIGN §10): its membership and controller, and how its SYNC
// actors find primaries, replicas and the other members' sessions through the committed map.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include "actors/atoms.h"
#include "actors/config/endpoint.h"
#include "actors/names.h"
#include "actors/node/node.h"
#include "actors/sync/sync_context.h"
#include "actors/sync/sync_errc.h"
#include "cluster/cluster_atoms.h"
#include "cluster/controller.h"
#include "cluster/membership.h"

namespace tidegate::actors {

void node::set_cluster_routes(sync_context& ctx) const {
  auto status = cluster_;
  if (!status) {
    return;
  }
  auto self = ctx_->node_id;
  ctx.route = [status, self](uint16_t shard) {
    using where = shard_route::where;
    shard_route route;
    auto map = status->map();
    if (map->version == 0 || shard >= map->shards.size()) {
      route.at = where::unavailable;
      route.why = "the cluster has not agreed on a shard map yet";
      return route;
    }
    const auto& owner = map->shards[shard];
    if (owner.primary == self) {
      route.at = owner.sealed() ? where::sealed : where::local;
      route.epoch = owner.epoch;
      return route;
    }
    auto services = status->reachable_services(owner.primary);
    if (!services.router) {
      route.at = where::unavailable;
      route.why = "shard " + std::to_string(shard) + "'s primary " + owner.primary
                  + " is not reachable from " + self;
      return route;
    }
    route.at = where::remote;
    route.router = std::move(services.router);
    route.topics = std::move(services.topics);
    return route;
  };
  ctx.replica_of = [status, self](uint16_t shard) -> std::optional<replica_target> {
    auto map = status->map();
    if (map->version == 0 || shard >= map->shards.size()) {
      return std::nullopt;
    }
    const auto& owner = map->shards[shard];
    if (owner.primary != self || owner.replica.empty()) {
      return std::nullopt;
    }
    replica_target target;
    target.epoch = owner.epoch;
    target.primary = self;
    target.replica = owner.replica;
    target.incarnation = status->incarnation_of(owner.replica);
    target.sink = status->reachable_services(owner.replica).replica;
    if (!owner.learner.empty()) {
      target.learner = owner.learner;
      target.learner_incarnation = status->incarnation_of(owner.learner);
      target.learner_sink = status->reachable_services(owner.learner).replica;
    }
    return target;
  };
  ctx.catchup_work_now = [status, self] {
    std::vector<catchup_work> out;
    auto map = status->map();
    std::map<std::string, std::pair<int64_t, caf::actor>> members;  // looked up once each
    auto lookup = [&](const std::string& name) -> const std::pair<int64_t, caf::actor>& {
      auto it = members.find(name);
      if (it == members.end()) {
        it = members
                 .emplace(name, std::pair{status->incarnation_of(name),
                                          status->reachable_services(name).replica})
                 .first;
      }
      return it->second;
    };
    for (size_t shard = 0; shard < map->shards.size(); ++shard) {
      const auto& owner = map->shards[shard];
      if (owner.primary != self || owner.replica.empty()) {
        continue;
      }
      replica_target base;
      base.epoch = owner.epoch;
      base.primary = self;
      const auto& [incarnation, sink] = lookup(owner.replica);
      bool in_sync = owner.replica_in_sync && owner.replica_incarnation == incarnation;
      if (sink && (!in_sync || owner.sealed())) {
        catchup_work work;
        work.shard = static_cast<uint16_t>(shard);
        work.target = base.copy(sink, owner.replica, incarnation);
        work.handoff = owner.sealed();
        out.push_back(std::move(work));
      }
      if (!owner.learner.empty()) {
        const auto& [learner_incarnation, learner_sink] = lookup(owner.learner);
        if (learner_sink) {
          catchup_work work;
          work.shard = static_cast<uint16_t>(shard);
          work.target = base.copy(learner_sink, owner.learner, learner_incarnation);
          out.push_back(std::move(work));
        }
      }
    }
    // Sealed shards first: their requests are held until the hand-off.
    std::stable_partition(out.begin(), out.end(), [](const auto& w) { return w.handoff; });
    return out;
  };
  ctx.report_synced = [status](uint16_t shard, const replica_target& target) {
    if (auto leader = status->leader_controller()) {
      caf::anon_send(leader, cluster::replica_synced_atom_v, uint32_t{shard}, target.epoch,
                     target.replica, target.incarnation);
    }
  };
  ctx.report_handoff = [status, self](uint16_t shard, const replica_target& target) {
    if (auto leader = status->leader_controller()) {
      caf::anon_send(leader, cluster::handoff_ready_atom_v, uint32_t{shard}, target.epoch, self,
                     target.replica, status->incarnation_of(self));
    }
  };
  ctx.accept_stream = [status, self](uint16_t shard, uint64_t epoch,
                                     const std::string& primary) -> caf::error {
    auto map = status->map();
    if (map->version == 0 || shard >= map->shards.size()) {
      return caf::make_error(sync_errc::replica_fenced, "no shard map here yet");
    }
    const auto& owner = map->shards[shard];
    if ((owner.replica != self && owner.learner != self) || owner.primary != primary
        || owner.epoch != epoch) {
      return caf::make_error(sync_errc::replica_fenced,
                             "shard " + std::to_string(shard) + " is primary " + owner.primary
                                 + ", replica " + owner.replica
                                 + (owner.learner.empty() ? "" : ", learner " + owner.learner)
                                 + ", epoch " + std::to_string(owner.epoch) + " in map version "
                                 + std::to_string(map->version) + " on " + self + ", not primary "
                                 + primary + " in epoch " + std::to_string(epoch));
    }
    return {};
  };
  ctx.peer_sessions = [status] { return status->peer_sessions(); };
  ctx.peer_relays = [status] { return status->peer_relays(); };
}

std::function<caf::error(const storage::write_batch&)> node::sealed_write_fence() const {
  auto status = cluster_;
  if (!status) {
    return {};
  }
  return [status, self = ctx_->node_id](const storage::write_batch& batch) -> caf::error {
    auto map = status->map();
    auto sealed = [&](uint16_t shard) {
      return shard < map->shards.size() && map->shards[shard].primary == self
             && map->shards[shard].sealed();
    };
    auto refuse = [](uint16_t shard) {
      return caf::make_error(sync_errc::shard_unavailable,
                             "shard " + std::to_string(shard) + " is being handed over");
    };
    for (const auto& a : batch.appends) {
      if (sealed(a.shard)) {
        return refuse(a.shard);
      }
    }
    for (const auto& d : batch.deletes) {
      if (sealed(d.shard)) {
        return refuse(d.shard);
      }
    }
    for (const auto& r : batch.rebases) {
      if (sealed(r.shard)) {
        return refuse(r.shard);
      }
    }
    for (const auto& t : batch.truncates) {
      if (sealed(t.shard)) {
        return refuse(t.shard);
      }
    }
    return {};
  };
}

std::string node::start_membership(const node_config& cfg) {
  const auto& cc = cfg.cluster;
  cluster::membership_settings settings;
  settings.self.name = cfg.node_id;
  settings.self.zone = cc.zone;
  settings.self.host = cc.advertise.host;
  settings.self.started_at_ms = cluster::unix_ms_now();
  auto reachable_host = [&cc](const std::string& host) {
    return host == "0.0.0.0" || host == "::" ? cc.advertise.host : host;
  };
  settings.self.client_address =
      to_string(endpoint{reachable_host(cfg.gateway.listen.host), client_port_});
  settings.self.http_address = to_string(endpoint{reachable_host(cfg.http.host), http_port()});
  settings.seeds = cc.seeds;
  settings.heartbeat_ms = cc.heartbeat_ms;
  settings.failure_timeout_ms = cc.failure_timeout_ms;
  settings.redial_ms = cc.redial_ms;
  cluster::controller_settings control;
  control.self = cfg.node_id;
  control.shard_count = cfg.sync.shards;
  for (const auto& rule : cc.zone_rules) {
    control.zone_rules.push_back({rule.first_shard, rule.last_shard, rule.zone});
  }
  // New zone rules (pushed at runtime): this member's sessions of users now homed in another
  // zone leave gradually, over the drain window, and log in again in their zone.
  cluster_->on_zone_rules_changed([sys = system_.get(), window = cfg.gateway.drain_window_ms] {
    if (auto registry = session_registry_of(*sys)) {
      caf::anon_send(registry, zone_atom_v, window);
    }
  });
  cluster_->on_map_changed([sys = system_.get()] {
    for (const auto& actor : {sync_router_of(*sys), topic_directory_of(*sys)}) {
      if (actor) {
        caf::anon_send(actor, map_changed_atom_v);
      }
    }
  });
  control.state_path = cfg.storage.data_dir + "/cluster-map.state";
  control.max_in_motion = cc.max_moving_shards;
  control.handoff_timeout_ms = cc.handoff_timeout_ms;
  std::string error;
  settings.controller = cluster::spawn_controller(*system_, std::move(control), cluster_, error);
  if (!settings.controller) {
    return "cluster map: " + error;
  }
  controller_ = settings.controller;
  cluster_->set_local_controller(controller_);
  settings.local_services = [sys = system_.get(), ctx = ctx_] {
    cluster::node_services services;
    services.connections = ctx->metrics.connections.load(std::memory_order_relaxed);
    services.router = sync_router_of(*sys);
    services.sessions = session_registry_of(*sys);
    services.replica = replica_sink_of(*sys);
    services.topics = topic_directory_of(*sys);
    services.relay = topic_relay_of(*sys);
    return services;
  };
  membership_ = cluster::spawn_membership(*system_, std::move(settings), cluster_);
  auto port = system_->middleman().publish(membership_, cc.listen.port, cc.listen.host.c_str(),
                                           /*reuse_addr=*/true);
  if (!port) {
    return "cluster.listen " + to_string(cc.listen) + ": " + system_->render(port.error());
  }
  cluster_port_ = *port;
  caf::anon_send(membership_, cluster::member_start_atom_v,
                 cc.advertise.port != 0 ? cc.advertise.port : *port);
  return {};
}

}  // namespace tidegate::actors
