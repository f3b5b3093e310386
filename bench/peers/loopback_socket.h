#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// A non-blocking TCP connection to 127.0.0.1 (TCP_NODELAY on), closed when this goes. Every
/// call is bounded: the ones with a deadline wait at most until it, the others never wait.
/// Not thread-safe; one thread at a time owns it.
class loopback_socket {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Connects to 127.0.0.1:`port` by `deadline`; nullopt, with `error` set, if it could not.
  static std::optional<loopback_socket> connect(uint16_t port, time_point deadline,
                                                std::string& error);
  ~loopback_socket();
  loopback_socket(loopback_socket&& other) noexcept;
  loopback_socket& operator=(loopback_socket&& other) noexcept;
  loopback_socket(const loopback_socket&) = delete;
  loopback_socket& operator=(const loopback_socket&) = delete;

  /// Writes what the kernel takes now from the front of `out` and erases it from `out`;
  /// false if the connection failed (error() says why).
  bool write_some(std::string& out);
  /// Appends what can be read now to `in`; false at EOF or if the connection failed.
  bool read_some(std::string& in);
  /// Waits until readable, or writable too when `want_write`, or `deadline`, at most `cap`.
  /// Returns poll's revents (0 on timeout).
  int wait(bool want_write, time_point deadline, std::chrono::milliseconds cap);
  /// Writes all of `bytes` by `deadline`; false if it could not.
  bool write_all(std::string_view bytes, time_point deadline);
  const std::string& error() const { return error_; }

 private:
  explicit loopback_socket(int fd) : fd_(fd) {}

  int fd_ = -1;
  std::string error_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed),
/// for a server that takes its port on the command line; 0 if none could be had.
uint16_t free_loopback_port();

}  // namespace tidegate::bench
