#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// A file descriptor closed when this goes. -1 when empty.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd();
  unique_fd(unique_fd&& other) noexcept;
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

/// Starts a non-blocking TCP connect to 127.0.0.1:`port` (TCP_NODELAY on): the socket is
/// writable once connected, and connect_error() then says whether it failed. An empty fd, with
/// `error` set, if not even that worked (EMFILE past the open-files limit).
unique_fd start_loopback_connect(uint16_t port, std::string& error);

/// After a connecting socket became writable: "" if it connected, else why not.
std::string connect_error(int fd);

/// Sends what the kernel takes now from the front of `out` and erases it; false on a broken
/// connection, with `error` set. Never waits.
bool send_some(int fd, std::string& out, std::string& error);

/// What recv_some() found.
enum class recv_status : uint8_t { data, again, closed };

/// Reads what is there now, up to `capacity` bytes into `buffer`; `size` is how many came.
/// `closed` at EOF or on an error (`error` says which). Never waits.
recv_status recv_some(int fd, char* buffer, size_t capacity, size_t& size, std::string& error);

/// errno's text after `what`, e.g. "connect: Connection refused".
std::string errno_message(std::string_view what);

}  // namespace tidegate::bench
