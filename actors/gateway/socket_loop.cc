#include "actors/gateway/socket_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>

#include "actors/atoms.h"
#include "actors/gateway/gateway_errc.h"

namespace tidegate::actors {
namespace {

// One read takes at most this much; a connection with more gets the next turn of the loop,
// so one busy client cannot starve the others.
constexpr size_t read_chunk = 16 * 1024;
constexpr int max_events = 256;
// Accepts per wake-up before the loop serves reads again (a connect storm stays fair).
constexpr int max_accepts_per_round = 64;

uint64_t now_us() {
  using namespace std::chrono;
  return static_cast<uint64_t>(
      duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace

socket_loop::socket_loop(int listen_fd, gateway_context_ptr ctx, spawn_fn spawn)
    : ctx_(std::move(ctx)),
      spawn_(std::move(spawn)),
      gate_(ctx_->max_connections, ctx_->config.accept_rate, ctx_->config.accept_burst),
      listen_fd_(listen_fd) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    throw std::runtime_error{std::string{"socket loop: "} + std::strerror(errno)};
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up eventfd
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  ev.data.ptr = &listen_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  thread_ = std::thread{[this] {
    run();
    {
      std::lock_guard<std::mutex> guard{commands_mu_};
      stopped_ = true;  // also after a fatal epoll error: nobody waits for the loop forever
    }
    handled_cv_.notify_all();
  }};
}

socket_loop::~socket_loop() {
  stop(caf::make_error(caf::exit_reason::user_shutdown));
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

uint64_t socket_loop::post(command c) {
  uint64_t ticket = 0;
  {
    std::lock_guard<std::mutex> guard{commands_mu_};
    if (stopped_) {
      return 0;
    }
    commands_.push_back(std::move(c));
    ticket = ++posted_;
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof(one));
  return ticket;
}

void socket_loop::post_and_wait(command::kind what) {
  auto ticket = post({what, nullptr});
  if (ticket == 0) {
    return;
  }
  std::unique_lock<std::mutex> guard{commands_mu_};
  handled_cv_.wait(guard, [&] { return handled_ >= ticket || stopped_; });
}

void socket_loop::stop_accepting() {
  post_and_wait(command::stop_accepting);
}

void socket_loop::stop(const caf::error& reason) {
  post_and_wait(command::stop);
  if (thread_.joinable()) {
    thread_.join();
  }
  // The thread is gone: what is left is ours. Sessions may still send; they find fd_ = -1.
  close_listener();
  auto left = std::move(sockets_);
  sockets_.clear();
  for (auto& [raw, s] : left) {
    finalize(s, reason);
  }
}

void socket_loop::close_listener() {
  if (listen_fd_ >= 0) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void socket_loop::run() {
  epoll_event events[max_events];
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events, max_events, -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::cerr << "tidegate: socket loop: epoll_wait: " << std::strerror(errno) << "\n";
      return;
    }
    for (int i = 0; i < n; ++i) {
      void* who = events[i].data.ptr;
      if (who == nullptr) {
        uint64_t count = 0;
        [[maybe_unused]] auto r = ::read(wake_fd_, &count, sizeof(count));
        std::vector<command> todo;
        {
          std::lock_guard<std::mutex> guard{commands_mu_};
          todo.swap(commands_);
        }
        bool stopping = false;
        for (auto& c : todo) {
          if (c.what == command::finalize) {
            finalize(c.socket, caf::error{});
          } else if (c.what == command::stop_accepting) {
            close_listener();
          } else {
            stopping = true;
          }
        }
        {
          std::lock_guard<std::mutex> guard{commands_mu_};
          handled_ += todo.size();
        }
        handled_cv_.notify_all();
        if (stopping) {
          return;
        }
        continue;
      }
      if (who == &listen_fd_) {
        accept_all();
        continue;
      }
      auto it = sockets_.find(static_cast<client_socket*>(who));
      if (it == sockets_.end()) {
        continue;  // finalized earlier in this round
      }
      auto s = it->second;  // finalize() may erase the entry
      if (events[i].events & EPOLLOUT) {
        on_writable(s);
      }
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        on_readable(s);
      }
    }
  }
}

void socket_loop::accept_all() {
  for (int i = 0; i < max_accepts_per_round && listen_fd_ >= 0; ++i) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        // EMFILE and the like: the cap should prevent them; say so and try on the next wake.
        std::cerr << "tidegate: accept: " << std::strerror(errno) << "\n";
      }
      return;
    }
    admit(fd);
  }
}

void socket_loop::admit(int fd) {
  auto& m = ctx_->metrics;
  reject_reason why{};
  auto open = static_cast<size_t>(m.connections.load(gateway_metrics::relaxed));
  if (!gate_.admit(open, now_us(), why)) {
    m.reject(why);
    ::close(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // frames are whole
  m.accepts.fetch_add(1, gateway_metrics::relaxed);
  m.connections.fetch_add(1, gateway_metrics::relaxed);
  auto s = std::make_shared<client_socket>(fd, *this, ctx_->config.max_unsent_bytes);
  sockets_.emplace(s.get(), s);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = s.get();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  // Registered first: a send of the new session that must arm EPOLLOUT finds the fd in epoll.
  // Its first input is read after this returns, so session_ is set before it is needed.
  s->session_ = spawn_(s);
}

void socket_loop::on_readable(const client_socket_ptr& s) {
  thread_local std::string buf;
  buf.resize(read_chunk);
  // Only this thread closes fd_, so it can be read without mu_.
  auto n = ::recv(s->fd_, buf.data(), buf.size(), 0);
  if (n > 0) {
    ctx_->metrics.bytes_in.fetch_add(static_cast<uint64_t>(n), gateway_metrics::relaxed);
    caf::anon_send(s->session_, inbound_atom_v, std::string{buf.data(), static_cast<size_t>(n)});
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return;
  }
  finalize(s, caf::make_error(gateway_errc::peer_closed));  // EOF or a reset
}

void socket_loop::on_writable(const client_socket_ptr& s) {
  std::unique_lock<std::mutex> guard{s->mu_};
  if (s->fd_ < 0) {
    return;
  }
  if (!s->write_pending()) {
    guard.unlock();
    finalize(s, caf::make_error(gateway_errc::peer_closed));
    return;
  }
  if (s->pending_.empty()) {
    s->want_writable(false);
    if (s->closing_) {
      guard.unlock();
      finalize(s, caf::error{});
    }
  }
}

void socket_loop::finalize(const client_socket_ptr& s, const caf::error& reason) {
  caf::error why;
  {
    std::lock_guard<std::mutex> guard{s->mu_};
    if (s->fd_ < 0) {
      return;
    }
    if (!s->closing_) {
      s->closing_ = true;
      // The client leaving after our GOAWAY ends the connection for the GOAWAY's reason.
      bool left_after_goodbye = s->goodbye_ && reason == caf::make_error(gateway_errc::peer_closed);
      s->reason_ = left_after_goodbye ? s->goodbye_ : reason;
    }
    why = s->reason_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, s->fd_, nullptr);
    // FIN after what the kernel still holds, as a graceful close; then the descriptor goes.
    ::shutdown(s->fd_, SHUT_WR);
    ::close(s->fd_);
    s->fd_ = -1;
    s->pending_.clear();
    s->pending_off_ = 0;
  }
  sockets_.erase(s.get());
  auto& m = ctx_->metrics;
  m.connections.fetch_sub(1, gateway_metrics::relaxed);
  m.close(to_close_reason(why));
  // The session ends with the connection. If it closed the connection itself it is already
  // quitting with this reason and the exit is ignored.
  if (s->session_) {
    // anon_send_exit() takes only an exit_reason; this is its body with our error.
    s->session_->enqueue(nullptr, caf::make_message_id(),
                         caf::make_message(caf::exit_msg{s->session_.address(), why}), nullptr);
  }
}

}  // namespace tidegate::actors
