#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tidegate::test {

/// A real process for tests (a `tidegate` subcommand), with its stdout and stderr piped back.
/// Every wait is bounded; the destructor SIGKILLs a child still running. Not thread-safe.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }

  /// The next stdout line containing `needle`, or nullopt at EOF or after `timeout`.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);

  /// The exit code once the child exited within `timeout` (128+N for signal N), else nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);

  /// Everything read from stdout and stderr so far (after wait(): all of it).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  void signal(int sig);

 private:
  void pump(int timeout_ms);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  size_t scanned_ = 0;  // out_ before this offset was already searched line by line
  std::optional<int> status_;
};

}  // namespace tidegate::test
