#include "actors/gateway/client_socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "actors/gateway/gateway_errc.h"
#include "actors/gateway/socket_loop.h"

namespace tidegate::actors {

client_socket::client_socket(int fd, socket_loop& loop, size_t max_unsent)
    : loop_(loop), max_unsent_(max_unsent), fd_(fd) {}

client_socket::~client_socket() = default;  // the loop closed fd_ (finalize or stop)

bool client_socket::send(std::string_view bytes) {
  std::unique_lock<std::mutex> guard{mu_};
  if (fd_ < 0 || closing_) {
    return false;
  }
  size_t done = 0;
  if (pending_.size() == pending_off_) {
    pending_.clear();
    pending_off_ = 0;
    while (done < bytes.size()) {
      auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        // EAGAIN: the kernel's buffer is full, queue the rest. Any other error: the peer is
        // gone; the loop sees it on its side too, the rest just waits there.
        break;
      }
    }
    if (done == bytes.size()) {
      return true;
    }
  }
  pending_.append(bytes.data() + done, bytes.size() - done);
  if (pending_.size() - pending_off_ > max_unsent_) {
    // Not reading. Nothing queued here is the only copy: the oplog keeps data for a resume.
    pending_.clear();
    pending_off_ = 0;
    closing_ = true;
    reason_ = caf::make_error(gateway_errc::slow_reader);
    guard.unlock();
    loop_.post({socket_loop::command::finalize, shared_from_this()});
    return false;
  }
  want_writable(true);
  return true;
}

void client_socket::close(caf::error reason) {
  std::unique_lock<std::mutex> guard{mu_};
  if (fd_ < 0 || closing_) {
    return;
  }
  closing_ = true;
  reason_ = std::move(reason);
  if (pending_.size() != pending_off_) {
    return;  // the loop finalizes once the queue is written (on_writable)
  }
  guard.unlock();
  loop_.post({socket_loop::command::finalize, shared_from_this()});
}

void client_socket::said_goodbye(caf::error reason) {
  std::lock_guard<std::mutex> guard{mu_};
  goodbye_ = std::move(reason);
}

void client_socket::want_writable(bool on) {
  if (writable_armed_ == on) {
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | (on ? EPOLLOUT : 0u);
  ev.data.ptr = this;
  ::epoll_ctl(loop_.epoll_fd(), EPOLL_CTL_MOD, fd_, &ev);
  writable_armed_ = on;
}

bool client_socket::write_pending() {
  while (pending_off_ < pending_.size()) {
    auto n = ::send(fd_, pending_.data() + pending_off_, pending_.size() - pending_off_,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      pending_off_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      return false;
    }
  }
  pending_.clear();
  pending_off_ = 0;
  return true;
}

}  // namespace tidegate::actors
