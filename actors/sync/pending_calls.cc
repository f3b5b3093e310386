#include "actors/sync/pending_calls.h"

#include "actors/atoms.h"
#include "actors/sync/sync_errc.h"

namespace tidegate::actors {

void pending_calls::watch(caf::event_based_actor* self, const caf::actor& target) {
  if (watched_.insert(target.address()).second) {
    self->monitor(target);
  }
}

uint64_t pending_calls::open(caf::event_based_actor* self, const caf::actor& target, uint16_t shard,
                             fail_fn fail) {
  watch(self, target);
  bool remote = target.node() != self->node();
  auto number = next_++;
  open_[target.address()].emplace(
      number, call{shard, remote, std::chrono::steady_clock::now(), std::move(fail)});
  if (remote) {
    ++remote_open_;
    if (!sweep_scheduled_) {
      sweep_scheduled_ = true;
      self->delayed_send(caf::actor_cast<caf::actor>(self), sweep_period, sweep_atom_v);
    }
  }
  return number;
}

std::optional<pending_calls::fail_fn> pending_calls::take(const caf::actor_addr& target,
                                                          uint64_t number) {
  auto i = open_.find(target);
  if (i == open_.end()) {
    return std::nullopt;
  }
  auto j = i->second.find(number);
  if (j == i->second.end()) {
    return std::nullopt;
  }
  auto out = std::move(j->second);
  i->second.erase(j);
  if (i->second.empty()) {
    open_.erase(i);
  }
  if (out.remote) {
    --remote_open_;
  }
  return std::move(out.fail);
}

bool pending_calls::on_down(const caf::down_msg& msg, const caf::error& why) {
  if (watched_.erase(msg.source) == 0) {
    return false;
  }
  auto i = open_.find(msg.source);
  if (i == open_.end()) {
    return true;
  }
  auto calls = std::move(i->second);
  open_.erase(i);
  for (auto& [number, c] : calls) {
    if (c.remote) {
      --remote_open_;
    }
    auto err = why;
    c.fail(err);
  }
  return true;
}

void pending_calls::sweep(caf::event_based_actor* self,
                          const std::function<shard_route(uint16_t)>& route,
                          const std::function<caf::actor(const shard_route&)>& target_of) {
  sweep_scheduled_ = false;
  auto now = std::chrono::steady_clock::now();
  std::vector<fail_fn> failed;
  for (auto i = open_.begin(); i != open_.end();) {
    auto& calls = i->second;
    for (auto j = calls.begin(); j != calls.end();) {
      auto& c = j->second;
      if (!c.remote || now - c.since < stale_after || !route) {
        ++j;
        continue;
      }
      auto r = route(c.shard);
      auto target = r.at == shard_route::where::remote ? target_of(r) : caf::actor{};
      if (target && target.address() == i->first) {
        ++j;
        continue;
      }
      --remote_open_;
      failed.push_back(std::move(c.fail));
      j = calls.erase(j);
    }
    i = calls.empty() ? open_.erase(i) : std::next(i);
  }
  // Failing runs callers' code, which may open calls: only after the walk.
  for (auto& fail : failed) {
    auto err = caf::make_error(sync_errc::shard_unavailable,
                               "the shard's primary changed while the request was on its way;"
                               " it may have been applied: retry with the same msg_id");
    fail(err);
  }
  if (remote_open_ > 0 && !sweep_scheduled_) {
    sweep_scheduled_ = true;
    self->delayed_send(caf::actor_cast<caf::actor>(self), sweep_period, sweep_atom_v);
  }
}

size_t pending_calls::size() const {
  size_t n = 0;
  for (const auto& [target, calls] : open_) {
    n += calls.size();
  }
  return n;
}

}  // namespace tidegate::actors
