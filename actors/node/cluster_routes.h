#pragma once

#include <memory>

#include "actors/admin/http_server.h"
#include "cluster/cluster_status.h"

namespace tidegate::actors {

/// The cluster's HTTP routes on a member (docs/operations.md):
///  - GET /cluster: the membership view and a summary of the committed map;
///  - GET /cluster/shards: every shard's owners, epoch and move;
///  - POST /cluster/drain?node=N: start draining member N (its shards move to the others;
///    it gets no new ones); DELETE /cluster/drain?node=N stops it. Loopback only, like
///    /admin/reload; 202 once the leader has the request, which it applies with its next map.
void register_cluster_routes(http_server& http, std::shared_ptr<cluster::cluster_status> status);

}  // namespace tidegate::actors
