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
///    /admin/reload; 202 once the leader has the request, which it applies with its next map;
///  - PUT /cluster/zone-rules, body {"rules": [{"first_shard", "last_shard", "zone"}, ...]}:
///    the home zones of shard ranges from now on, for every member (ranges within the
///    `shard_count` shards, not overlapping). Loopback only; 202 once the leader has them.
void register_cluster_routes(http_server& http, std::shared_ptr<cluster::cluster_status> status,
                             uint32_t shard_count);

}  // namespace tidegate::actors
