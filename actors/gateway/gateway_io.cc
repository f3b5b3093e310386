#include "actors/gateway/gateway_io.h"

#include <chrono>
#include <optional>
#include <unordered_map>

#include <caf/io/broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/atoms.h"
#include "actors/gateway/admission.h"
#include "actors/gateway/gateway_errc.h"
#include "actors/gateway/session.h"

namespace tidegate::actors {
namespace {

// Reads start small, so an idle connection holds a small buffer (the scribe keeps one buffer
// of the configured size); a read that fills it doubles it up to the maximum.
constexpr uint32_t min_read_chunk = 512;
constexpr uint32_t max_read_chunk = 16 * 1024;

struct client_link {
  caf::actor session;
  size_t unsent = 0;  // bytes written but not yet on the wire (ack_writes)
  uint32_t read_chunk = min_read_chunk;
};

struct client_links {
  std::unordered_map<caf::io::connection_handle, client_link> by_handle;
  std::unordered_map<caf::actor_addr, caf::io::connection_handle> by_session;
};

struct gateway_io_state {
  static inline const char* name = "tidegate.gateway_io";
  gateway_context_ptr ctx;
  std::optional<admission> gate;
  caf::io::accept_handle doorman;
  // Shared with the exit functor, which outlives the state: it ends the sessions left.
  std::shared_ptr<client_links> links = std::make_shared<client_links>();
};

using gateway_io_actor = caf::io::stateful_broker<gateway_io_state>;

uint64_t now_us() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

// Forgets a connection and counts why it ended. The scribe must already be closed or gone.
void forget(gateway_io_actor* self, caf::io::connection_handle hdl, const caf::error& reason) {
  auto& st = self->state;
  auto i = st.links->by_handle.find(hdl);
  if (i == st.links->by_handle.end()) {
    return;
  }
  st.links->by_session.erase(i->second.session.address());
  st.links->by_handle.erase(i);
  st.ctx->metrics.connections.fetch_sub(1, gateway_metrics::relaxed);
  st.ctx->metrics.close(to_close_reason(reason));
}

// Closes `hdl` (after what was flushed), ends its session with `reason`, and forgets it.
void end_connection(gateway_io_actor* self, caf::io::connection_handle hdl, caf::error reason) {
  auto i = self->state.links->by_handle.find(hdl);
  if (i == self->state.links->by_handle.end()) {
    return;
  }
  auto session = i->second.session;
  self->flush(hdl);
  self->close(hdl);
  forget(self, hdl, reason);
  self->send_exit(session, std::move(reason));  // its down_msg then finds nothing: ignored
}

void admit(gateway_io_actor* self, caf::io::connection_handle hdl) {
  auto& st = self->state;
  auto& m = st.ctx->metrics;
  reject_reason why{};
  auto open = static_cast<size_t>(m.connections.load(gateway_metrics::relaxed));
  if (!st.gate->admit(open, now_us(), why)) {
    m.reject(why);
    self->close(hdl);
    return;
  }
  m.accepts.fetch_add(1, gateway_metrics::relaxed);
  m.connections.fetch_add(1, gateway_metrics::relaxed);
  self->configure_read(hdl, caf::io::receive_policy::at_most(min_read_chunk));
  self->ack_writes(hdl, true);  // data_transferred_msg: our only view of the backlog
  auto session = spawn_session(self, caf::actor{self}, hdl, st.ctx);
  self->monitor(session);  // a monitor, not a link: a session's end is news, not our end
  st.links->by_session.emplace(session.address(), hdl);
  st.links->by_handle.emplace(hdl, client_link{std::move(session)});
}

caf::behavior gateway_io(gateway_io_actor* self, int listen_fd, gateway_context_ptr ctx) {
  auto& st = self->state;
  st.ctx = std::move(ctx);
  st.gate.emplace(st.ctx->max_connections, st.ctx->config.accept_rate, st.ctx->config.accept_burst);
  st.doorman = self->add_doorman(listen_fd);
  // A session that ended on its own (a crash): close its connection only.
  self->set_down_handler([self](caf::down_msg& msg) {
    auto i = self->state.links->by_session.find(msg.source);
    if (i == self->state.links->by_session.end()) {
      return;  // one we ended ourselves
    }
    auto hdl = i->second;
    self->flush(hdl);
    self->close(hdl);
    forget(self, hdl, msg.reason);
  });
  // Our own end (a crash, or the node stopping) closes every socket: end the sessions too.
  self->attach_functor([links = st.links, ctx = st.ctx](const caf::error& reason) {
    for (auto& [hdl, link] : links->by_handle) {
      caf::anon_send_exit(link.session, caf::exit_reason::kill);
      ctx->metrics.connections.fetch_sub(1, gateway_metrics::relaxed);
      ctx->metrics.close(to_close_reason(reason));
    }
    links->by_handle.clear();
    links->by_session.clear();
  });
  return {
      [self](const caf::io::new_connection_msg& msg) { admit(self, msg.handle); },
      [self](const caf::io::new_data_msg& msg) {
        auto i = self->state.links->by_handle.find(msg.handle);
        if (i == self->state.links->by_handle.end()) {
          return;
        }
        auto& link = i->second;
        self->state.ctx->metrics.bytes_in.fetch_add(msg.buf.size(), gateway_metrics::relaxed);
        // msg.buf is the scribe's buffer and is reused: the message takes a copy.
        self->send(link.session, inbound_atom_v, std::string{msg.buf.begin(), msg.buf.end()});
        if (msg.buf.size() == link.read_chunk && link.read_chunk < max_read_chunk) {
          link.read_chunk *= 2;
          self->configure_read(msg.handle, caf::io::receive_policy::at_most(link.read_chunk));
        }
      },
      [self](outbound_atom, caf::io::connection_handle hdl, const std::string& bytes) {
        auto i = self->state.links->by_handle.find(hdl);
        if (i == self->state.links->by_handle.end()) {
          return;
        }
        auto& link = i->second;
        link.unsent += bytes.size();
        if (link.unsent > self->state.ctx->config.max_unsent_bytes) {
          // Not reading. Nothing here is the only copy: the oplog keeps data for a resume.
          end_connection(self, hdl, caf::make_error(gateway_errc::slow_reader));
          return;
        }
        self->state.ctx->metrics.bytes_out.fetch_add(bytes.size(), gateway_metrics::relaxed);
        self->write(hdl, bytes.size(), bytes.data());
        self->flush(hdl);  // outside a new_data_msg handler nothing is sent without it
      },
      [self](const caf::io::data_transferred_msg& msg) {
        auto i = self->state.links->by_handle.find(msg.handle);
        if (i != self->state.links->by_handle.end()) {
          i->second.unsent = msg.remaining;
        }
      },
      [self](caf::close_atom, caf::io::connection_handle hdl, caf::error& reason) {
        end_connection(self, hdl, std::move(reason));
      },
      [self](const caf::io::connection_closed_msg& msg) {
        end_connection(self, msg.handle, caf::make_error(gateway_errc::peer_closed));
      },
      [self](drain_atom) {
        self->close(self->state.doorman);
        self->state.doorman = caf::io::accept_handle{};
      },
      [](caf::get_atom) { return caf::ok_atom_v; },  // answers once accepting: start-up barrier
      [self](const caf::io::acceptor_closed_msg&) {
        if (self->state.doorman != caf::io::accept_handle{}) {  // not a drain: a failure
          self->quit(caf::make_error(caf::sec::socket_disconnected, "listening socket closed"));
        }
      },
  };
}

}  // namespace

caf::actor spawn_gateway_io(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx) {
  return sys.middleman().spawn_broker(gateway_io, listen_fd, std::move(ctx));
}

}  // namespace tidegate::actors
