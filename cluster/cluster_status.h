#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cluster/dispatch.h"
#include "cluster/membership_view.h"
#include "cluster/node_services.h"
#include "cluster/shard_map.h"

namespace tidegate::cluster {

/// A membership view frozen at one moment, for readers outside the membership actor.
struct cluster_snapshot {
  std::string self;
  /// Empty while this node sees no majority.
  std::string leader;
  size_t known = 0;
  size_t reachable = 0;
  bool has_majority = false;
  /// Oldest first; last_heard_ms are in the steady clock of `taken_at_ms`.
  std::vector<member_status> members;
  int64_t taken_at_ms = 0;
};

/// The snapshot of the membership view; `membership_view` rules made readable.
cluster_snapshot snapshot_of(const membership_view& view, int64_t now_ms);

/// Where the membership actor publishes what it sees, for the HTTP threads (GET /cluster,
/// /metrics) and the ingress (keep-majority). Thread-safe; owned by shared_ptr by the node and
/// the actor. Before the first publish the node is not writable.
class cluster_status {
 public:
  void publish(cluster_snapshot snapshot);
  cluster_snapshot snapshot() const;
  /// This node sees a majority: it may act as primary and accept writes (keep-majority).
  bool writable() const { return writable_.load(std::memory_order_acquire); }

  /// Member `name`'s incarnation (member_info::started_at_ms), or 0 if unknown.
  int64_t incarnation_of(const std::string& name) const;
  /// The leader now, or empty.
  std::string leader() const;

  /// This node's controller (set once at start) and the leader's, if known and reachable.
  void set_local_controller(caf::actor controller);
  caf::actor leader_controller() const;

  /// The services of the other members, by name (membership.h).
  void publish_services(std::map<std::string, node_services> services);
  /// Member `name`'s services while it is reachable; empty handles if it is not (or unknown).
  /// One lock: the routing functions ask per op.
  node_services reachable_services(const std::string& name) const;
  /// The session registries of the other reachable members (online deliveries go to each).
  /// Kept ready, since every delivered op asks.
  std::vector<caf::actor> peer_sessions() const;
  /// The topic relays of the other reachable members (follow changes go to each).
  std::vector<caf::actor> peer_relays() const;
  /// Every reachable member not being drained, with its client address and load (as of its
  /// last heartbeat); this node's own load is `own_load`.
  std::vector<dispatch_candidate> dispatch_candidates(int64_t own_load) const;

  /// The controller's committed shard map (version 0: none yet).
  void publish_map(shard_map map);
  std::shared_ptr<const shard_map> map() const;
  /// The zone rules in effect: the committed map's once it has any (or had rules pushed),
  /// else `configured` (this member's config, before the first map).
  std::vector<zone_rule> zone_rules(const std::vector<zone_rule>& configured) const;
  /// Called (on the controller's thread, without locks held) with each committed map whose
  /// zone rules differ from the previous one's: members drain the sessions now in the wrong
  /// zone. Set once at start, before the controller runs.
  void on_zone_rules_changed(std::function<void()> f) { rules_changed_ = std::move(f); }
  /// Called likewise with each committed map of another (term, version): requests in flight
  /// to members the new map no longer names fail instead of waiting (pending_calls).
  void on_map_changed(std::function<void()> f) { map_changed_ = std::move(f); }

 private:
  void derive_peers();  // with mutex_ held

  std::function<void()> rules_changed_;
  std::function<void()> map_changed_;
  mutable std::mutex mutex_;
  cluster_snapshot snapshot_;
  std::shared_ptr<const shard_map> map_ = std::make_shared<const shard_map>();
  std::map<std::string, node_services> services_;
  // Derived from snapshot_ and services_ when either is published: the routing functions ask
  // per op and must not copy the snapshot.
  std::set<std::string> reachable_;
  std::map<std::string, int64_t> incarnations_;
  std::vector<caf::actor> peer_sessions_;
  std::vector<caf::actor> peer_relays_;
  caf::actor local_controller_;
  std::atomic<bool> writable_{false};
};

/// GET /cluster: {self, leader, known, reachable, has_majority, members: [...], map: {term,
/// version, issued_by, shards, per member: primaries and replicas, unavailable}} as JSON.
std::string render_cluster_json(const cluster_snapshot& s, const shard_map& map);

/// GET /cluster/shards: {term, version, issued_by, shards: [{shard, primary, replica, epoch}]}.
std::string render_shards_json(const shard_map& map);

/// Prometheus text (0.0.4) of the membership and map gauges, labelled with the node id.
std::string render_cluster_metrics(const cluster_snapshot& s, const shard_map& map);

}  // namespace tidegate::cluster
