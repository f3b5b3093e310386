#pragma once

#include <cstddef>
#include <cstdint>

#include "actors/admin/metrics.h"

namespace tidegate::actors {

/// Layer 1 of flow control: may one more connection in? A connection cap and a token bucket
/// of new connections per second. Plain C++ (time is an argument); not thread-safe, the
/// acceptor owns it.
class admission {
 public:
  /// `rate` = 0 disables the rate limit; `burst` = 0 means one second's worth of `rate`.
  admission(size_t max_connections, uint32_t rate, uint32_t burst);

  /// Decides for a connection arriving at `now_us` while `open` connections are open: true
  /// (admitted, a token taken) or false with the reason in `why`.
  bool admit(size_t open, uint64_t now_us, reject_reason& why);

  size_t max_connections() const { return max_connections_; }

 private:
  size_t max_connections_;
  double rate_per_us_;
  double burst_;
  double tokens_;
  uint64_t last_us_ = 0;
};

/// The connection cap for a process whose open-files limit is `fd_limit`: `configured` if set
/// (but never above the limit minus headroom), else the limit minus `headroom`.
size_t connection_cap(size_t configured, size_t fd_limit, size_t headroom);

/// RLIMIT_NOFILE's soft limit, after raising it to the hard limit.
size_t raise_fd_limit();

}  // namespace tidegate::actors
