#include "bench/fanout/fanout_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace tidegate::bench {

unique_fd::~unique_fd() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

unique_fd::unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

std::string errno_message(std::string_view what) {
  return std::string{what} + ": " + std::generic_category().message(errno);
}

unique_fd start_loopback_connect(uint16_t port, std::string& error) {
  unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
  if (fd.get() < 0) {
    error = errno_message("socket");
    return {};
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0
      && errno != EINPROGRESS) {
    error = errno_message("connect");
    return {};
  }
  return fd;
}

std::string connect_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno_message("getsockopt");
  }
  return err == 0 ? std::string{} : "connect: " + std::generic_category().message(err);
}

bool send_some(int fd, std::string& out, std::string& error) {
  size_t sent = 0;
  while (sent < out.size()) {
    auto n = ::send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    }
    error = errno_message("send");
    return false;
  }
  out.erase(0, sent);
  return true;
}

recv_status recv_some(int fd, char* buffer, size_t capacity, size_t& size, std::string& error) {
  size = 0;
  for (;;) {
    auto n = ::recv(fd, buffer, capacity, 0);
    if (n > 0) {
      size = static_cast<size_t>(n);
      return recv_status::data;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return recv_status::again;
    }
    error = n == 0 ? std::string{"the server closed the connection"} : errno_message("recv");
    return recv_status::closed;
  }
}

}  // namespace tidegate::bench
