#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/system_messages.hpp>

#include "actors/sync/sync_context.h"

namespace tidegate::actors {

/// The requests an actor sent for a shard and has no answer for yet: a sync router's or topic
/// directory's to its buckets and to the router or directory of the member that is a shard's
/// primary; a sync bucket's or catch-up's to the replica's sink. Owned by the actor's state
/// and used on its thread only.
///
/// Why not delegate, or a plain request: a request to a member that dies waits out its
/// timeout, since nothing else ever answers it. Here each target is monitored, and its calls
/// fail at once when it goes down (a killed member: within milliseconds of its sockets
/// closing). A frozen member keeps its sockets, so calls to another member also fail once the
/// shard map stops naming it for their shard (sweep(), on each new map), a second or so after
/// it froze. Either failure is retryable: the op may have been applied there, and a retry with
/// the same msg_id gets its original version.
///
/// The owner's down handler calls on_down(); its handlers for map_changed_atom and
/// sweep_atom call sweep().
class pending_calls {
 public:
  /// A call to another member is failed for a map that no longer names its target only once
  /// it is this old (a hand-off's replay, or the old replica's answer, comes well within it).
  static constexpr std::chrono::milliseconds stale_after{1000};
  /// A request to another member fails after this at the latest (its link may stay up while
  /// it is frozen, and its shards may stay routed to it when no replica can take over).
  static constexpr std::chrono::seconds remote_timeout{10};

  using fail_fn = std::function<void(caf::error&)>;

  /// Monitors `target` unless it is watched already. Its down message must reach on_down().
  void watch(caf::event_based_actor* self, const caf::actor& target);

  /// Sends `xs` to `target` as a request for `shard`, with `timeout`; `on_answer(Answer&...)`
  /// gets the answer and `on_error(caf::error&)` a failure, whichever comes first: a timeout,
  /// an error answer, the target going down, or the shard map routing `shard` elsewhere.
  template <class... Answer, class OnAnswer, class OnError, class... Ts>
  void request(caf::event_based_actor* self, const caf::actor& target, uint16_t shard,
               caf::duration timeout, OnAnswer on_answer, OnError on_error, Ts&&... xs) {
    request_via<Answer...>(self, target, target, shard, timeout, std::move(on_answer),
                           std::move(on_error), std::forward<Ts>(xs)...);
  }

  /// As request(), but `xs` goes to `via`, a local actor that passes it on to `target` and
  /// returns the answer (the replica_outbox): the call fails as a call to `target` does.
  template <class... Answer, class OnAnswer, class OnError, class... Ts>
  void request_via(caf::event_based_actor* self, const caf::actor& via, const caf::actor& target,
                   uint16_t shard, caf::duration timeout, OnAnswer on_answer, OnError on_error,
                   Ts&&... xs) {
    auto addr = target.address();
    auto number = open(self, target, shard, fail_fn{std::move(on_error)});
    self->request(via, timeout, std::forward<Ts>(xs)...)
        .then(
            [this, addr, number, on_answer = std::move(on_answer)](Answer&... got) mutable {
              if (take(addr, number)) {
                on_answer(got...);
              }
            },
            [this, addr, number](caf::error& err) {
              if (auto fail = take(addr, number)) {
                (*fail)(err);
              }
            });
  }

  /// Answers the current request with what `target`, an actor of another member, answers
  /// `xs` (of type Answer...), as delegate() does, but fails it as request() says, and after
  /// remote_timeout at the latest.
  template <class... Answer, class... Ts>
  caf::response_promise forward(caf::event_based_actor* self, const caf::actor& target,
                                uint16_t shard, Ts&&... xs) {
    auto promise = self->make_response_promise();
    request<Answer...>(
        self, target, shard, caf::duration{remote_timeout},
        [promise](Answer&... got) mutable { promise.deliver(std::move(got)...); },
        [promise](caf::error& err) mutable { promise.deliver(std::move(err)); },
        std::forward<Ts>(xs)...);
    return promise;
  }

  /// From the owner's down handler: fails every open call to `msg.source` with `why` and
  /// stops watching it. Returns whether it was watched here.
  bool on_down(const caf::down_msg& msg, const caf::error& why);

  /// On a new shard map, and on the sweep_atom this schedules: fails the calls to other
  /// members open for `stale_after` that `still_named(shard, target)` denies, and has `self`
  /// sent sweep_atom for when the next younger denied one is that old.
  using still_named_fn = std::function<bool(uint16_t shard, const caf::actor_addr& target)>;
  void sweep(caf::event_based_actor* self, const still_named_fn& still_named);

 private:
  struct call {
    uint16_t shard = 0;
    bool remote = false;
    std::chrono::steady_clock::time_point since;
    fail_fn fail;
  };

  uint64_t open(caf::event_based_actor* self, const caf::actor& target, uint16_t shard,
                fail_fn fail);
  /// Removes the call; returns its fail function when it was still open.
  std::optional<fail_fn> take(const caf::actor_addr& target, uint64_t number);

  std::unordered_set<caf::actor_addr> watched_;
  std::unordered_map<caf::actor_addr, std::unordered_map<uint64_t, call>> open_;
  uint64_t next_ = 0;
  // When the sweep_atom last scheduled arrives (none pending: the epoch).
  std::chrono::steady_clock::time_point sweep_due_{};
};

/// For sweep() of calls to the shards' primaries: true while `route` sends `shard` to another
/// member whose `service` (&shard_route::router or &shard_route::topics) is `target`.
pending_calls::still_named_fn routed_to(std::function<shard_route(uint16_t)> route,
                                        caf::actor shard_route::*service);

}  // namespace tidegate::actors
