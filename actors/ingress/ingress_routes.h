#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/admin/http_server.h"
#include "actors/config/node_config.h"
#include "actors/ingress/ingress_parse.h"

namespace tidegate::actors {

/// What the backend ingress needs from the node (docs/ingress-api.md).
struct ingress_config {
  /// Apps that may publish; their secrets authenticate requests.
  std::vector<app_config> apps;
  parse_limits limits;
  /// Request bodies over this are refused with 413 before they are read.
  size_t max_body_bytes = size_t{8} << 20;
  /// How long a request waits for the router's answer before a 504.
  std::chrono::milliseconds router_timeout{10'000};
  /// The HTTP server's threads: each request waiting for the router holds one.
  size_t http_threads = 8;
  /// The router to call, looked up on each request (a restarted router is found); returns an
  /// invalid handle while none runs. Empty: the actor named "sync" in the system's registry.
  std::function<caf::actor()> router;
  /// Why this node refuses writes now (keep-majority: it cannot see a majority of the
  /// cluster), or nullopt. Asked on each authenticated POST, on an HTTP thread. Empty: never.
  std::function<std::optional<std::string>()> refuse_writes;
  /// The node's clock in Unix milliseconds (signature window). Empty: the system clock.
  std::function<int64_t()> clock;
};

/// Adds POST /v1/sync/ops, POST /v1/sync/ops:batch, GET /v1/sync/head and POST /v1/push to
/// `server`, which must not be started yet, and sets its body limit, thread count and a JSON
/// renderer for its own errors under /v1/. Handlers run on the server's threads and call the
/// router through a scoped_actor of `sys`, so stop `server` before `sys` shuts down.
void register_ingress_routes(http_server& server, caf::actor_system& sys, ingress_config cfg);

}  // namespace tidegate::actors
