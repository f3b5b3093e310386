#include "actors/gateway/gateway_io.h"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/gateway/session.h"
#include "actors/gateway/socket_loop.h"

namespace tidegate::actors {
namespace {

struct gateway_io_state {
  static inline const char* name = "tidegate.gateway_io";
  // Shared with the exit functor, which outlives the state: it stops the loop, closing every
  // connection and ending their sessions with this actor's exit reason.
  std::shared_ptr<socket_loop> loop;
};

using gateway_io_actor = caf::stateful_actor<gateway_io_state>;

caf::behavior gateway_io(gateway_io_actor* self, int listen_fd, gateway_context_ptr ctx) {
  auto& sys = self->home_system();
  self->state.loop = std::make_shared<socket_loop>(
      listen_fd, ctx,
      [&sys, ctx](const client_socket_ptr& socket) { return spawn_session(sys, socket, ctx); });
  self->attach_functor([loop = self->state.loop](const caf::error& reason) { loop->stop(reason); });
  return {
      [self](drain_atom) { self->state.loop->stop_accepting(); },
      [](caf::get_atom) { return caf::ok_atom_v; },  // answers once accepting: start-up barrier
  };
}

}  // namespace

caf::actor spawn_gateway_io(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx) {
  // Detached: stop_accepting() and stop() wait for the loop's thread, which must not take a
  // scheduler worker from the sessions meanwhile.
  return sys.spawn<caf::detached>(gateway_io, listen_fd, std::move(ctx));
}

}  // namespace tidegate::actors
