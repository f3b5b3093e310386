#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include "cluster/cluster_status.h"
#include "cluster/member.h"
#include "cluster/placement.h"
#include "cluster/rebalance.h"

namespace tidegate::cluster {

/// What the membership actor tells the local controller after each change: the view, and the
/// controllers of the members it links to.
struct controller_view {
  cluster_snapshot snapshot;
  /// Reachable members other than this node, by name.
  std::map<std::string, caf::actor> controllers;
};

struct controller_settings {
  std::string self;
  uint32_t shard_count = 1024;
  std::vector<zone_rule> zone_rules;
  /// Where the map protocol's state is persisted (`<data_dir>/cluster-map.state`).
  std::string state_path;
  /// The leader re-sends what a member may have missed (prepare, proposal, commit) this often.
  uint32_t retry_ms = 1000;
  /// The first map of a new cluster waits until every known member is reachable, or this long
  /// after the leader took over, so that members starting a little later get shards too.
  uint32_t initial_settle_ms = 3000;
  /// Shards in motion at once (rebalance.h: move_limits).
  size_t max_in_motion = 32;
  /// A hand-off not reported ready this long after its shard was sealed is cancelled, so a
  /// stuck primary cannot keep a shard's requests held.
  uint32_t handoff_timeout_ms = 10000;
};

/// Spawns the controller (DESIGN §3): on every member an acceptor of shard maps, and on the
/// leader also the proposer that computes the map from the members up (placement.h) and gets
/// it committed by a majority (map_consensus.h), with planned moves (rebalance.h). Committed
/// maps are published to `status`. Besides the map protocol it takes, on the leader:
///  - (replica_synced_atom, uint32_t shard, uint64_t epoch, std::string replica, int64_t inc)
///  - (handoff_ready_atom, uint32_t shard, uint64_t epoch, std::string from, std::string to,
///     int64_t incarnation)
///  - (drain_atom, std::string member, bool on): start or stop draining `member`;
///  - (zone_rules_atom, std::vector<zone_rule>): the home zones from now on (validated by
///    the sender), in place of every member's config.
/// Fails (returns an invalid handle, `error` set) if the persisted state cannot be read.
caf::actor spawn_controller(caf::actor_system& sys, controller_settings settings,
                            std::shared_ptr<cluster_status> status, std::string& error);

}  // namespace tidegate::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::cluster::controller_view)
