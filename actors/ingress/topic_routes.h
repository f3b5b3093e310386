#pragma once

#include <memory>

#include "actors/admin/http_server.h"
#include "actors/ingress/ingress_http.h"

namespace tidegate::actors {

/// Adds the Topics endpoints (docs/ingress-api.md) to `server`: POST /v1/topics/messages,
/// POST /v1/topics/messages:batch, POST /v1/topics/follow, POST /v1/topics/unfollow and
/// GET /v1/topics/info. Handlers call the topic directory (topic_directory_of()) from the
/// server's threads and wait for its answer.
void register_topic_routes(http_server& server,
                           std::shared_ptr<const ingress_detail::ingress_context> ctx);

}  // namespace tidegate::actors
