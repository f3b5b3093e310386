#include "actors/node/cluster_routes.h"

#include <string>

#include <caf/send.hpp>

#include "cluster/cluster_atoms.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {
namespace {

http_reply json_reply(int status, const nlohmann::json& body) {
  return http_reply{status, "application/json", body.dump()};
}

http_reply error_reply(int status, const std::string& code, const std::string& message) {
  return json_reply(status, {{"code", code}, {"message", message}});
}

http_reply drain(const http_request& req, const cluster::cluster_status& status, bool on) {
  if (req.remote_addr != "127.0.0.1" && req.remote_addr != "::1") {
    return error_reply(403, "forbidden", "drain is only accepted from the loopback interface");
  }
  std::string member;
  for (const auto& [key, value] : req.params) {
    if (key == "node") {
      member = value;
    }
  }
  if (member.empty()) {
    return error_reply(400, "bad_request", "name the member to drain: ?node=<node.id>");
  }
  auto snapshot = status.snapshot();
  bool known = false;
  for (const auto& m : snapshot.members) {
    known = known || m.info.name == member;
  }
  if (!known) {
    return error_reply(404, "unknown_member", "no cluster member is named '" + member + "'");
  }
  auto leader = status.leader_controller();
  if (!leader) {
    return error_reply(503, "no_leader",
                       "this node knows no reachable leader now (no majority?): try again");
  }
  caf::anon_send(leader, cluster::drain_atom_v, member, on);
  return json_reply(202, {{"node", member}, {"draining", on}, {"leader", snapshot.leader}});
}

}  // namespace

void register_cluster_routes(http_server& http, std::shared_ptr<cluster::cluster_status> status) {
  http.handle("GET", "/cluster", [status](const http_request&) {
    return http_reply{200, "application/json",
                      cluster::render_cluster_json(status->snapshot(), *status->map())};
  });
  http.handle("GET", "/cluster/shards", [status](const http_request&) {
    return http_reply{200, "application/json", cluster::render_shards_json(*status->map())};
  });
  http.handle("POST", "/cluster/drain",
              [status](const http_request& req) { return drain(req, *status, true); });
  http.handle("DELETE", "/cluster/drain",
              [status](const http_request& req) { return drain(req, *status, false); });
}

}  // namespace tidegate::actors
