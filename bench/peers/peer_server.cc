#include "bench/peers/peer_server.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
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
const peer_spec nats_core_spec{"nats_core", "NATS core", "nats-server", "nats-server"};
const peer_spec mosquitto_spec{"mosquitto", "Mosquitto", "mosquitto", "mosquitto"};
const peer_spec redis_pubsub_spec{"redis_pubsub", "Redis PUBLISH", "redis-server", "redis-server"};

bool is_nats(peer_kind kind) {
  return kind == peer_kind::nats || kind == peer_kind::nats_core;
}

bool is_redis(peer_kind kind) {
  return kind == peer_kind::redis || kind == peer_kind::redis_pubsub;
}

// MQTT 3.1.1 CONNECT, clean session, keepalive 60 s, client id "tidegate-probe".
constexpr std::string_view mqtt_probe_connect{
    "\x10\x1a\x00\x04MQTT\x04\x02\x00\x3c\x00\x0etidegate-probe", 28};

// Messages stay in memory; queues are deep enough that QoS 1 fan-out to slow subscribers queues
// rather than drops (the default is 1000 per client). TCP_NODELAY as nats-server and
// redis-server set it on their clients' sockets.
std::string mosquitto_config(uint16_t port, const std::filesystem::path& dir) {
  return "listener " + std::to_string(port) + " 127.0.0.1\n"
         + "allow_anonymous true\n"
           "persistence false\n"
           "max_queued_messages 100000\n"
           "connection_messages false\n"
           "set_tcp_nodelay true\n"
           "log_dest file "
         + (dir / "mosquitto.log").string() + "\n";
}

std::vector<std::string> server_argv(peer_kind kind, const std::string& program,
                                     const std::filesystem::path& dir, uint16_t port) {
  auto p = std::to_string(port);
  if (kind == peer_kind::nats) {
    return {program, "-js", "-sd", (dir / "jetstream").string(), "-a", "127.0.0.1", "-p", p};
  }
  if (kind == peer_kind::nats_core) {
    return {program, "-a", "127.0.0.1", "-p", p};
  }
  if (kind == peer_kind::mosquitto) {
    return {program, "-c", (dir / "mosquitto.conf").string()};
  }
  // clang-format off
  if (kind == peer_kind::redis_pubsub) {
    // --maxclients: Redis lowers it to what the open-files limit allows, and says so in its log.
    return {program,
            "--port", p,
            "--bind", "127.0.0.1",
            "--dir", dir.string(),
            "--logfile", (dir / "redis.log").string(),
            "--appendonly", "no",
            "--save", "",
            "--maxclients", "20000"};
  }
  // --maxmemory: past 4 GiB XADD fails (noeviction) rather than the machine running out.
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
  switch (kind) {
    case peer_kind::nats:
      return nats_spec;
    case peer_kind::redis:
      return redis_spec;
    case peer_kind::nats_core:
      return nats_core_spec;
    case peer_kind::mosquitto:
      return mosquitto_spec;
    case peer_kind::redis_pubsub:
      return redis_pubsub_spec;
  }
  return redis_spec;  // not reached: the switch names every kind
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
  // nats-server logs to stderr; redis-server and mosquitto to the file their configuration names
  // (their stderr stays near empty).
  const char* log_name = is_nats(kind_)    ? "nats.log"
                         : is_redis(kind_) ? "redis.log"
                                           : "mosquitto.log";
  log_path_ = (dir_.path / log_name).string();
  auto stderr_path = is_nats(kind_) ? log_path_ : (dir_.path / "stderr.log").string();
  if (kind_ == peer_kind::mosquitto) {
    std::ofstream config{dir_.path / "mosquitto.conf"};
    config << mosquitto_config(port_, dir_.path);
    if (!config.flush()) {
      return "cannot write " + (dir_.path / "mosquitto.conf").string();
    }
  }
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
  if (is_redis(kind_) && !sock->write_all("*1\r\n$4\r\nPING\r\n", until)) {
    why = sock->error();
    return false;
  }
  if (kind_ == peer_kind::mosquitto && !sock->write_all(mqtt_probe_connect, until)) {
    why = sock->error();
    return false;
  }
  nats_parser nats;
  resp_parser resp;
  std::string mqtt;
  std::string in;
  while (steady::now() < until) {
    sock->wait(false, until, milliseconds{100});
    in.clear();
    if (!sock->read_some(in)) {
      why = sock->error();
      return false;
    }
    if (kind_ == peer_kind::mosquitto) {
      mqtt += in;
      if (mqtt.size() >= 4) {  // CONNACK: 0x20, length 2, flags, return code 0 = accepted
        why = "CONNACK return code " + std::to_string(static_cast<unsigned char>(mqtt[3]));
        return mqtt.compare(0, 4, std::string_view{"\x20\x02\x00\x00", 4}) == 0;
      }
    } else if (is_nats(kind_)) {
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
