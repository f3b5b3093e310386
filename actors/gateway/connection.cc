#include "actors/gateway/connection.h"

#include "actors/atoms.h"
#include "actors/gateway/gateway_errc.h"
#include "actors/gateway/session.h"

namespace tidegate::actors {
namespace {

// Reads start small, so an idle connection holds a small buffer (the scribe keeps one buffer
// of the configured size); a read that fills it doubles it up to the maximum.
constexpr size_t min_read_chunk = 512;
constexpr size_t max_read_chunk = 16 * 1024;

}  // namespace

caf::behavior connection(caf::io::broker* self, caf::io::connection_handle hdl,
                         gateway_context_ptr ctx) {
  auto read_chunk = std::make_shared<size_t>(min_read_chunk);
  auto unsent = std::make_shared<size_t>(0);
  self->configure_read(hdl, caf::io::receive_policy::at_most(*read_chunk));
  self->ack_writes(hdl, true);  // data_transferred_msg: our only view of the backlog
  auto session = spawn_session(self, caf::actor{self}, ctx);
  self->link_to(session);
  self->attach_functor([ctx](const caf::error& reason) {
    ctx->metrics.connections.fetch_sub(1, gateway_metrics::relaxed);
    ctx->metrics.close(to_close_reason(reason));
  });
  auto& metrics = ctx->metrics;
  return {
      [self, session, read_chunk, &metrics](const caf::io::new_data_msg& msg) {
        metrics.bytes_in.fetch_add(msg.buf.size(), gateway_metrics::relaxed);
        // msg.buf is the scribe's buffer and is reused: the message takes a copy.
        self->send(session, inbound_atom_v, std::string{msg.buf.begin(), msg.buf.end()});
        if (msg.buf.size() == *read_chunk && *read_chunk < max_read_chunk) {
          *read_chunk *= 2;
          self->configure_read(msg.handle, caf::io::receive_policy::at_most(*read_chunk));
        }
      },
      [self, hdl, unsent, ctx](outbound_atom, const std::string& bytes) {
        *unsent += bytes.size();
        if (*unsent > ctx->config.max_unsent_bytes) {  // not reading; nothing here is unique
          self->quit(caf::make_error(gateway_errc::slow_reader));
          return;
        }
        ctx->metrics.bytes_out.fetch_add(bytes.size(), gateway_metrics::relaxed);
        self->write(hdl, bytes.size(), bytes.data());
        self->flush(hdl);  // outside a new_data_msg handler nothing is sent without it
      },
      [unsent](const caf::io::data_transferred_msg& msg) { *unsent = msg.remaining; },
      [self, hdl](caf::close_atom, caf::error& reason) {
        self->flush(hdl);
        self->quit(std::move(reason));
      },
      [self](const caf::io::connection_closed_msg&) {
        self->quit(caf::make_error(gateway_errc::peer_closed));
      },
  };
}

}  // namespace tidegate::actors
