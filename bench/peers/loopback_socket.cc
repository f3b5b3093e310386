#include "bench/peers/loopback_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

namespace tidegate::bench {
namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

int poll_millis(steady::time_point deadline, milliseconds cap) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
  return static_cast<int>(std::clamp(left, milliseconds{0}, cap).count());
}

std::string errno_text(const char* what) {
  return std::string{what} + ": " + std::generic_category().message(errno);
}

}  // namespace

std::optional<loopback_socket> loopback_socket::connect(uint16_t port, time_point deadline,
                                                        std::string& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = errno_text("socket");
    return std::nullopt;
  }
  loopback_socket sock{fd};
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto addr = loopback(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    return sock;
  }
  if (errno != EINPROGRESS) {
    error = errno_text("connect");
    return std::nullopt;
  }
  for (;;) {
    pollfd pfd{fd, POLLOUT, 0};
    int ready = ::poll(&pfd, 1, poll_millis(deadline, milliseconds{1000}));
    if (ready < 0 && errno != EINTR) {
      error = errno_text("poll");
      return std::nullopt;
    }
    if (ready > 0) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        error = "connect: " + std::generic_category().message(err);
        return std::nullopt;
      }
      return sock;
    }
    if (steady::now() >= deadline) {
      error = "connect: timed out";
      return std::nullopt;
    }
  }
}

loopback_socket::~loopback_socket() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

loopback_socket::loopback_socket(loopback_socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), error_(std::move(other.error_)) {}

loopback_socket& loopback_socket::operator=(loopback_socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
    error_ = std::move(other.error_);
  }
  return *this;
}

bool loopback_socket::write_some(std::string& out) {
  while (!out.empty()) {
    auto n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    error_ = errno_text("send");
    return false;
  }
  return true;
}

bool loopback_socket::read_some(std::string& in) {
  std::array<char, 64 * 1024> buf{};
  for (int reads = 0; reads < 16; ++reads) {  // bounded: at most 1 MiB per call
    auto n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n > 0) {
      in.append(buf.data(), static_cast<size_t>(n));
      if (static_cast<size_t>(n) < buf.size()) {
        return true;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    error_ = n == 0 ? std::string{"the server closed the connection"} : errno_text("recv");
    return false;
  }
  return true;
}

int loopback_socket::wait(bool want_write, time_point deadline, milliseconds cap) {
  pollfd pfd{fd_, static_cast<short>(POLLIN | (want_write ? POLLOUT : 0)), 0};
  int ready = ::poll(&pfd, 1, poll_millis(deadline, cap));
  return ready > 0 ? pfd.revents : 0;
}

bool loopback_socket::write_all(std::string_view bytes, time_point deadline) {
  std::string out{bytes};
  while (!out.empty()) {
    if (!write_some(out)) {
      return false;
    }
    if (out.empty()) {
      break;
    }
    if (steady::now() >= deadline) {
      error_ = "send: timed out";
      return false;
    }
    pollfd pfd{fd_, POLLOUT, 0};
    ::poll(&pfd, 1, poll_millis(deadline, milliseconds{100}));
  }
  return true;
}

uint16_t free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return 0;
  }
  auto addr = loopback(0);
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0
      && ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace tidegate::bench
