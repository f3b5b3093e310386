#include "actors/node/cluster_routes.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <caf/send.hpp>

#include "actors/node/json_replies.h"
#include "cluster/cluster_atoms.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {
namespace {

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

bool is_zone_name(const std::string& z) {
  return !z.empty() && z.size() <= 64 && std::all_of(z.begin(), z.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

// The rules of a PUT /cluster/zone-rules body, or a 400 naming what is wrong.
std::variant<std::vector<cluster::zone_rule>, http_reply> parse_rules(const std::string& body,
                                                                      uint32_t shard_count) {
  auto bad = [](const std::string& message) { return error_reply(400, "bad_request", message); };
  auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return bad("the body must be a JSON object: {\"rules\": [...]}");
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != "rules") {
      return bad("unknown field '" + key + "' (expected rules)");
    }
  }
  if (!doc.contains("rules") || !doc["rules"].is_array()) {
    return bad("'rules' must be an array of {first_shard, last_shard, zone}");
  }
  std::vector<cluster::zone_rule> rules;
  const auto& list = doc["rules"];
  for (size_t i = 0; i < list.size(); ++i) {
    auto name = "rules[" + std::to_string(i) + "]";
    const auto& r = list[i];
    if (!r.is_object()) {
      return bad(name + " must be an object");
    }
    for (const auto& [key, value] : r.items()) {
      if (key != "first_shard" && key != "last_shard" && key != "zone") {
        return bad("unknown field '" + name + "." + key + "'");
      }
    }
    cluster::zone_rule rule;
    for (auto [key, field] : {std::pair{"first_shard", &rule.first}, {"last_shard", &rule.last}}) {
      if (!r.contains(key) || !r[key].is_number_unsigned()
          || r[key].get<uint64_t>() >= shard_count) {
        return bad(name + "." + key + " must be a shard number from 0 to "
                   + std::to_string(shard_count - 1));
      }
      *field = r[key].get<uint32_t>();
    }
    if (rule.first > rule.last) {
      return bad(name + ".first_shard must not be above last_shard");
    }
    if (!r.contains("zone") || !r["zone"].is_string() || !is_zone_name(r["zone"])) {
      return bad(name + ".zone must be 1 to 64 characters of a-z, 0-9 and '-'");
    }
    rule.zone = r["zone"].get<std::string>();
    for (size_t j = 0; j < rules.size(); ++j) {
      if (rule.first <= rules[j].last && rules[j].first <= rule.last) {
        return bad(name + " overlaps rules[" + std::to_string(j) + "]");
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

http_reply push_zone_rules(const http_request& req, const cluster::cluster_status& status,
                           uint32_t shard_count) {
  if (req.remote_addr != "127.0.0.1" && req.remote_addr != "::1") {
    return error_reply(403, "forbidden",
                       "zone rules are only accepted from the loopback interface");
  }
  auto parsed = parse_rules(req.body, shard_count);
  if (auto* reply = std::get_if<http_reply>(&parsed)) {
    return *reply;
  }
  auto rules = std::get<std::vector<cluster::zone_rule>>(std::move(parsed));
  auto leader = status.leader_controller();
  if (!leader) {
    return error_reply(503, "no_leader",
                       "this node knows no reachable leader now (no majority?): try again");
  }
  caf::anon_send(leader, cluster::zone_rules_atom_v, rules);
  return json_reply(202, {{"rules", rules.size()}, {"leader", status.snapshot().leader}});
}

}  // namespace

void register_cluster_routes(http_server& http, std::shared_ptr<cluster::cluster_status> status,
                             uint32_t shard_count) {
  http.handle("PUT", "/cluster/zone-rules", [status, shard_count](const http_request& req) {
    return push_zone_rules(req, *status, shard_count);
  });
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
