#include "actors/node/dispatch_route.h"

#include <chrono>

#include "actors/config/endpoint.h"
#include "actors/node/json_replies.h"
#include "actors/sync/bucket_config.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors {
namespace {

constexpr size_t max_owner_bytes = 256;

std::vector<cluster::zone_rule> rules_of(const cluster_config& cc) {
  std::vector<cluster::zone_rule> rules;
  for (const auto& rule : cc.zone_rules) {
    rules.push_back({rule.first_shard, rule.last_shard, rule.zone});
  }
  return rules;
}

// The host a client reached the HTTP endpoint by (its Host header: an IP literal or a DNS
// name, with or without a port), or `fallback`.
std::string host_of(const http_request& request, const std::string& fallback) {
  const std::string* header = request.header("host");
  if (header == nullptr) {
    return fallback;
  }
  auto parsed = parse_endpoint(*header);
  if (!parsed.value) {
    parsed = parse_endpoint(*header + ":0");  // a Host header without a port
  }
  if (parsed.value) {
    return parsed.value->host;
  }
  // A name: letters, digits, '-' and '.' only, so the answer never carries anything else.
  std::string name = header->substr(0, header->rfind(':'));
  bool plain = !name.empty() && name.size() <= 253
               && name.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789-.")
                      == std::string::npos;
  return plain ? name : fallback;
}

int64_t load_of(const gateway_context& ctx) {
  return ctx.metrics.connections.load(std::memory_order_relaxed);
}

}  // namespace

dispatch_setup dispatch_setup_of(const node_config& cfg,
                                 std::shared_ptr<const cluster::cluster_status> status,
                                 std::shared_ptr<const gateway_context> ctx, uint16_t client_port) {
  dispatch_setup setup;
  for (const auto& app : cfg.apps) {
    if (!app.dispatch_key.empty()) {
      setup.keys[app.id] = app.dispatch_key;
      setup.hints[app.id] = protocol::dispatch_hints{false, !app.zstd_dictionary.empty(),
                                                     cfg.gateway.heartbeat_min_ms};
    }
  }
  setup.ttl_s = cfg.dispatch.ttl_s;
  setup.max_addresses = cfg.dispatch.max_addresses;
  setup.shard_count = cfg.sync.shards;
  setup.zone_rules = rules_of(cfg.cluster);
  if (status) {
    setup.current_zone_rules = [status, configured = setup.zone_rules] {
      return status->zone_rules(configured);
    };
    setup.candidates = [status, ctx](const http_request&) {
      return status->dispatch_candidates(load_of(*ctx));
    };
  } else {
    auto listen = cfg.gateway.listen.host;
    bool wildcard = listen == "0.0.0.0" || listen == "::";
    setup.candidates = [ctx, listen, wildcard, client_port,
                        zone = cfg.cluster.zone](const http_request& request) {
      auto host = wildcard ? host_of(request, "127.0.0.1") : listen;
      return std::vector<cluster::dispatch_candidate>{
          {ctx->node_id, zone, to_string(endpoint{host, client_port}), load_of(*ctx)}};
    };
  }
  setup.clock = [] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  };
  return setup;
}

std::function<std::vector<std::string>(const std::string&)> zone_redirect_of(
    const node_config& cfg, std::shared_ptr<const cluster::cluster_status> status,
    std::shared_ptr<const gateway_context> ctx) {
  if (!status) {
    return nullptr;
  }
  // The context holds this function: it is held weakly, or neither would ever be freed.
  return [configured = rules_of(cfg.cluster), status,
          weak = std::weak_ptr<const gateway_context>{ctx}, zone = cfg.cluster.zone,
          shards = cfg.sync.shards, max = cfg.dispatch.max_addresses](const std::string& user) {
    auto home = cluster::home_zone(status->zone_rules(configured), shard_of(user, shards));
    if (home.empty() || home == zone) {
      return std::vector<std::string>{};  // most logins: no need to read the membership
    }
    auto ctx = weak.lock();
    return cluster::zone_redirect(home, zone, status->dispatch_candidates(ctx ? load_of(*ctx) : 0),
                                  max);
  };
}

http_reply answer_dispatch(const http_request& request, const dispatch_setup& setup) {
  std::map<std::string, std::vector<std::string>> params;
  for (const auto& [name, value] : request.params) {
    params[name].push_back(value);
  }
  for (const auto& [name, values] : params) {
    if (name != "app" && name != "uid" && name != "device") {
      return error_reply(
          400, "bad_parameter",
          "unknown query parameter \"" + name + "\" (expected app and uid or device)");
    }
    if (values.size() > 1) {
      return error_reply(400, "bad_parameter", "query parameter \"" + name + "\" is repeated");
    }
  }
  auto app_it = params.find("app");
  if (app_it == params.end() || app_it->second.front().empty()) {
    return error_reply(400, "bad_parameter", "query parameter \"app\" is required");
  }
  const auto& app = app_it->second.front();
  bool has_uid = params.count("uid") != 0;
  bool has_device = params.count("device") != 0;
  if (has_uid == has_device) {
    return error_reply(400, "bad_parameter", "exactly one of \"uid\" and \"device\" is required");
  }
  const auto& owner = params[has_uid ? "uid" : "device"].front();
  if (owner.empty() || owner.size() > max_owner_bytes) {
    return error_reply(400, "bad_parameter",
                       std::string{"\""} + (has_uid ? "uid" : "device") + "\" must be 1 to "
                           + std::to_string(max_owner_bytes) + " bytes");
  }
  auto key = setup.keys.find(app);
  if (key == setup.keys.end()) {
    return error_reply(404, "unknown_app", "app \"" + app + "\" has no dispatch on this cluster");
  }
  auto home =
      cluster::home_zone(setup.current_zone_rules ? setup.current_zone_rules() : setup.zone_rules,
                         shard_of(owner, setup.shard_count));
  auto choice = cluster::choose_for_dispatch(home, setup.candidates(request), setup.max_addresses);
  if (choice.addresses.empty()) {
    return error_reply(503, "no_member", "no cluster member with a client listener is reachable");
  }
  protocol::dispatch_answer answer;
  answer.app = app;
  answer.owner = owner;
  answer.zone = std::move(choice.zone);
  answer.addresses = std::move(choice.addresses);
  answer.ttl_s = setup.ttl_s;
  answer.expires_at_s = setup.clock() + setup.ttl_s;
  if (auto hints = setup.hints.find(app); hints != setup.hints.end()) {
    answer.hints = hints->second;
  }
  protocol::sign_dispatch(answer, key->second);
  return http_reply{200, "application/json", protocol::render_dispatch_json(answer)};
}

}  // namespace tidegate::actors
