#include "cluster/cluster_status.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tidegate::cluster {

cluster_snapshot snapshot_of(const membership_view& view, int64_t now_ms) {
  cluster_snapshot s;
  s.self = view.self().name;
  if (const auto* leader = view.leader()) {
    s.leader = leader->name;
  }
  s.known = view.known_count();
  s.reachable = view.reachable_count();
  s.has_majority = view.has_majority();
  s.members = view.members();
  s.taken_at_ms = now_ms;
  return s;
}

void cluster_status::publish(cluster_snapshot snapshot) {
  bool writable = snapshot.has_majority;
  std::set<std::string> reachable;
  std::map<std::string, int64_t> incarnations;
  for (const auto& m : snapshot.members) {
    if (m.reachable) {
      reachable.insert(m.info.name);
    }
    incarnations[m.info.name] = m.info.started_at_ms;
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    snapshot_ = std::move(snapshot);
    reachable_ = std::move(reachable);
    incarnations_ = std::move(incarnations);
    derive_peers();
  }
  writable_.store(writable, std::memory_order_release);
}

cluster_snapshot cluster_status::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return snapshot_;
}

void cluster_status::publish_map(shard_map map) {
  auto next = std::make_shared<const shard_map>(std::move(map));
  bool rules_changed = false;
  bool changed = false;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    rules_changed = map_->version != 0 && next->zone_rules != map_->zone_rules;
    changed = next->term != map_->term || next->version != map_->version;
    map_ = std::move(next);
  }
  if (changed && map_changed_) {
    map_changed_();
  }
  if (rules_changed && rules_changed_) {
    rules_changed_();
  }
}

std::vector<zone_rule> cluster_status::zone_rules(const std::vector<zone_rule>& configured) const {
  std::lock_guard<std::mutex> guard{mutex_};
  if (map_->zone_rules.empty() && !map_->zone_rules_pushed) {
    return configured;
  }
  return map_->zone_rules;
}

int64_t cluster_status::incarnation_of(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = incarnations_.find(name);
  return it == incarnations_.end() ? 0 : it->second;
}

std::string cluster_status::leader() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return snapshot_.leader;
}

void cluster_status::set_local_controller(caf::actor controller) {
  std::lock_guard<std::mutex> guard{mutex_};
  local_controller_ = std::move(controller);
}

caf::actor cluster_status::leader_controller() const {
  std::lock_guard<std::mutex> guard{mutex_};
  if (snapshot_.leader.empty()) {
    return {};
  }
  if (snapshot_.leader == snapshot_.self) {
    return local_controller_;
  }
  auto it = services_.find(snapshot_.leader);
  return it == services_.end() ? caf::actor{} : it->second.controller;
}

void cluster_status::publish_services(std::map<std::string, node_services> services) {
  std::lock_guard<std::mutex> guard{mutex_};
  services_ = std::move(services);
  derive_peers();
}

void cluster_status::derive_peers() {
  peer_sessions_.clear();
  peer_relays_.clear();
  for (const auto& [name, services] : services_) {
    if (reachable_.count(name) == 0) {
      continue;
    }
    if (services.sessions) {
      peer_sessions_.push_back(services.sessions);
    }
    if (services.relay) {
      peer_relays_.push_back(services.relay);
    }
  }
}

node_services cluster_status::reachable_services(const std::string& name) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto it = services_.find(name);
  if (it == services_.end() || reachable_.count(name) == 0) {
    return {};
  }
  return it->second;
}

std::vector<caf::actor> cluster_status::peer_sessions() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return peer_sessions_;
}

std::vector<caf::actor> cluster_status::peer_relays() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return peer_relays_;
}

std::vector<dispatch_candidate> cluster_status::dispatch_candidates(int64_t own_load) const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<dispatch_candidate> out;
  const auto& draining = map_->draining;
  for (const auto& m : snapshot_.members) {
    if (!m.reachable
        || std::find(draining.begin(), draining.end(), m.info.name) != draining.end()) {
      continue;  // a draining member gets no new clients
    }
    int64_t load = own_load;
    if (!m.self) {
      auto it = services_.find(m.info.name);
      load = it != services_.end() ? it->second.connections : 0;
    }
    out.push_back({m.info.name, m.info.zone, m.info.client_address, load});
  }
  return out;
}

std::shared_ptr<const shard_map> cluster_status::map() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return map_;
}

namespace {

struct map_counts {
  std::map<std::string, size_t> primaries;
  std::map<std::string, size_t> replicas;
  size_t unavailable = 0;  // shards whose primary is not reachable
  size_t in_sync = 0;      // shards whose replica may be promoted
  size_t moving = 0;       // shards with a planned move of their primary
  size_t learners = 0;     // shards with a learner catching up (decision 0020)
};

map_counts count(const shard_map& map, const cluster_snapshot& s) {
  map_counts c;
  std::set<std::string> up;
  for (const auto& m : s.members) {
    if (m.reachable) {
      up.insert(m.info.name);
    }
  }
  for (const auto& o : map.shards) {
    ++c.primaries[o.primary];
    if (!o.replica.empty()) {
      ++c.replicas[o.replica];
    }
    if (up.count(o.primary) == 0) {
      ++c.unavailable;
    }
    if (o.replica_in_sync) {
      ++c.in_sync;
    }
    if (!o.moving_to.empty()) {
      ++c.moving;
    }
    if (!o.learner.empty()) {
      ++c.learners;
    }
  }
  return c;
}

}  // namespace

std::string render_cluster_json(const cluster_snapshot& s, const shard_map& map) {
  using nlohmann::json;
  json members = json::array();
  for (const auto& m : s.members) {
    json entry{{"name", m.info.name},
               {"zone", m.info.zone},
               {"cluster_address", cluster_address(m.info)},
               {"client_address", m.info.client_address},
               {"http_address", m.info.http_address},
               {"started_at_ms", m.info.started_at_ms},
               {"self", m.self},
               {"state", m.reachable ? "up" : "unreachable"}};
    entry["heard_ms_ago"] =
        m.self || m.last_heard_ms == 0 ? json(nullptr) : json(s.taken_at_ms - m.last_heard_ms);
    members.push_back(std::move(entry));
  }
  json out{{"self", s.self},
           {"leader", s.leader.empty() ? json(nullptr) : json(s.leader)},
           {"known", s.known},
           {"reachable", s.reachable},
           {"has_majority", s.has_majority},
           {"members", std::move(members)}};
  auto c = count(map, s);
  out["map"] = {{"term", map.term},
                {"version", map.version},
                {"issued_by", map.issued_by},
                {"shards", map.shards.size()},
                {"primaries", c.primaries},
                {"replicas", c.replicas},
                {"unavailable", c.unavailable},
                {"replicas_in_sync", c.in_sync},
                {"moving", c.moving},
                {"learners", c.learners},
                {"draining", map.draining}};
  return out.dump();
}

std::string render_shards_json(const shard_map& map) {
  using nlohmann::json;
  json rules = json::array();
  for (const auto& r : map.zone_rules) {
    rules.push_back({{"first_shard", r.first}, {"last_shard", r.last}, {"zone", r.zone}});
  }
  json shards = json::array();
  for (size_t i = 0; i < map.shards.size(); ++i) {
    const auto& o = map.shards[i];
    shards.push_back({{"shard", i},
                      {"primary", o.primary},
                      {"replica", o.replica},
                      {"replica_in_sync", o.replica_in_sync},
                      {"epoch", o.epoch},
                      {"moving_to", o.moving_to},
                      {"learner", o.learner}});
  }
  json out{{"term", map.term},           {"version", map.version},
           {"issued_by", map.issued_by}, {"draining", map.draining},
           {"zone_rules", rules},        {"zone_rules_pushed", map.zone_rules_pushed},
           {"shards", std::move(shards)}};
  return out.dump();
}

std::string render_cluster_metrics(const cluster_snapshot& s, const shard_map& map) {
  std::ostringstream out;
  const std::string node = "node=\"" + s.self + "\"";
  out << "# HELP tidegate_cluster_members_known Members this node knows, itself and unresolved "
         "seeds included.\n"
      << "# TYPE tidegate_cluster_members_known gauge\n"
      << "tidegate_cluster_members_known{" << node << "} " << s.known << "\n"
      << "# HELP tidegate_cluster_members_reachable Known members heard within the failure "
         "timeout, itself included.\n"
      << "# TYPE tidegate_cluster_members_reachable gauge\n"
      << "tidegate_cluster_members_reachable{" << node << "} " << s.reachable << "\n"
      << "# HELP tidegate_cluster_has_majority 1 while this node sees a majority and accepts "
         "writes.\n"
      << "# TYPE tidegate_cluster_has_majority gauge\n"
      << "tidegate_cluster_has_majority{" << node << "} " << (s.has_majority ? 1 : 0) << "\n"
      << "# HELP tidegate_cluster_is_leader 1 while this node is the cluster's leader.\n"
      << "# TYPE tidegate_cluster_is_leader gauge\n"
      << "tidegate_cluster_is_leader{" << node << "} " << (s.leader == s.self ? 1 : 0) << "\n"
      << "# HELP tidegate_cluster_map_version Version of the committed shard map here.\n"
      << "# TYPE tidegate_cluster_map_version gauge\n"
      << "tidegate_cluster_map_version{" << node << "} " << map.version << "\n"
      << "# HELP tidegate_cluster_shards_unavailable Shards whose primary this node cannot "
         "reach.\n"
      << "# TYPE tidegate_cluster_shards_unavailable gauge\n"
      << "tidegate_cluster_shards_unavailable{" << node << "} " << count(map, s).unavailable
      << "\n";
  return out.str();
}

}  // namespace tidegate::cluster
