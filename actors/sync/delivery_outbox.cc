#include "actors/sync/delivery_outbox.h"

#include <chrono>
#include <string>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/pipelined_lanes.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// A batch goes at once when it holds this much, even while the previous one is in flight.
constexpr size_t full_batch_bytes = size_t{1} << 20;
// A member that does not answer within this gets the next batch anyway (a frozen member must
// not keep the others' deliveries queued).
constexpr auto answer_timeout = std::chrono::seconds(2);

size_t approx_bytes(const owner_delivery& d) {
  size_t n = 64 + d.owner.size();
  for (const auto& r : d.page.records) {
    n += approx_message_bytes(r);
  }
  return n;
}

struct outbox_state {
  static inline const char* name = "tidegate.delivery_outbox";
  sync_context_ptr ctx;  // only its peer_sessions, which reads the live cluster status
  pipelined_lanes<owner_deliveries> lanes{full_batch_bytes};
};

using outbox_actor = caf::stateful_actor<outbox_state>;

void send_queued(outbox_actor* self, const caf::actor_addr& addr) {
  auto [registry, batch] = self->state.lanes.take(addr);
  auto answered = [self, addr] {
    if (self->state.lanes.answered(addr)) {
      send_queued(self, addr);
    }
  };
  self->request(registry, caf::duration{answer_timeout}, deliver_atom_v, std::move(batch))
      .then([answered] { answered(); }, [answered](caf::error&) { answered(); });
}

void enqueue(outbox_actor* self, uint8_t kind, const std::string& owner, const sync_page& page) {
  auto& st = self->state;
  if (!st.ctx->peer_sessions) {
    return;  // not a cluster member
  }
  owner_delivery d{kind, owner, page};
  auto bytes = approx_bytes(d);
  using next_step = pipelined_lanes<owner_deliveries>::next;
  for (const auto& registry : st.ctx->peer_sessions()) {
    auto next = st.lanes.queue(registry, bytes, [&](owner_deliveries& b) { b.items.push_back(d); });
    if (next == next_step::send_now) {
      send_queued(self, registry.address());
    } else if (next == next_step::flush) {
      self->send(self, caf::flush_atom_v);  // behind every message queued now: they join
    }
  }
}

caf::behavior delivery_outbox(outbox_actor* self, sync_context_ptr ctx) {
  self->state.ctx = std::move(ctx);
  unname_on_exit(self, delivery_outbox_name);
  return {
      [self](deliver_atom, uint8_t kind, const std::string& owner, const sync_page& page) {
        enqueue(self, kind, owner, page);
      },
      [self](caf::flush_atom) {
        for (const auto& addr : self->state.lanes.flush()) {
          send_queued(self, addr);
        }
      },
  };
}

}  // namespace

caf::actor spawn_delivery_outbox(caf::actor_system& sys, sync_context_ptr ctx) {
  return name_actor(sys, delivery_outbox_name, sys.spawn(delivery_outbox, std::move(ctx)));
}

}  // namespace tidegate::actors
