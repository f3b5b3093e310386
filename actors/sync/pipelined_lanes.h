#pragma once

#include <cstddef>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

namespace tidegate::actors {

/// Per destination actor, the items an outbox gathers into one message (a `Batch`) while its
/// previous message to that destination is unanswered: a destination has at most one
/// message in flight, unless a batch fills up first. So an idle outbox sends at once and a
/// busy one sends a round trip's worth of items per message, with no timer. Used on its
/// owning actor's thread only; the owner sends what take() returns and calls answered() once
/// for each, whatever the answer.
template <class Batch>
class pipelined_lanes {
 public:
  explicit pipelined_lanes(size_t full_bytes) : full_bytes_(full_bytes) {}

  /// What the owner does after queue().
  enum class next {
    send_now,  ///< The batch is full: take() and send it now.
    flush,     ///< Send itself a flush message, and send what flush() names when it arrives.
    wait,      ///< Nothing: a message in flight or a flush already pending will send it.
  };

  /// Adds an item of about `bytes` (at least 1) to `dest`'s next batch through `add(Batch&)`.
  template <class Add>
  next queue(const caf::actor& dest, size_t bytes, Add add) {
    auto& l = lanes_[dest.address()];
    l.dest = dest;
    l.bytes += bytes;
    add(l.queued);
    if (l.bytes >= full_bytes_) {
      return next::send_now;
    }
    if (l.in_flight != 0 || flush_pending_) {
      return next::wait;
    }
    flush_pending_ = true;  // one flush message serves every lane
    return next::flush;
  }

  /// Takes `dest`'s queued batch, counted in flight until answered().
  std::pair<caf::actor, Batch> take(const caf::actor_addr& dest) {
    auto& l = lanes_.at(dest);
    ++l.in_flight;
    l.bytes = 0;
    return {l.dest, std::exchange(l.queued, Batch{})};
  }

  /// A message to `dest` was answered or failed. True when its queued batch should go now.
  bool answered(const caf::actor_addr& dest) {
    auto it = lanes_.find(dest);
    if (it == lanes_.end()) {
      return false;
    }
    auto& l = it->second;
    --l.in_flight;
    if (l.bytes > 0) {
      return true;
    }
    if (l.in_flight == 0) {
      lanes_.erase(it);  // idle: a destination that went away leaves nothing behind
    }
    return false;
  }

  /// On the owner's flush message: the destinations with a batch queued and nothing in
  /// flight, whose batches the owner takes and sends now.
  std::vector<caf::actor_addr> flush() {
    flush_pending_ = false;
    std::vector<caf::actor_addr> out;
    for (const auto& [addr, l] : lanes_) {
      if (l.in_flight == 0 && l.bytes > 0) {
        out.push_back(addr);
      }
    }
    return out;
  }

 private:
  struct lane {
    caf::actor dest;
    Batch queued;
    size_t bytes = 0;  ///< Of `queued`; 0 exactly when it is empty (every item counts).
    size_t in_flight = 0;
  };

  size_t full_bytes_;
  bool flush_pending_ = false;
  std::unordered_map<caf::actor_addr, lane> lanes_;
};

}  // namespace tidegate::actors
