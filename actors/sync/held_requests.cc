#include "actors/sync/held_requests.h"

#include <caf/event_based_actor.hpp>
#include <caf/mailbox_element.hpp>

#include "actors/atoms.h"
#include "actors/sync/sync_errc.h"

namespace tidegate::actors {

caf::response_promise held_requests::hold(caf::event_based_actor* self, uint16_t shard) {
  held h;
  h.shard = shard;
  h.promise = self->make_response_promise();
  h.message = self->current_mailbox_element()->copy_content_to_message();
  h.since = std::chrono::steady_clock::now();
  if (held_.empty()) {
    self->delayed_send(caf::actor_cast<caf::actor>(self), period, replay_atom_v);
  }
  held_.push_back(std::move(h));
  return held_.back().promise;
}

void held_requests::replay(caf::event_based_actor* self,
                           const std::function<shard_route(uint16_t)>& route) {
  auto now = std::chrono::steady_clock::now();
  std::vector<held> still;
  for (auto& h : held_) {
    auto r = route ? route(h.shard) : shard_route{};
    using where = shard_route::where;
    if (r.at == where::sealed && now - h.since < max_hold) {
      still.push_back(std::move(h));
      continue;
    }
    switch (r.at) {
      case where::local:
      case where::remote:
        h.promise.delegate(caf::actor_cast<caf::actor>(self), std::move(h.message));
        break;
      case where::unavailable:
        h.promise.deliver(caf::make_error(sync_errc::shard_unavailable, r.why));
        break;
      case where::sealed:
        h.promise.deliver(caf::make_error(sync_errc::shard_unavailable,
                                          "shard " + std::to_string(h.shard)
                                              + " was still being handed over after "
                                              + std::to_string(max_hold.count()) + " ms"));
        break;
    }
  }
  held_ = std::move(still);
  if (!held_.empty()) {
    self->delayed_send(caf::actor_cast<caf::actor>(self), period, replay_atom_v);
  }
}

}  // namespace tidegate::actors
