#include "bench/load/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <system_error>
#include <thread>

namespace tidegate::bench {
namespace {

int millis_until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1000));
}

}  // namespace

process::process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 const std::string& stderr_path) {
  std::array<int, 2> in{-1, -1};
  std::array<int, 2> out{-1, -1};
  if (pipe2(in.data(), O_CLOEXEC) != 0 || pipe2(out.data(), O_CLOEXEC) != 0) {
    error_ = "pipe: " + std::generic_category().message(errno);
    for (int fd : {in[0], in[1], out[0], out[1]}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
    return;
  }
  int err_fd = -1;
  if (!stderr_path.empty()) {
    err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  }
  // Built before fork: the child may only call async-signal-safe functions.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    env_strings.emplace_back(*e);
  }
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& e : env_strings) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);
  pid_t parent = getpid();

  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) {  // the parent died before prctl took effect
      _exit(127);
    }
    dup2(in[0], 0);
    dup2(out[1], 1);
    if (err_fd >= 0) {
      dup2(err_fd, 2);
    }
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  if (pid_ < 0) {
    error_ = "fork: " + std::generic_category().message(errno);
  }
  ::close(in[0]);
  ::close(out[1]);
  if (err_fd >= 0) {
    ::close(err_fd);
  }
  in_fd_ = in[1];
  out_fd_ = out[0];
}

process::~process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::steady_clock::now() + std::chrono::seconds{10});
  }
  close_stdin();
  if (out_fd_ >= 0) {
    ::close(out_fd_);
  }
}

bool process::send_line(const std::string& line) {
  if (in_fd_ < 0) {
    return false;
  }
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(in_fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      close_stdin();  // the child is gone or stopped reading: later sends fail fast
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void process::close_stdin() {
  if (in_fd_ >= 0) {
    ::close(in_fd_);
    in_fd_ = -1;
  }
}

std::optional<std::string> process::read_line(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (auto eol = buffer_.find('\n'); eol != std::string::npos) {
      auto line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 1);
      return line;
    }
    if (out_fd_ < 0) {
      return std::nullopt;
    }
    pollfd pfd{out_fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, millis_until(deadline));
    if (ready < 0 && errno != EINTR) {
      return std::nullopt;
    }
    if (ready > 0) {
      std::array<char, 4096> buf{};
      auto n = ::read(out_fd_, buf.data(), buf.size());
      if (n > 0) {
        buffer_.append(buf.data(), static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      ::close(out_fd_);
      out_fd_ = -1;
      continue;  // returns a last unterminated line, if any, as nullopt
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
  }
}

std::optional<int> process::wait(std::chrono::steady_clock::time_point deadline) {
  while (!status_ && pid_ > 0) {
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return status_;
}

void process::signal(int sig) {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, sig);
  }
}

std::string self_executable() {
  std::array<char, 4096> buf{};
  auto n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string{buf.data(), static_cast<size_t>(n)} : std::string{};
}

}  // namespace tidegate::bench
