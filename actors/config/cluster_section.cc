#include <string>

#include "actors/config/endpoint.h"
#include "actors/config/sections.h"

namespace tidegate::actors::config_detail {
namespace {

bool is_wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::";
}

// seeds = ["host:port", ...]: each a dialable address, kept as written out by to_string so
// that "[::1]:7200" and the members' advertised addresses compare alike.
void read_seeds(checker& c, const toml::table& t, std::vector<std::string>& seeds) {
  const toml::node* node = t.get("seeds");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    c.fail(*node, "cluster.seeds",
           std::string{"expected an array of \"host:port\" strings, got "}
               + a_type_name(node->type()));
    return;
  }
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const std::string key = "cluster.seeds[" + std::to_string(i) + "]";
    const auto* text = item.as_string();
    if (text == nullptr) {
      c.fail(item, key, std::string{"expected a string, got "} + a_type_name(item.type()));
      continue;
    }
    auto parsed = parse_endpoint(text->get());
    if (!parsed.value) {
      c.fail(item, key, parsed.error);
    } else if (parsed.value->port == 0 || is_wildcard(parsed.value->host)) {
      c.fail(item, key, "a seed must name a host and a port to dial, got " + quoted(text->get()));
    } else {
      seeds.push_back(to_string(*parsed.value));
    }
  }
}

// [[cluster.zone_rules]]: first_shard, last_shard, zone.
void read_zone_rules(checker& c, const toml::table& t, uint32_t shards,
                     std::vector<zone_rule_config>& rules) {
  const toml::node* node = t.get("zone_rules");
  if (node == nullptr) {
    return;
  }
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    c.fail(*node, "cluster.zone_rules",
           std::string{"expected an array of tables ([[cluster.zone_rules]]), got "}
               + a_type_name(node->type()));
    return;
  }
  const int64_t last = int64_t{shards} - 1;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table& r = *array->get(i)->as_table();
    const std::string path = "cluster.zone_rules[" + std::to_string(i) + "]";
    zone_rule_config rule;
    c.only_keys(r, path, {"first_shard", "last_shard", "zone"});
    auto* first = c.integer(r, path, "first_shard", 0, last, rule.first_shard);
    auto* end = c.integer(r, path, "last_shard", 0, last, rule.last_shard);
    if (auto* zone = c.string(r, path, "zone", rule.zone, /*required=*/true)) {
      if (!is_node_id(rule.zone)) {
        c.fail(*zone, path + ".zone",
               "must be 1 to 64 characters of a-z, 0-9 and '-', got " + quoted(rule.zone));
      }
    }
    if (first == nullptr && !c.failed()) {
      c.fail(r, path + ".first_shard", "missing required key");
    }
    if (end == nullptr && !c.failed()) {
      c.fail(r, path + ".last_shard", "missing required key");
    }
    if (!c.failed() && rule.first_shard > rule.last_shard) {
      c.fail(*first, path + ".first_shard",
             "must not exceed last_shard (" + std::to_string(rule.last_shard) + "), got "
                 + std::to_string(rule.first_shard));
    }
    rules.push_back(std::move(rule));
  }
}

}  // namespace

void read_cluster(checker& c, const toml::table& root, uint32_t shards, cluster_config& cluster) {
  const toml::table* t = c.table(root, "", "cluster");
  if (t == nullptr) {
    return;
  }
  cluster.enabled = true;
  const std::string_view p = "cluster";
  c.only_keys(*t, p,
              {"listen", "advertise", "seeds", "zone", "heartbeat_ms", "failure_timeout_ms",
               "redial_ms", "max_moving_shards", "handoff_timeout_ms", "zone_rules"});
  c.address(*t, p, "listen", cluster.listen);
  c.address(*t, p, "advertise", cluster.advertise);
  read_seeds(c, *t, cluster.seeds);
  if (auto* zone = c.string(*t, p, "zone", cluster.zone)) {
    if (!is_node_id(cluster.zone)) {
      c.fail(*zone, "cluster.zone",
             "must be 1 to 64 characters of a-z, 0-9 and '-', got " + quoted(cluster.zone));
    }
  }
  c.integer(*t, p, "heartbeat_ms", 10, 60'000, cluster.heartbeat_ms);
  auto* timeout = c.integer(*t, p, "failure_timeout_ms", 20, 600'000, cluster.failure_timeout_ms);
  c.integer(*t, p, "redial_ms", 10, 600'000, cluster.redial_ms);
  c.integer(*t, p, "max_moving_shards", 1, 65'536, cluster.max_moving_shards);
  c.integer(*t, p, "handoff_timeout_ms", 100, 600'000, cluster.handoff_timeout_ms);
  read_zone_rules(c, *t, shards, cluster.zone_rules);
  if (c.failed()) {
    return;
  }
  if (cluster.failure_timeout_ms < 2 * cluster.heartbeat_ms) {
    // One late heartbeat must not declare a healthy peer unreachable.
    c.fail(timeout != nullptr ? *timeout : static_cast<const toml::node&>(*t),
           "cluster.failure_timeout_ms",
           "must be at least twice heartbeat_ms (" + std::to_string(cluster.heartbeat_ms)
               + "), got " + std::to_string(cluster.failure_timeout_ms));
  }
  if (cluster.advertise.host.empty()) {
    cluster.advertise = cluster.listen;
  }
  if (is_wildcard(cluster.advertise.host)) {
    c.fail(*t, "cluster.advertise",
           "listen is a wildcard address (" + to_string(cluster.listen)
               + "): set advertise to the address peers dial");
  }
}

}  // namespace tidegate::actors::config_detail
