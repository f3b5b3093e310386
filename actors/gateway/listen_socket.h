#pragma once

#include <cstdint>
#include <string>

namespace tidegate::actors {

/// A listening TCP socket made by us (CAF's doorman sets only SO_REUSEADDR): SO_REUSEPORT so
/// several node processes share the client port, non-blocking, close-on-exec.
struct listen_result {
  int fd = -1;        ///< Owned by the caller (handed to a doorman, which closes it).
  uint16_t port = 0;  ///< The bound port (the chosen one when 0 was asked for).
  std::string error;  ///< Set when fd < 0, naming the address.
};

/// `send_buffer` (0 = kernel default) sets SO_SNDBUF, which accepted sockets inherit.
listen_result open_listen_socket(const std::string& host, uint16_t port, uint32_t send_buffer = 0,
                                 int backlog = 4096);

}  // namespace tidegate::actors
