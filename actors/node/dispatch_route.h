#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/admin/http_server.h"
#include "actors/config/node_config.h"
#include "actors/gateway/gateway_context.h"
#include "cluster/cluster_status.h"
#include "cluster/dispatch.h"
#include "cluster/placement.h"
#include "protocol/dispatch_answer.h"

namespace tidegate::actors {

/// What GET /v1/dispatch needs. Immutable once the route is registered; the functions are
/// called on HTTP server threads and must be thread-safe.
struct dispatch_setup {
  /// App id -> its dispatch key. An app without one is not served (404).
  std::map<std::string, std::string> keys;
  /// App id -> hints for its clients.
  std::map<std::string, protocol::dispatch_hints> hints;
  uint32_t ttl_s = 300;
  size_t max_addresses = 3;
  uint16_t shard_count = 1024;
  /// The home zones of shard ranges (the config's), unless `current_zone_rules` is set.
  std::vector<cluster::zone_rule> zone_rules;
  /// In a cluster, the rules in effect now (the committed map's, pushed at runtime or the
  /// leader's config). Thread-safe.
  std::function<std::vector<cluster::zone_rule>()> current_zone_rules;
  /// The members a client may be sent to now. `request` lets a node outside a cluster name
  /// itself with the host the client reached it by.
  std::function<std::vector<cluster::dispatch_candidate>(const http_request& request)> candidates;
  /// Unix seconds now.
  std::function<uint64_t()> clock;
};

/// GET /v1/dispatch?app=A&uid=U (or &device=D instead of uid), unauthenticated: a signed
/// answer (protocol/dispatch_answer.h) naming the least loaded reachable members of the
/// owner's home zone (its shard's zone rule), or of any zone when that zone is lost. 400 for a
/// missing or doubled parameter, 404 for an app without dispatch, 503 with no member to name.
http_reply answer_dispatch(const http_request& request, const dispatch_setup& setup);

/// The dispatch of a node from its config. In a cluster (`status` set) it names the reachable
/// members with their last reported loads; a node of its own names itself, with the host the
/// client reached its HTTP endpoint by when its client listener is on a wildcard address.
/// `ctx` supplies this node's load (open connections).
dispatch_setup dispatch_setup_of(const node_config& cfg,
                                 std::shared_ptr<const cluster::cluster_status> status,
                                 std::shared_ptr<const gateway_context> ctx, uint16_t client_port);

/// The zone redirect of a cluster member (gateway_context::zone_redirect): a user whose home
/// zone (`[[cluster.zone_rules]]`) is another zone with a reachable member goes there.
std::function<std::vector<std::string>(const std::string&)> zone_redirect_of(
    const node_config& cfg, std::shared_ptr<const cluster::cluster_status> status,
    std::shared_ptr<const gateway_context> ctx);

}  // namespace tidegate::actors
