#include "actors/sync/pending_calls.h"

#include <algorithm>
#include <vector>

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
    auto err = why;
    c.fail(err);
  }
  return true;
}

void pending_calls::sweep(caf::event_based_actor* self, const still_named_fn& still_named) {
  using clock = std::chrono::steady_clock;
  auto now = clock::now();
  if (sweep_due_ <= now) {
    sweep_due_ = {};
  }
  std::optional<clock::time_point> next;  // when the oldest young denied call is stale
  std::vector<fail_fn> failed;
  for (auto i = open_.begin(); i != open_.end();) {
    auto& calls = i->second;
    for (auto j = calls.begin(); j != calls.end();) {
      auto& c = j->second;
      if (!c.remote || still_named(c.shard, i->first)) {
        ++j;
        continue;
      }
      if (now - c.since < stale_after) {
        next = std::min(next.value_or(clock::time_point::max()), c.since + stale_after);
        ++j;
        continue;
      }
      failed.push_back(std::move(c.fail));
      j = calls.erase(j);
    }
    i = calls.empty() ? open_.erase(i) : std::next(i);
  }
  // One pending sweep_atom at a time, the earliest needed; each sweep schedules the next.
  if (next && (sweep_due_ == clock::time_point{} || *next < sweep_due_)) {
    sweep_due_ = *next;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*next - now);
    self->delayed_send(caf::actor_cast<caf::actor>(self), wait + std::chrono::milliseconds{1},
                       sweep_atom_v);
  }
  // Failing runs callers' code, which may open calls: only after the walk.
  for (auto& fail : failed) {
    auto err = caf::make_error(sync_errc::shard_unavailable,
                               "the shard map no longer names the member this request went to;"
                               " it may have been applied: retry with the same msg_id");
    fail(err);
  }
}

pending_calls::still_named_fn routed_to(std::function<shard_route(uint16_t)> route,
                                        caf::actor shard_route::*service) {
  return [route = std::move(route), service](uint16_t shard, const caf::actor_addr& target) {
    if (!route) {
      return true;  // no cluster: nothing moves
    }
    auto r = route(shard);
    return r.at == shard_route::where::remote && (r.*service).address() == target;
  };
}

}  // namespace tidegate::actors
