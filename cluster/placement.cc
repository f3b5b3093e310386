#include "cluster/placement.h"

#include <algorithm>
#include <map>
#include <set>

namespace tidegate::cluster {
namespace {

struct load {
  size_t primaries = 0;
  size_t replicas = 0;
};

// The member with the fewest `field` among those `eligible` accepts, ties by name; null if none.
template <class Eligible>
const member_info* least_loaded(const std::vector<member_info>& up,
                                const std::map<std::string, load>& loads, size_t load::*field,
                                Eligible eligible) {
  const member_info* best = nullptr;
  for (const auto& m : up) {
    if (!eligible(m)) {
      continue;
    }
    if (best == nullptr || loads.at(m.name).*field < loads.at(best->name).*field
        || (loads.at(m.name).*field == loads.at(best->name).*field && m.name < best->name)) {
      best = &m;
    }
  }
  return best;
}

}  // namespace

std::string home_zone(const std::vector<zone_rule>& rules, uint32_t shard) {
  for (const auto& rule : rules) {
    if (shard >= rule.first && shard <= rule.last) {
      return rule.zone;
    }
  }
  return {};
}

std::vector<shard_owner> place(const std::vector<shard_owner>& current,
                               const std::vector<member_info>& up_members,
                               const std::vector<zone_rule>& rules, uint32_t shard_count) {
  std::vector<member_info> up = up_members;
  std::sort(up.begin(), up.end(),
            [](const member_info& a, const member_info& b) { return a.name < b.name; });
  std::map<std::string, load> loads;
  std::map<std::string, std::string> zone_of;
  for (const auto& m : up) {
    loads[m.name];
    zone_of[m.name] = m.zone;
  }
  auto is_up = [&loads](const std::string& name) { return loads.count(name) != 0; };
  std::vector<shard_owner> next(shard_count);
  for (uint32_t s = 0; s < shard_count && s < current.size(); ++s) {
    auto& o = next[s];
    o = current[s];
    if (!o.learner.empty()
        && (!is_up(o.learner) || o.learner == o.primary || o.learner == o.replica)) {
      o.learner.clear();  // gone: a later move starts over
    }
    if (is_up(o.primary)) {
      ++loads[o.primary].primaries;
    }
    // A learner counts where it will be a replica, and the replica it replaces still counts.
    for (const auto* copy : {&o.replica, &o.learner}) {
      if (is_up(*copy)) {
        ++loads[*copy].replicas;
      }
    }
  }
  if (up.empty()) {
    return next;
  }
  for (uint32_t s = 0; s < shard_count; ++s) {
    auto& o = next[s];
    if (o.primary.empty()) {
      auto home = home_zone(rules, s);
      const member_info* pick =
          least_loaded(up, loads, &load::primaries, [&](const auto& m) { return m.zone == home; });
      if (pick == nullptr) {
        pick = least_loaded(up, loads, &load::primaries, [](const auto&) { return true; });
      }
      o.primary = pick->name;
      o.epoch = 1;
      ++loads[o.primary].primaries;
    } else if (!is_up(o.primary)) {
      if (!is_up(o.replica) || !o.replica_in_sync) {
        continue;  // unavailable: nobody up holds all of its data
      }
      o.primary = o.replica;  // promote
      o.replica.clear();
      o.replica_in_sync = false;
      o.replica_incarnation = 0;
      ++o.epoch;
      --loads[o.primary].replicas;
      ++loads[o.primary].primaries;
    }
    if ((o.replica.empty() || !is_up(o.replica)) && !o.learner.empty()) {
      // The learner has most of the shard already, and the stream: it goes on as the replica.
      o.replica = std::move(o.learner);
      o.learner.clear();
      o.replica_in_sync = false;
      o.replica_incarnation = 0;
    }
    if (o.replica.empty() || !is_up(o.replica)) {
      const auto& primary_zone = zone_of[o.primary];
      auto other = [&](const member_info& m) { return m.name != o.primary; };
      const member_info* pick = least_loaded(up, loads, &load::replicas, [&](const auto& m) {
        return other(m) && m.zone != primary_zone;
      });
      if (pick == nullptr) {
        pick = least_loaded(up, loads, &load::replicas, other);
      }
      o.replica = pick == nullptr ? std::string{} : pick->name;
      o.replica_in_sync = false;  // until replication reports it caught up
      o.replica_incarnation = 0;
      if (pick != nullptr) {
        ++loads[o.replica].replicas;
      }
    }
  }
  return next;
}

void apply_sync_reports(std::vector<shard_owner>& owners, const std::vector<sync_report>& reports,
                        const std::map<std::string, int64_t>& incarnations) {
  for (const auto& r : reports) {
    if (r.shard >= owners.size()) {
      continue;
    }
    auto& o = owners[r.shard];
    auto now = incarnations.find(r.replica);
    if (o.epoch != r.epoch || now == incarnations.end() || now->second != r.incarnation) {
      continue;
    }
    if (o.replica == r.replica) {
      o.replica_in_sync = true;
      o.replica_incarnation = r.incarnation;
    } else if (o.learner == r.replica) {
      // Caught up: the learner takes the replica's place, and the replica it replaces goes.
      o.replica = std::move(o.learner);
      o.learner.clear();
      o.replica_in_sync = true;
      o.replica_incarnation = r.incarnation;
    }
  }
  for (auto& o : owners) {
    if (!o.replica_in_sync) {
      continue;
    }
    auto now = incarnations.find(o.replica);
    if (now != incarnations.end() && now->second != o.replica_incarnation) {
      o.replica_in_sync = false;  // restarted since it caught up: it may have lost data
      o.replica_incarnation = 0;
    }
  }
}

}  // namespace tidegate::cluster
