#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tidegate::bench {

/// A child process for load scenarios: stdin and stdout are pipes to us, stderr goes to
/// `stderr_path` (or is inherited when empty). The child gets SIGKILL when this process dies
/// (PR_SET_PDEATHSIG), so nothing outlives a crashed or killed benchmark. Every wait is bounded;
/// the destructor SIGKILLs and reaps a child still running. Not thread-safe; the spawning
/// thread must own it (PR_SET_PDEATHSIG fires when that thread exits).
class process {
 public:
  /// Starts `argv[0]` with `argv`; `env` entries ("K=V") are added to our environment.
  process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          const std::string& stderr_path);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  /// False if fork or a pipe failed; `error` says why.
  bool started() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  pid_t pid() const { return pid_; }

  /// Writes `line` and a newline to the child's stdin; false (and stdin closed) if that fails.
  bool send_line(const std::string& line);
  /// Closes the child's stdin (EOF tells a worker to exit).
  void close_stdin();
  /// The next stdout line (without '\n'), or nullopt at EOF or when `deadline` passes.
  std::optional<std::string> read_line(std::chrono::steady_clock::time_point deadline);
  /// The exit code once the child exited by `deadline` (128+N for signal N), else nullopt.
  std::optional<int> wait(std::chrono::steady_clock::time_point deadline);
  void signal(int sig);

 private:
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  std::string buffer_;  // stdout read but not yet returned as a line
  std::string error_;
  std::optional<int> status_;
};

/// The path of the running executable (/proc/self/exe resolved), or "" if unreadable.
std::string self_executable();

}  // namespace tidegate::bench
