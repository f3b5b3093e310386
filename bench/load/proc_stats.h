#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace tidegate::bench {

/// VmRSS of `pid` in bytes, from /proc/PID/status; nullopt if the process is gone.
std::optional<uint64_t> resident_bytes(pid_t pid);

/// User plus system CPU time of `pid` in seconds, from /proc/PID/stat (all its threads).
std::optional<double> cpu_seconds(pid_t pid);

/// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
uint64_t raise_open_files_limit();

}  // namespace tidegate::bench
