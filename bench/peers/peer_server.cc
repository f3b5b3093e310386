#include "bench/peers/peer_server.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/peers/loopback_socket.h"
#include "bench/peers/nats_protocol.h"
#include "bench/peers/resp_protocol.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int start_attempts = 3;

const peer_spec nats_spec{"nats_jetstream", "NATS JetStream", "nats-server", "nats-server"};
const peer_spec redis_spec{"redis_xadd", "Redis XADD", "redis-server", "redis-server"};

std::vector<std::string> server_argv(peer_kind kind, const std::string& program,
                                     const std::filesystem::path& dir, uint16_t port) {
  auto p = std::to_string(port);
  if (kind == peer_kind::nats) {
    return {program, "-js", "-sd", (dir / "jetstream").string(), "-a", "127.0.0.1", "-p", p};
  }
  // --maxmemory: past 4 GiB XADD fails (noeviction) rather than the machine running out.
  // clang-format off
  return {program,
          "--port", p,
          "--bind", "127.0.0.1",
          "--dir", dir.string(),
          "--logfile", (dir / "redis.log").string(),
          "--appendonly", "yes",
          "--appendfsync", "everysec",
          "--save", "",
          "--maxmemory", "4gb"};
  // clang-format on
}

}  // namespace

const peer_spec& spec_of(peer_kind kind) {
  return kind == peer_kind::nats ? nats_spec : redis_spec;
}

std::string find_program(const std::string& program) {
  // Read once, on the thread that runs the benchmark, before it starts any other.
  const char* path_env = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe)
  std::string dirs = path_env != nullptr ? path_env : "/usr/bin:/bin";
  dirs += ":/usr/sbin:/usr/local/sbin:/sbin";
  std::istringstream in{dirs};
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) {
      continue;
    }
    auto candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

std::string program_version(const std::string& program) {
  process child{{program, "--version"}, {}, "/dev/null"};
  if (!child.started()) {
    return {};
  }
  auto line = child.read_line(steady::now() + seconds{5}).value_or("");
  child.wait(steady::now() + seconds{5});  // the destructor SIGKILLs it if it is still there
  if (auto sha = line.find(" sha="); sha != std::string::npos) {  // redis: drop build details
    line.resize(sha);
  }
  return line;
}

std::string peer_server::start(const std::string& program, time_point deadline) {
  std::string why = "cannot create a temp dir";
  if (dir_.path.empty()) {
    return why;
  }
  for (int attempt = 0; attempt < start_attempts && steady::now() < deadline; ++attempt) {
    why = launch(program, deadline);
    if (why.empty()) {
      return why;
    }
  }
  return why;
}

std::string peer_server::launch(const std::string& program, time_point deadline) {
  if (child_) {
    stop();
    child_.reset();
  }
  port_ = free_loopback_port();
  if (port_ == 0) {
    return "no free port on 127.0.0.1";
  }
  // nats-server logs to stderr; redis-server to its --logfile (its stderr stays near empty).
  log_path_ = (dir_.path / (kind_ == peer_kind::nats ? "nats.log" : "redis.log")).string();
  auto stderr_path = kind_ == peer_kind::nats ? log_path_ : (dir_.path / "stderr.log").string();
  child_ = std::make_unique<process>(server_argv(kind_, program, dir_.path, port_),
                                     std::vector<std::string>{}, stderr_path);
  if (!child_->started()) {
    return "cannot start " + program + ": " + child_->error();
  }
  std::string why;
  while (steady::now() < deadline) {
    if (!running()) {
      return program + " exited at start; its log:\n" + log_tail();
    }
    if (answers(deadline, why)) {
      return {};
    }
    std::this_thread::sleep_for(milliseconds{50});
  }
  return program + " did not answer on port " + std::to_string(port_) + " (" + why + "); its log:\n"
         + log_tail();
}

bool peer_server::answers(time_point deadline, std::string& why) {
  auto until = std::min(deadline, steady::now() + seconds{2});
  auto sock = loopback_socket::connect(port_, until, why);
  if (!sock) {
    return false;
  }
  if (kind_ == peer_kind::redis && !sock->write_all("*1\r\n$4\r\nPING\r\n", until)) {
    why = sock->error();
    return false;
  }
  nats_parser nats;
  resp_parser resp;
  std::string in;
  while (steady::now() < until) {
    sock->wait(false, until, milliseconds{100});
    in.clear();
    if (!sock->read_some(in)) {
      why = sock->error();
      return false;
    }
    if (kind_ == peer_kind::nats) {
      nats.feed(in);
      nats_message m;
      if (nats.next(m) == nats_parse::message) {
        why = "first sent: " + m.payload.substr(0, 100);
        return m.op == nats_op::info;
      }
    } else {
      resp.feed(in);
      resp_value v;
      if (resp.next(v) == resp_parse::value) {
        why = "PING answered: " + v.text;  // -LOADING while it reads its AOF
        return v.type == resp_type::simple && v.text == "PONG";
      }
    }
  }
  why = "no answer";
  return false;
}

bool peer_server::running() {
  return child_ && !child_->wait(steady::now());
}

void peer_server::stop() {
  if (!child_) {
    return;
  }
  child_->signal(SIGTERM);
  if (!child_->wait(steady::now() + seconds{10})) {
    child_->signal(SIGKILL);
    child_->wait(steady::now() + seconds{10});
  }
}

std::string peer_server::log_tail() const {
  std::ifstream log{log_path_};
  std::string text{std::istreambuf_iterator<char>{log}, std::istreambuf_iterator<char>{}};
  constexpr size_t tail = 2048;
  return text.size() > tail ? text.substr(text.size() - tail) : text;
}

}  // namespace tidegate::bench
