#include "client/endpoint.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace tidegate::client {

std::string endpoint::to_string() const {
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

bool parse_endpoint(std::string_view text, endpoint& out, std::string& error) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "bad address '" + std::string{text} + "': expected [v6-address]:port";
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "bad address '" + std::string{text} + "': expected host:port";
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = "bad address '" + std::string{text} + "': write IPv6 as [address]:port";
      return false;
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc{} || end != port.data() + port.size()
      || value == 0 || value > 65535) {
    error = "bad address '" + std::string{text} + "': expected host:port with port 1-65535";
    return false;
  }
  out.host = std::string{host};
  out.port = static_cast<uint16_t>(value);
  return true;
}

bool parse_endpoint_list(std::string_view text, std::vector<endpoint>& out, std::string& error) {
  out.clear();
  while (true) {
    auto comma = text.find(',');
    endpoint ep;
    if (!parse_endpoint(text.substr(0, comma), ep, error)) {
      return false;
    }
    out.push_back(std::move(ep));
    if (comma == std::string_view::npos) {
      return true;
    }
    text.remove_prefix(comma + 1);
  }
}

bool resolve_endpoint(const endpoint& ep, socket_address& out, std::string& error) {
  out = socket_address{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (inet_pton(AF_INET, ep.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(ep.port);
    out.size = sizeof(sockaddr_in);
    return true;
  }
  out = socket_address{};
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (inet_pton(AF_INET6, ep.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(ep.port);
    out.size = sizeof(sockaddr_in6);
    return true;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &result);
  if (rc != 0 || result == nullptr) {
    error = "cannot resolve '" + ep.host + "': " + gai_strerror(rc);
    return false;
  }
  out = socket_address{};
  std::memcpy(&out.storage, result->ai_addr, result->ai_addrlen);
  out.size = result->ai_addrlen;
  freeaddrinfo(result);
  return true;
}

int start_connect(const socket_address& address, int& err, const socket_address* source) {
  int fd = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (source != nullptr) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (::bind(fd, source->get(), source->size) != 0) {
      err = errno;
      ::close(fd);
      return -1;
    }
  }
  if (::connect(fd, address.get(), address.size) != 0 && errno != EINPROGRESS) {
    err = errno;
    ::close(fd);
    return -1;
  }
  err = 0;
  return fd;
}

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    return errno;
  }
  return err;
}

}  // namespace tidegate::client
