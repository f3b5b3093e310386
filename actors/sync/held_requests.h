#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// The requests a sync router or topic directory holds while their shard is sealed for a
/// hand-off (decision 0017: buffer, then replay). Owned by the actor's state and used on its
/// thread only. A held message keeps its sender and request id: whoever asked gets the answer
/// of wherever it is replayed, as if it had gone there first.
class held_requests {
 public:
  /// How long a request is held at most before it fails with shard_unavailable (the
  /// controller cancels a hand-off that takes longer than its timeout anyway).
  static constexpr std::chrono::milliseconds max_hold{5000};
  /// How often held requests are looked at.
  static constexpr std::chrono::milliseconds period{20};

  /// Holds `self`'s current message (a request or a one-way message) for `shard`, and has
  /// `self` sent replay_atom in `period` when nothing was held before.
  caf::response_promise hold(caf::event_based_actor* self, uint16_t shard);

  /// On replay_atom: replays the requests whose shard is no longer sealed (`route(shard)`)
  /// to `self` again, which routes them as new (to another member through its pending calls,
  /// so a request to a new primary that dies fails at once instead of waiting out a
  /// timeout); fails those whose shard is unavailable or that waited `max_hold`. Schedules
  /// the next replay_atom while any are left.
  void replay(caf::event_based_actor* self, const std::function<shard_route(uint16_t)>& route);

  size_t size() const { return held_.size(); }

 private:
  struct held {
    uint16_t shard = 0;
    caf::response_promise promise;
    caf::message message;
    std::chrono::steady_clock::time_point since;
  };
  std::vector<held> held_;
};

}  // namespace tidegate::actors
