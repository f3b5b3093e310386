#include "actors/gateway/acceptor.h"

#include <chrono>
#include <memory>

#include <caf/io/middleman.hpp>

#include "actors/atoms.h"
#include "actors/gateway/admission.h"
#include "actors/gateway/connection.h"

namespace tidegate::actors {
namespace {

uint64_t now_us() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

caf::behavior acceptor(caf::io::broker* self, int listen_fd, gateway_context_ptr ctx) {
  auto gate = std::make_shared<admission>(ctx->max_connections, ctx->config.accept_rate,
                                          ctx->config.accept_burst);
  auto doorman = self->add_doorman(listen_fd);
  return {
      [self, gate, ctx](const caf::io::new_connection_msg& msg) {
        auto& m = ctx->metrics;
        reject_reason why{};
        auto open = static_cast<size_t>(m.connections.load(gateway_metrics::relaxed));
        if (!gate->admit(open, now_us(), why)) {
          m.reject(why);
          self->close(msg.handle);
          return;
        }
        m.accepts.fetch_add(1, gateway_metrics::relaxed);
        m.connections.fetch_add(1, gateway_metrics::relaxed);
        self->fork(connection, msg.handle, ctx);
      },
      [self, doorman](drain_atom) {
        self->close(doorman);
        self->quit();
      },
      [](caf::get_atom) { return caf::unit; },  // answers once accepting: start-up barrier
      [self](const caf::io::acceptor_closed_msg&) {
        self->quit(caf::make_error(caf::sec::socket_disconnected, "listening socket closed"));
      },
  };
}

}  // namespace

caf::actor spawn_acceptor(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx) {
  return sys.middleman().spawn_broker(acceptor, listen_fd, std::move(ctx));
}

}  // namespace tidegate::actors
