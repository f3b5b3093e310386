#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::client {

/// A "host:port" (or "[v6 address]:port") the client connects to.
struct endpoint {
  std::string host;
  uint16_t port = 0;

  std::string to_string() const;

  bool operator==(const endpoint& other) const { return host == other.host && port == other.port; }
};

/// Parses one "host:port"; on failure returns false and says why in `error`.
bool parse_endpoint(std::string_view text, endpoint& out, std::string& error);

/// Parses "host:port[,host:port...]"; every entry must parse.
bool parse_endpoint_list(std::string_view text, std::vector<endpoint>& out, std::string& error);

/// A resolved socket address.
struct socket_address {
  sockaddr_storage storage{};
  socklen_t size = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

/// Resolves `ep` to its first address. Numeric hosts never block; names go through a
/// blocking getaddrinfo, so event-loop users with many connections should pass numbers.
bool resolve_endpoint(const endpoint& ep, socket_address& out, std::string& error);

/// Opens a non-blocking TCP socket (TCP_NODELAY, close-on-exec) and starts connecting it.
/// Returns the fd (connected or in progress), or -1 with the errno in `err`.
/// With `source`, binds to its address first (IP_BIND_ADDRESS_NO_PORT: the port is still chosen
/// at connect, per 4-tuple), so many sockets to one server can share each ephemeral port.
int start_connect(const socket_address& address, int& err, const socket_address* source = nullptr);

/// The pending error of a socket whose connect finished (0 if it connected).
int socket_error(int fd);

}  // namespace tidegate::client
