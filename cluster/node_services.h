#pragma once

#include <caf/actor.hpp>
#include <caf/meta/type_name.hpp>

namespace tidegate::cluster {

/// The actors through which other members reach a node, and its load. Every heartbeat carries the
/// sender's current ones (looked up by name just before), so a service restarted by its supervisor
/// is reachable again within a heartbeat. A handle is invalid while the service does not run.
/// Travels between nodes ("tidegate::cluster::node_services").
struct node_services {
  caf::actor controller;
  /// The sync router: SYNC requests for shards this node is primary of.
  caf::actor router;
  /// The session registry: online deliveries to this node's sessions.
  caf::actor sessions;
  /// The replica sink: the streams of the shards this node is the replica of.
  caf::actor replica;
  /// The topic directory: Topic requests for shards this node is primary of.
  caf::actor topics;
  /// The topic relay: messages of topics this node's sessions follow, and follow changes.
  caf::actor relay;
  /// The node's open client connections when the heartbeat left: its load, which dispatch
  /// orders by.
  int64_t connections = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_services& x) {
  return f(caf::meta::type_name("node_services"), x.controller, x.router, x.sessions, x.replica,
           x.topics, x.relay, x.connections);
}

}  // namespace tidegate::cluster
