#include "cluster/rebalance.h"

#include <algorithm>

namespace tidegate::cluster {
namespace {

// The planner's view of the members: who is up, who may take shards, and their loads, with a
// moving shard's primary counted at its target.
class planner {
 public:
  planner(std::vector<shard_owner>& owners, const std::vector<member_info>& up,
          const std::vector<std::string>& draining)
      : owners_(owners) {
    std::set<std::string> drain(draining.begin(), draining.end());
    for (const auto& m : up) {
      zone_of_[m.name] = m.zone;
      if (drain.count(m.name) == 0) {
        eligible_.push_back(m);
        primaries_[m.name] = 0;
        replicas_[m.name] = 0;
      }
    }
    std::sort(eligible_.begin(), eligible_.end(),
              [](const member_info& a, const member_info& b) { return a.name < b.name; });
  }

  bool is_up(const std::string& name) const { return zone_of_.count(name) != 0; }
  bool is_eligible(const std::string& name) const { return primaries_.count(name) != 0; }
  bool anyone_eligible() const { return !eligible_.empty(); }
  const std::string& zone_of(const std::string& name) const { return zone_of_.at(name); }

  // Counts the loads once cancellations are done.
  void count_loads() {
    for (const auto& o : owners_) {
      const auto& primary = o.moving_to.empty() ? o.primary : o.moving_to;
      if (auto it = primaries_.find(primary); it != primaries_.end()) {
        ++it->second;
      }
      if (auto it = replicas_.find(next_replica(o)); it != replicas_.end()) {
        ++it->second;
      }
    }
  }

  // The member that will hold `o`'s replica: its learner while it has one.
  static const std::string& next_replica(const shard_owner& o) {
    return o.learner.empty() ? o.replica : o.learner;
  }

  // The eligible members of home zone `zone`; every eligible member when it has none.
  std::vector<std::string> home_members(const std::string& zone) const {
    std::vector<std::string> out;
    for (const auto& m : eligible_) {
      if (m.zone == zone) {
        out.push_back(m.name);
      }
    }
    if (out.empty()) {
      for (const auto& m : eligible_) {
        out.push_back(m.name);
      }
    }
    return out;
  }

  // The least-loaded of `names` by `loads` (ties: the smaller name); empty if none.
  static std::string least(const std::vector<std::string>& names,
                           const std::map<std::string, size_t>& loads) {
    std::string best;
    for (const auto& n : names) {
      if (best.empty() || loads.at(n) < loads.at(best)) {
        best = n;
      }
    }
    return best;
  }

  std::string least_primaries(const std::vector<std::string>& names) const {
    return least(names, primaries_);
  }

  // The least-loaded eligible replica for `o`: in another zone than its primary when one has
  // an eligible member, else any but the primary. Empty if none.
  std::string replica_for(const shard_owner& o) const {
    const auto& primary_zone = zone_of(o.primary);
    std::vector<std::string> other_zone;
    std::vector<std::string> any;
    for (const auto& m : eligible_) {
      if (m.name == o.primary) {
        continue;
      }
      any.push_back(m.name);
      if (m.zone != primary_zone) {
        other_zone.push_back(m.name);
      }
    }
    return least(other_zone.empty() ? any : other_zone, replicas_);
  }

  // Whether a member of another zone than `name`'s could hold a replica of `name`'s shards.
  bool other_zone_eligible(const std::string& name) const {
    const auto& zone = zone_of(name);
    return std::any_of(eligible_.begin(), eligible_.end(),
                       [&](const member_info& m) { return m.zone != zone; });
  }

  // The eligible members with the most and the fewest replicas (ties: the smaller name).
  std::pair<std::string, std::string> replica_extremes() const {
    std::string most;
    std::string fewest;
    for (const auto& [name, n] : replicas_) {
      if (most.empty() || n > replicas_.at(most)) {
        most = name;
      }
      if (fewest.empty() || n < replicas_.at(fewest)) {
        fewest = name;
      }
    }
    return {most, fewest};
  }

  size_t replicas_of(const std::string& name) const { return replicas_.at(name); }

  // Whether `to` may hold `o`'s replica: another zone than the primary's, unless no other
  // zone has an eligible member.
  bool may_hold_replica(const shard_owner& o, const std::string& to) const {
    return to != o.primary
           && (zone_of(to) != zone_of(o.primary) || !other_zone_eligible(o.primary));
  }

  // Makes `to` the shard's next replica: its learner while the replica is in sync, so the
  // shard keeps two full copies until `to` caught up (decision 0020); else its replica.
  void set_replica(shard_owner& o, const std::string& to) {
    if (auto it = replicas_.find(next_replica(o)); it != replicas_.end()) {
      --it->second;
    }
    if (o.replica_in_sync && is_up(o.replica)) {
      o.learner = to;
    } else {
      o.replica = to;
      o.learner.clear();
      o.replica_in_sync = false;  // until replication reports it caught up
      o.replica_incarnation = 0;
    }
    ++replicas_[to];
  }

  void start_move(shard_owner& o, const std::string& to) {
    if (auto it = primaries_.find(o.primary); it != primaries_.end()) {
      --it->second;
    }
    ++primaries_[to];
    o.moving_to = to;
    if (o.replica != to && o.learner != to) {
      set_replica(o, to);
    }
  }

 private:
  std::vector<shard_owner>& owners_;
  std::map<std::string, std::string> zone_of_;  // members up
  std::vector<member_info> eligible_;           // up and not draining, by name
  std::map<std::string, size_t> primaries_;     // eligible only
  std::map<std::string, size_t> replicas_;      // eligible only
};

}  // namespace

void apply_handoffs(std::vector<shard_owner>& owners, const std::vector<handoff_report>& reports,
                    const std::map<std::string, int64_t>& incarnations) {
  for (const auto& r : reports) {
    if (r.shard >= owners.size()) {
      continue;
    }
    auto& o = owners[r.shard];
    auto now = incarnations.find(r.from);
    if (o.primary != r.from || o.epoch != r.epoch || !o.sealed() || o.moving_to != r.to
        || now == incarnations.end() || now->second != r.incarnation) {
      continue;
    }
    o.primary = r.to;
    o.replica = r.from;
    o.replica_in_sync = true;
    o.replica_incarnation = r.incarnation;
    o.moving_to.clear();
    ++o.epoch;
  }
}

void plan_moves(std::vector<shard_owner>& owners, const std::vector<member_info>& up,
                const std::vector<zone_rule>& rules, const std::vector<std::string>& draining,
                const move_limits& limits) {
  planner p{owners, up, draining};
  size_t in_motion = 0;
  for (uint32_t s = 0; s < owners.size(); ++s) {
    auto& o = owners[s];
    if (!o.moving_to.empty()
        && (o.moving_to == o.primary || !p.is_eligible(o.moving_to) || !p.is_up(o.primary)
            || limits.cancel.count(s) != 0)) {
      if (o.learner == o.moving_to) {
        o.learner.clear();
      }
      o.moving_to.clear();
    }
    if (!o.learner.empty() && (!p.is_eligible(o.learner) || limits.cancel.count(s) != 0)) {
      o.learner.clear();  // draining meanwhile, or cancelled: the shard is placed again below
    }
    if (!o.moving_to.empty() || !o.learner.empty() || (!o.replica.empty() && !o.replica_in_sync)) {
      ++in_motion;
    }
  }
  if (!p.anyone_eligible()) {
    return;
  }
  p.count_loads();
  auto budget_left = [&] { return in_motion < limits.max_in_motion; };
  auto movable_shard = [&](uint32_t s) {
    const auto& o = owners[s];
    return !o.primary.empty() && p.is_up(o.primary) && o.moving_to.empty() && o.learner.empty()
           && limits.cancel.count(s) == 0;
  };
  // Primaries on draining members or outside their home zone.
  for (uint32_t s = 0; s < owners.size() && budget_left(); ++s) {
    auto& o = owners[s];
    if (!movable_shard(s)) {
      continue;
    }
    auto home = p.home_members(home_zone(rules, s));
    if (std::find(home.begin(), home.end(), o.primary) != home.end()) {
      continue;
    }
    p.start_move(o, p.least_primaries(home));
    ++in_motion;
  }
  // Balance within each home zone: from the most to the least loaded, by whole shards.
  std::map<std::string, std::vector<uint32_t>> by_zone;
  for (uint32_t s = 0; s < owners.size(); ++s) {
    by_zone[home_zone(rules, s)].push_back(s);
  }
  for (const auto& [zone, shards] : by_zone) {
    auto home = p.home_members(zone);
    std::map<std::string, size_t> count;
    for (const auto& m : home) {
      count[m] = 0;
    }
    for (auto s : shards) {
      const auto& o = owners[s];
      if (auto it = count.find(o.moving_to.empty() ? o.primary : o.moving_to); it != count.end()) {
        ++it->second;
      }
    }
    while (budget_left()) {
      auto most = home.front();
      for (const auto& m : home) {
        if (count[m] > count[most]) {
          most = m;
        }
      }
      auto fewest = planner::least(home, count);
      if (count[most] <= count[fewest] + 1) {
        break;
      }
      // The highest shard of the most loaded member moves: low shards stay where they are.
      auto it = std::find_if(shards.rbegin(), shards.rend(), [&](uint32_t s) {
        return owners[s].primary == most && movable_shard(s);
      });
      if (it == shards.rend()) {
        break;
      }
      p.start_move(owners[*it], fewest);
      --count[most];
      ++count[fewest];
      ++in_motion;
    }
  }
  // Replicas on draining members, or beside their primary while another zone could hold them.
  for (uint32_t s = 0; s < owners.size() && budget_left(); ++s) {
    auto& o = owners[s];
    if (!movable_shard(s) || o.replica.empty() || !p.is_up(o.replica)) {
      continue;  // place() finds replicas for shards that have none up
    }
    bool misplaced =
        !p.is_eligible(o.replica)
        || (p.zone_of(o.replica) == p.zone_of(o.primary) && p.other_zone_eligible(o.primary));
    if (!misplaced) {
      continue;
    }
    auto to = p.replica_for(o);
    if (to.empty() || to == o.replica) {
      continue;
    }
    p.set_replica(o, to);
    ++in_motion;
  }
  // Balance replicas, among the in-sync ones, where the zones allow.
  while (budget_left()) {
    auto [most, fewest] = p.replica_extremes();
    if (most.empty() || p.replicas_of(most) <= p.replicas_of(fewest) + 1) {
      break;
    }
    bool moved = false;
    for (uint32_t s = static_cast<uint32_t>(owners.size()); s-- > 0;) {
      auto& o = owners[s];
      if (o.replica != most || !o.replica_in_sync || o.primary == fewest || !movable_shard(s)
          || !p.may_hold_replica(o, fewest)) {
        continue;
      }
      p.set_replica(o, fewest);
      ++in_motion;
      moved = true;
      break;
    }
    if (!moved) {
      break;
    }
  }
}

}  // namespace tidegate::cluster
