#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>

#include "actors/gateway/admission.h"
#include "actors/gateway/client_socket.h"
#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// The gateway's I/O thread: one epoll loop that accepts client connections (layers 1-2 of
/// flow control: the connection cap and the accept-rate bucket), reads their bytes and hands
/// them to each connection's session as (inbound_atom, std::string), finishes writes the
/// kernel could not take at once, and closes connections. Sessions write themselves
/// (client_socket::send). Replaces CAF 0.17's middleman for client traffic
/// (docs/decisions/0011-own-socket-loop.md).
///
/// Threads: the constructor starts the loop's thread; every public member may be called from
/// any other thread. The loop never blocks on an actor and no actor blocks on the loop except
/// stop_accepting() and stop(), which wait for it.
class socket_loop {
 public:
  /// Spawns the session of a new connection; runs on the loop's thread.
  using spawn_fn = std::function<caf::actor(const client_socket_ptr&)>;

  /// Takes over `listen_fd` (a non-blocking listening socket; closed by the loop).
  socket_loop(int listen_fd, gateway_context_ptr ctx, spawn_fn spawn);
  socket_loop(const socket_loop&) = delete;
  socket_loop& operator=(const socket_loop&) = delete;
  /// stop(caf::exit_reason::user_shutdown) unless stopped before.
  ~socket_loop();

  /// Closes the listening socket (other processes on the same SO_REUSEPORT port take new
  /// clients); open connections stay. Returns once it is closed.
  void stop_accepting();

  /// Ends the thread, then closes every connection left and ends its session with `reason`.
  void stop(const caf::error& reason);

 private:
  friend class client_socket;

  struct command {
    enum kind { finalize, stop_accepting, stop } what;
    client_socket_ptr socket;  // for finalize
  };

  int epoll_fd() const { return epoll_fd_; }
  // Queues `c` for the loop's thread and wakes it; its ticket, or 0 once stopped (dropped:
  // stop() closes what is left).
  uint64_t post(command c);
  // Queues `c` and waits until the loop handled it (or already stopped).
  void post_and_wait(command::kind what);
  void run();
  void accept_all();
  void admit(int fd);
  void on_readable(const client_socket_ptr& s);
  void on_writable(const client_socket_ptr& s);
  // Closes the descriptor, forgets the connection, counts why it ended and ends its session.
  // `reason` applies only if no close() gave one before. Loop thread only.
  void finalize(const client_socket_ptr& s, const caf::error& reason);
  void close_listener();

  gateway_context_ptr ctx_;
  spawn_fn spawn_;
  admission gate_;
  int listen_fd_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  // Loop thread only: every open connection, by the pointer epoll hands back.
  std::unordered_map<client_socket*, client_socket_ptr> sockets_;
  std::mutex commands_mu_;
  std::vector<command> commands_;
  uint64_t handled_ = 0;  // commands handled; guarded by commands_mu_
  uint64_t posted_ = 0;   // commands posted; guarded by commands_mu_
  std::condition_variable handled_cv_;
  bool stopped_ = false;  // guarded by commands_mu_
  std::thread thread_;
};

}  // namespace tidegate::actors
