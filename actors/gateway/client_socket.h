#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <caf/actor.hpp>
#include <caf/error.hpp>

namespace tidegate::actors {

class socket_loop;

/// One accepted client connection (docs/decisions/0011-own-socket-loop.md).
///
/// Threads: send() and close() may be called from any thread, typically the session's
/// scheduler worker; a send writes straight into the kernel when nothing is queued, so the
/// write path of a delivery has no hop through an I/O thread. What the kernel does not take
/// is queued and written by the socket_loop when the socket is writable again. Only the loop
/// reads, and only the loop closes the descriptor (under `mu_`, so a concurrent send never
/// writes to a reused descriptor number).
///
/// Lifetime: shared by the loop (until the connection is finalized) and the session.
class client_socket : public std::enable_shared_from_this<client_socket> {
 public:
  client_socket(int fd, socket_loop& loop, size_t max_unsent);
  client_socket(const client_socket&) = delete;
  client_socket& operator=(const client_socket&) = delete;
  ~client_socket();

  /// Writes `bytes` after everything sent before. Past `max_unsent` queued bytes (the client
  /// stopped reading) the connection is closed as gateway_errc::slow_reader. False once the
  /// connection is closing or closed: the bytes are dropped (the oplog keeps what matters).
  bool send(std::string_view bytes);

  /// Ends the connection: what was sent before is written first (within `max_unsent`), then
  /// the socket is closed. The first reason given is the one the connection ends with; the
  /// session gets an exit with it unless it is the one closing.
  void close(caf::error reason);

  /// The session said goodbye (GOAWAY) for `reason`: if the client closes first, which is
  /// what a well-behaved client does, the connection still ends with `reason`, not as
  /// peer_closed.
  void said_goodbye(caf::error reason);

 private:
  friend class socket_loop;

  // Arms or disarms EPOLLOUT. Requires mu_ and an open fd_.
  void want_writable(bool on);
  // Writes as much of pending_ as the kernel takes; false on a socket error. Requires mu_.
  bool write_pending();

  socket_loop& loop_;
  const size_t max_unsent_;
  caf::actor session_;  // set once by the loop, before the first byte is read
  std::mutex mu_;
  int fd_;               // -1 once the loop closed it
  std::string pending_;  // bytes the kernel did not take yet, from pending_off_ on
  size_t pending_off_ = 0;
  bool writable_armed_ = false;
  bool closing_ = false;  // no more sends; the loop closes once pending_ is written
  caf::error reason_;     // why it ends, once closing_
  caf::error goodbye_;    // why the session sent GOAWAY, if it did
};

using client_socket_ptr = std::shared_ptr<client_socket>;

}  // namespace tidegate::actors
