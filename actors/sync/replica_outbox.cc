#include "actors/sync/replica_outbox.h"

#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/pipelined_lanes.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

// What an item adds to a stream message, roughly: enough to bound the message's size.
size_t approx_bytes(const storage::write_batch& b) {
  size_t n = 64;
  for (const auto& a : b.appends) {
    n += approx_message_bytes(a.record);
  }
  for (const auto& p : b.puts) {
    n += p.key.size() + p.value.size() + 16;
  }
  return n + 48 * (b.dedupes.size() + b.deletes.size() + b.erases.size() + b.rebases.size());
}

// The items of one stream message, and who waits for each answer.
struct pending_stream {
  replica_stream stream;
  std::vector<caf::response_promise> waiting;
};

struct outbox_state {
  static inline const char* name = "tidegate.replica_outbox";
  explicit outbox_state(size_t stream_bytes = replica_stream_bytes) : lanes(stream_bytes) {}
  pipelined_lanes<pending_stream> lanes;
};

using outbox_actor = caf::stateful_actor<outbox_state>;

void deliver(std::vector<caf::response_promise>& waiting, replica_outcomes& got) {
  if (got.outcomes.size() != waiting.size()) {
    auto err = caf::make_error(sync_errc::not_durable,
                               "the replica answered " + std::to_string(got.outcomes.size())
                                   + " of " + std::to_string(waiting.size()) + " batches");
    for (auto& w : waiting) {
      w.deliver(err);
    }
    return;
  }
  for (size_t i = 0; i < waiting.size(); ++i) {
    auto& out = got.outcomes[i];
    if (out.error) {
      waiting[i].deliver(std::move(out.error));
    } else {
      waiting[i].deliver(std::move(out.reply));
    }
  }
}

void send_queued(outbox_actor* self, const caf::actor_addr& addr) {
  auto [sink, out] = self->state.lanes.take(addr);
  auto answered = [self, addr] {
    if (self->state.lanes.answered(addr)) {
      send_queued(self, addr);  // it queued while this one was in flight
    }
  };
  self->request(sink, caf::duration{replica_answer_timeout}, replicate_atom_v,
                std::move(out.stream))
      .then(
          [answered, waiting = out.waiting](replica_outcomes& got) mutable {
            deliver(waiting, got);
            answered();
          },
          [answered, waiting = out.waiting](caf::error& err) mutable {
            for (auto& w : waiting) {
              w.deliver(err);
            }
            answered();
          });
}

caf::result<replica_reply> enqueue(outbox_actor* self, const caf::actor& sink, replica_item& item) {
  if (!sink) {
    return caf::make_error(sync_errc::shard_unavailable, "the replica is not reachable");
  }
  auto& st = self->state;
  auto promise = self->make_response_promise<replica_reply>();
  auto next = st.lanes.queue(sink, approx_bytes(item.batch), [&](pending_stream& s) {
    s.stream.items.push_back(std::move(item));
    s.waiting.push_back(promise);
  });
  using next_step = pipelined_lanes<pending_stream>::next;
  if (next == next_step::send_now) {
    send_queued(self, sink.address());
  } else if (next == next_step::flush) {
    // Behind every message queued now: the items they bring join this stream.
    self->send(self, caf::flush_atom_v);
  }
  return promise;
}

caf::behavior replica_outbox(outbox_actor* self, size_t stream_bytes) {
  self->state.lanes = pipelined_lanes<pending_stream>{stream_bytes};
  unname_on_exit(self, replica_outbox_name);
  return {
      [self](replicate_atom, const caf::actor& sink, replica_item& item) {
        return enqueue(self, sink, item);
      },
      [self](caf::flush_atom) {
        for (const auto& addr : self->state.lanes.flush()) {
          send_queued(self, addr);
        }
      },
  };
}

}  // namespace

caf::actor spawn_replica_outbox(caf::actor_system& sys, size_t stream_bytes) {
  return name_actor(sys, replica_outbox_name, sys.spawn(replica_outbox, stream_bytes));
}

}  // namespace tidegate::actors
