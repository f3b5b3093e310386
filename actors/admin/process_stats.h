#pragma once

#include <cstdint>

namespace tidegate::actors {

/// What the kernel says about this process, for the tidegate_process_* gauges. -1 = unknown.
struct process_stats {
  /// VmRSS from /proc/self/status, in bytes.
  int64_t resident_bytes = -1;
  /// Entries of /proc/self/fd, not counting the one used to list them.
  int64_t open_fds = -1;
  /// RLIMIT_NOFILE's soft limit.
  int64_t max_fds = -1;
};

/// Reads the current values; a field that cannot be read stays -1. Thread-safe.
process_stats read_process_stats();

}  // namespace tidegate::actors
