#include "cluster/membership_view.h"

#include <algorithm>

namespace tidegate::cluster {

membership_view::membership_view(member_info self, const std::vector<std::string>& seeds) {
  self_.info = std::move(self);
  self_.self = true;
  self_.reachable = true;
  auto own = cluster_address(self_.info);
  for (const auto& seed : seeds) {
    if (seed != own && std::find(seeds_.begin(), seeds_.end(), seed) == seeds_.end()) {
      seeds_.push_back(seed);
    }
  }
}

bool membership_view::stale(const member_info& m) const {
  if (m.name == self_.info.name) {
    return true;  // news of ourselves (or of an older incarnation of ours) changes nothing
  }
  if (auto gone = left_.find(m.name);
      gone != left_.end() && m.started_at_ms <= gone->second.started_at_ms) {
    return true;
  }
  auto it = peers_.find(m.name);
  return it != peers_.end() && m.started_at_ms < it->second.info.started_at_ms;
}

bool membership_view::heard(const member_info& m, int64_t now) {
  if (stale(m)) {
    return false;
  }
  auto& status = peers_[m.name];
  status.info = m;
  status.reachable = true;
  status.last_heard_ms = now;
  return true;
}

bool membership_view::learn(const member_info& m) {
  if (stale(m)) {
    return false;
  }
  auto it = peers_.find(m.name);
  if (it != peers_.end() && it->second.info.started_at_ms == m.started_at_ms) {
    return false;
  }
  // New, or a restart: the new incarnation must be heard before it counts as reachable.
  member_status status;
  status.info = m;
  peers_[m.name] = std::move(status);
  return true;
}

void membership_view::lost(const std::string& name) {
  if (auto it = peers_.find(name); it != peers_.end()) {
    it->second.reachable = false;
  }
}

void membership_view::left(const std::string& name, int64_t started_at_ms) {
  auto it = peers_.find(name);
  if (it == peers_.end() || it->second.info.started_at_ms > started_at_ms) {
    return;  // unknown, or an older incarnation's leave arriving late
  }
  left_[name] = it->second.info;  // its address keeps its seed resolved
  peers_.erase(it);
}

std::vector<std::string> membership_view::expire(int64_t now, int64_t timeout_ms) {
  std::vector<std::string> out;
  for (auto& [name, status] : peers_) {
    if (status.reachable && now - status.last_heard_ms > timeout_ms) {
      status.reachable = false;
      out.push_back(name);
    }
  }
  return out;
}

void membership_view::forgive(int64_t now) {
  for (auto& [name, status] : peers_) {
    if (status.reachable) {
      status.last_heard_ms = now;
    }
  }
}

std::vector<std::string> membership_view::unresolved_seeds() const {
  std::vector<std::string> out;
  for (const auto& seed : seeds_) {
    auto at_seed = [&seed](const auto& entry) {
      const member_info& m = entry.second;
      return cluster_address(m) == seed;
    };
    auto status_at_seed = [&seed](const auto& entry) {
      return cluster_address(entry.second.info) == seed;
    };
    bool resolved = std::any_of(peers_.begin(), peers_.end(), status_at_seed)
                    || std::any_of(left_.begin(), left_.end(), at_seed);
    if (!resolved) {
      out.push_back(seed);
    }
  }
  return out;
}

size_t membership_view::known_count() const {
  return 1 + peers_.size() + unresolved_seeds().size();
}

size_t membership_view::reachable_count() const {
  return 1 + static_cast<size_t>(std::count_if(peers_.begin(), peers_.end(), [](const auto& e) {
           return e.second.reachable;
         }));
}

const member_info* membership_view::leader() const {
  if (!has_majority()) {
    return nullptr;
  }
  const member_info* oldest = &self_.info;
  for (const auto& [name, status] : peers_) {
    if (status.reachable && older(status.info, *oldest)) {
      oldest = &status.info;
    }
  }
  return oldest;
}

std::vector<member_status> membership_view::members() const {
  std::vector<member_status> out{self_};
  for (const auto& [name, status] : peers_) {
    out.push_back(status);
  }
  std::sort(out.begin(), out.end(),
            [](const member_status& a, const member_status& b) { return older(a.info, b.info); });
  return out;
}

std::vector<member_info> membership_view::infos() const {
  std::vector<member_info> out{self_.info};
  for (const auto& [name, status] : peers_) {
    out.push_back(status.info);
  }
  return out;
}

const member_status* membership_view::find(const std::string& name) const {
  if (name == self_.info.name) {
    return &self_;
  }
  auto it = peers_.find(name);
  return it == peers_.end() ? nullptr : &it->second;
}

}  // namespace tidegate::cluster
