#include "bench/load/bench_node.h"

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <thread>
#include <vector>

#include <httplib.h>

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto node_start_timeout = seconds{30};
constexpr auto node_stop_timeout = seconds{30};

}  // namespace

bool bench_node::start(const std::string& exe, const std::string& durability,
                       const std::string& extra_toml) {
  if (dir_.path.empty()) {
    std::cerr << "tidegate bench: cannot create a temp dir\n";
    return false;
  }
  auto data = dir_.path / "data";
  std::filesystem::create_directories(data);
  auto config = (dir_.path / "node.toml").string();
  {
    std::ofstream out{config};
    out << "[node]\nid = \"" << node_id_ << "\"\n\n"
        << "[gateway]\nlisten = \"127.0.0.1:0\"\nfd_headroom = 512\naccept_rate = 0\n"
        << "heartbeat_min_ms = 1000\nheartbeat_max_ms = 600000\nidle_margin = 3.0\n"
        << "handshake_timeout_ms = 10000\ndrain_window_ms = 500\n\n"
        << "[http]\nlisten = \"127.0.0.1:0\"\n\n"
        << "[storage]\ndata_dir = \"" << data.string() << "\"\ndurability = \"" << durability
        << "\"\nmap_size_mb = 1024\n\n"
        << "[[apps]]\nid = \"" << app_id << "\"\nsecret = \"" << secret_ << "\"\n\n"
        << extra_toml;
    if (!out) {
      std::cerr << "tidegate bench: cannot write " << config << "\n";
      return false;
    }
  }
  log_path_ = (dir_.path / "node.log").string();
  child_ = std::make_unique<process>(std::vector<std::string>{exe, "node", "--config", config},
                                     std::vector<std::string>{}, log_path_);
  if (!child_->started()) {
    std::cerr << "tidegate bench: cannot start the node: " << child_->error() << "\n";
    return false;
  }
  auto deadline = steady::now() + node_start_timeout;
  while (auto line = child_->read_line(deadline)) {
    // "tidegate node ID: clients on HOST:PORT, metrics on http://HOST:PORT/metrics, max N ..."
    auto on = line->find("clients on ");
    auto comma = line->find(',', on);
    auto http = line->find("http://");
    auto slash = line->find('/', http + 7);
    if (on == std::string::npos || comma == std::string::npos || http == std::string::npos
        || slash == std::string::npos) {
      continue;
    }
    client_address_ = line->substr(on + 11, comma - on - 11);
    auto hostport = line->substr(http + 7, slash - http - 7);
    auto colon = hostport.rfind(':');
    http_host_ = hostport.substr(0, colon);
    http_port_ = std::atoi(hostport.c_str() + colon + 1);
    return http_port_ > 0;
  }
  std::cerr << "tidegate bench: the node did not report its ports; its log:\n";
  print_log();
  return false;
}

bool bench_node::stop() {
  if (!child_) {
    return false;
  }
  bool alive = !child_->wait(steady::now());
  if (!alive) {
    std::cerr << "tidegate bench: the node exited during the run; its log:\n";
    print_log();
  }
  child_->signal(SIGTERM);
  if (!child_->wait(steady::now() + node_stop_timeout)) {
    child_->signal(SIGKILL);
    child_->wait(steady::now() + seconds{10});
  }
  return alive;
}

void bench_node::kill() {
  if (child_) {
    child_->signal(SIGKILL);
    child_->wait(steady::now() + seconds{10});
    child_.reset();
  }
}

std::optional<uint64_t> bench_node::open_connections() const {
  httplib::Client http{http_host_, http_port_};
  http.set_connection_timeout(seconds{2});
  http.set_read_timeout(seconds{5});
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) {
    return std::nullopt;
  }
  const std::string name = "\ntidegate_connections{";
  auto at = res->body.find(name);
  auto space = res->body.find("} ", at);
  if (at == std::string::npos || space == std::string::npos) {
    return std::nullopt;
  }
  return std::strtoull(res->body.c_str() + space + 2, nullptr, 10);
}

bool bench_node::wait_no_connections(steady::time_point deadline) const {
  for (;;) {
    if (open_connections() == uint64_t{0}) {
      return true;
    }
    if (steady::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(milliseconds{20});
  }
}

void bench_node::print_log() const {
  std::ifstream log{log_path_};
  std::string text{std::istreambuf_iterator<char>{log}, std::istreambuf_iterator<char>{}};
  constexpr size_t tail = 8192;
  std::cerr << (text.size() > tail ? text.substr(text.size() - tail) : text) << "\n";
}

}  // namespace tidegate::bench
