#include "actors/admin/process_stats.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace tidegate::actors {
namespace {

int64_t read_resident_bytes() {
  std::FILE* file = std::fopen("/proc/self/status", "re");
  if (file == nullptr) {
    return -1;
  }
  int64_t bytes = -1;
  char line[256];
  while (std::fgets(line, sizeof line, file) != nullptr) {
    long long kib = 0;
    if (std::strncmp(line, "VmRSS:", 6) == 0 && std::sscanf(line + 6, "%lld", &kib) == 1) {
      bytes = static_cast<int64_t>(kib) * 1024;  // the kernel writes "VmRSS:  1234 kB"
      break;
    }
  }
  std::fclose(file);
  return bytes;
}

int64_t count_open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it{"/proc/self/fd", ec};
  if (ec) {
    return -1;
  }
  int64_t count = 0;
  for (; it != std::filesystem::directory_iterator{}; it.increment(ec)) {
    ++count;
  }
  return ec ? -1 : count - 1;  // the directory stream's own descriptor
}

int64_t read_max_fds() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return -1;
  }
  return limit.rlim_cur == RLIM_INFINITY ? -1 : static_cast<int64_t>(limit.rlim_cur);
}

}  // namespace

process_stats read_process_stats() {
  return {read_resident_bytes(), count_open_fds(), read_max_fds()};
}

}  // namespace tidegate::actors
