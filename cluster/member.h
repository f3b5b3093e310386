#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace tidegate::cluster {

/// One cluster member as every node knows it. It travels between nodes (registered with CAF
/// under the name "tidegate::cluster::member_info" on every node), so a field added here is a
/// wire change.
struct member_info {
  /// The node's configured id (`node.id`): unique in the cluster.
  std::string name;
  /// The zone the node runs in (`cluster.zone`).
  std::string zone;
  /// Where the node's membership actor is published (`cluster.advertise`).
  std::string host;
  uint16_t port = 0;
  /// Unix milliseconds at which this incarnation started. Orders members by age (the leader
  /// is the oldest) and tells a restarted node from its previous incarnation.
  int64_t started_at_ms = 0;
  /// "host:port" of the node's client listener and HTTP endpoint (dispatch answers these).
  std::string client_address;
  std::string http_address;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("member_info"), x.name, x.zone, x.host, x.port, x.started_at_ms,
           x.client_address, x.http_address);
}

/// "host:port" of the member's cluster endpoint.
std::string cluster_address(const member_info& m);

/// True when `a` is older than `b`: started earlier, or at the same millisecond with the
/// smaller name. Every node orders members alike, since both fields come from the members.
bool older(const member_info& a, const member_info& b);

}  // namespace tidegate::cluster
