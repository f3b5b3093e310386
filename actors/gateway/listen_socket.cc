#include "actors/gateway/listen_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tidegate::actors {

listen_result open_listen_socket(const std::string& host, uint16_t port, uint32_t send_buffer,
                                 int backlog) {
  listen_result result;
  std::string where = host + ":" + std::to_string(port);
  auto fail = [&](const char* what) {
    result.error = std::string{what} + " " + where + ": " + std::strerror(errno);
    if (result.fd >= 0) {
      ::close(result.fd);
      result.fd = -1;
    }
    return result;
  };
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  std::string numeric = host == "localhost" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, numeric.c_str(), &addr.sin_addr) != 1) {
    errno = EINVAL;
    return fail("cannot parse IPv4 address");
  }
  result.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (result.fd < 0) {
    return fail("cannot create socket for");
  }
  int one = 1;
  if (setsockopt(result.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
      || setsockopt(result.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
    return fail("cannot set SO_REUSEPORT on");
  }
  if (send_buffer != 0) {
    int size = static_cast<int>(send_buffer);
    if (setsockopt(result.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) != 0) {
      return fail("cannot set SO_SNDBUF on");
    }
  }
  if (::bind(result.fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return fail("cannot bind");
  }
  if (::listen(result.fd, backlog) != 0) {
    return fail("cannot listen on");
  }
  socklen_t len = sizeof(addr);
  getsockname(result.fd, reinterpret_cast<sockaddr*>(&addr), &len);
  result.port = ntohs(addr.sin_port);
  return result;
}

}  // namespace tidegate::actors
