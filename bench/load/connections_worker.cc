#include "bench/load/connections_worker.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <utility>
#include <vector>

#include "bench/load/proc_stats.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "protocol/auth_token.h"

namespace tidegate::bench {
namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

int64_t to_ns(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

/// One connect phase: its connections, who has reached what, and when.
struct phase_state {
  uint32_t id = 0;
  double rate = 0;  // connects per second; 0 = keep `concurrency` in flight
  uint32_t concurrency = 0;
  std::vector<std::unique_ptr<client::connection>> conns;
  std::vector<steady::time_point> started_at;
  std::vector<bool> reached_ready;
  std::vector<int64_t> latency_us;
  std::map<std::string, uint32_t> failures;  // close reason -> count, before ready
  uint32_t started = 0;
  uint32_t ready = 0;
  uint32_t failed = 0;
  uint32_t dropped = 0;  // closed after being ready
  steady::time_point first_start{};
  steady::time_point last_ready{};
  steady::time_point began{};
  bool reported = false;
  client::event_loop::timer_id tick = 0;
  client::event_loop::timer_id timeout = 0;
};

class worker {
 public:
  explicit worker(worker_options opts) : opts_(std::move(opts)) {}

  int run() {
    if (!loop_.add_fd(0, EPOLLIN, [this](uint32_t) { on_stdin(); })) {
      std::cerr << "bench worker " << opts_.index << ": cannot watch stdin\n";
      return 1;
    }
    auto deadline = loop_.now() + std::chrono::seconds{opts_.lifetime_s};
    bool done = loop_.run_until([this] { return exit_; }, deadline);
    loop_.remove_fd(0);
    phase_.reset();  // closes every socket before the loop goes
    return done ? 0 : 3;
  }

 private:
  void on_stdin() {
    std::array<char, 4096> buf{};
    auto n = ::read(0, buf.data(), buf.size());
    if (n <= 0) {
      exit_ = true;
      return;
    }
    input_.append(buf.data(), static_cast<size_t>(n));
    size_t eol;
    while ((eol = input_.find('\n')) != std::string::npos) {
      auto line = input_.substr(0, eol);
      input_.erase(0, eol + 1);
      command(line);
    }
  }

  void command(const std::string& line) {
    std::istringstream in{line};
    std::string verb;
    in >> verb;
    if (verb == "go") {
      uint32_t id = 0;
      double rate = 0;
      uint32_t concurrency = 1;
      uint32_t timeout_s = 60;
      in >> id >> rate >> concurrency >> timeout_s;
      go(id, rate, std::max<uint32_t>(concurrency, 1), timeout_s);
    } else if (verb == "count") {
      count();
    } else if (verb == "stop") {
      stop();
    } else if (verb == "exit") {
      exit_ = true;
    } else {
      std::cout << "error unknown command '" << verb << "'" << std::endl;
    }
  }

  void go(uint32_t id, double rate, uint32_t concurrency, uint32_t timeout_s) {
    stop_phase();
    phase_ = std::make_unique<phase_state>();
    auto& p = *phase_;
    p.id = id;
    p.rate = rate;
    p.concurrency = concurrency;
    auto n = opts_.connections;
    p.conns.reserve(n);
    p.started_at.resize(n);
    p.reached_ready.assign(n, false);
    p.latency_us.reserve(n);
    auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    auto expires = static_cast<uint64_t>(now_s) + 86'400;
    for (uint32_t i = 0; i < n; ++i) {
      client::connection_config config;
      config.addresses = {opts_.address};
      auto suffix = "w" + std::to_string(opts_.index) + "-" + std::to_string(i);
      config.device_id = "bench-p" + std::to_string(id) + "-" + suffix;
      config.app_id = opts_.app_id;
      config.os = "bench";
      config.token = protocol::sign_token(opts_.secret, opts_.app_id, "bench-" + suffix, expires);
      config.heartbeat = client::heartbeat_config::fixed(milliseconds{opts_.heartbeat_ms});
      config.reconnect = false;
      config.connect_timeout = milliseconds{opts_.connect_timeout_ms};
      config.handshake_timeout = milliseconds{opts_.connect_timeout_ms};
      config.seed = (uint64_t{opts_.index} << 32) | i;
      if (opts_.address.rfind("127.", 0) == 0) {
        // Spread over 16 loopback sources: one source address to one server port runs out of
        // ephemeral ports near 28k, and the kernel's port search slows down long before.
        config.source_address = "127.0.0." + std::to_string(2 + (i + opts_.index * 7) % 16);
      }
      auto conn = std::make_unique<client::connection>(loop_, std::move(config));
      conn->on_state([this, i](client::connection_state state, const client::close_info& info) {
        on_state(i, state, info);
      });
      p.conns.push_back(std::move(conn));
    }
    p.began = loop_.now();
    p.timeout = loop_.add_timer(std::chrono::seconds{timeout_s}, [this] {
      phase_->timeout = 0;
      report();
    });
    tick();
  }

  // Starts what the rate or the concurrency window allows, then re-arms itself.
  void tick() {
    auto& p = *phase_;
    p.tick = 0;
    auto n = static_cast<uint32_t>(p.conns.size());
    uint32_t target = 0;
    if (p.rate > 0) {
      auto elapsed = std::chrono::duration<double>(loop_.now() - p.began).count();
      target = std::min<uint32_t>(n, static_cast<uint32_t>(elapsed * p.rate) + 1);
    } else {
      target = std::min<uint32_t>(n, p.ready + p.failed + p.concurrency);
    }
    // A bounded batch per tick keeps the loop serving handshakes while connects go out.
    uint32_t batch = 0;
    while (p.started < target && batch < 256) {
      auto i = p.started++;
      p.started_at[i] = loop_.now();
      if (i == 0) {
        p.first_start = p.started_at[i];
      }
      p.conns[i]->start();
      ++batch;
    }
    if (p.started < n && !p.reported) {
      auto delay = p.rate > 0 || batch == 256 ? milliseconds{1} : milliseconds{5};
      p.tick = loop_.add_timer(delay, [this] { tick(); });
    }
  }

  void on_state(uint32_t i, client::connection_state state, const client::close_info& info) {
    auto& p = *phase_;
    if (state == client::connection_state::ready && !p.reached_ready[i]) {
      p.reached_ready[i] = true;
      ++p.ready;
      p.last_ready = loop_.now();
      p.latency_us.push_back(
          std::chrono::duration_cast<std::chrono::microseconds>(p.last_ready - p.started_at[i])
              .count());
    } else if (state == client::connection_state::closed) {
      if (p.reached_ready[i]) {
        ++p.dropped;
      } else {
        ++p.failed;
        ++p.failures[client::to_string(info.reason)];
      }
    } else {
      return;
    }
    if (p.ready + p.failed == p.conns.size()) {
      // After the connection has finished acting on this change; a stop in between wins.
      loop_.add_timer(milliseconds{0}, [this, id = p.id] {
        if (phase_ && phase_->id == id) {
          report();
        }
      });
    }
  }

  void report() {
    auto& p = *phase_;
    if (p.reported) {
      return;
    }
    p.reported = true;
    if (p.timeout != 0) {
      loop_.cancel_timer(p.timeout);
      p.timeout = 0;
    }
    auto lat = p.latency_us;
    std::sort(lat.begin(), lat.end());
    auto pct = [&lat](double q) -> int64_t {
      if (lat.empty()) {
        return 0;
      }
      auto at = static_cast<size_t>(q * static_cast<double>(lat.size() - 1));
      return lat[at];
    };
    std::string reasons;
    for (const auto& [reason, count] : p.failures) {
      reasons += (reasons.empty() ? "" : ",") + reason + ":" + std::to_string(count);
    }
    auto n = static_cast<uint32_t>(p.conns.size());
    std::cout << "result " << p.id << " ready=" << p.ready << " failed=" << p.failed
              << " timeouts=" << (n - p.ready - p.failed) << " started=" << p.started
              << " first_start_ns=" << to_ns(p.first_start)
              << " last_ready_ns=" << to_ns(p.last_ready) << " p50_us=" << pct(0.50)
              << " p99_us=" << pct(0.99) << " max_us=" << pct(1.0)
              << " reasons=" << (reasons.empty() ? "-" : reasons) << std::endl;
  }

  void count() {
    uint32_t ready = 0;
    uint32_t closed = 0;
    if (phase_) {
      for (const auto& c : phase_->conns) {
        ready += c->state() == client::connection_state::ready ? 1 : 0;
        closed += c->state() == client::connection_state::closed ? 1 : 0;
      }
    }
    std::cout << "held ready=" << ready << " closed=" << closed
              << " rss=" << resident_bytes(getpid()).value_or(0) << std::endl;
  }

  void stop_phase() {
    if (!phase_) {
      return;
    }
    for (auto id : {phase_->tick, phase_->timeout}) {
      if (id != 0) {
        loop_.cancel_timer(id);
      }
    }
    phase_.reset();  // ~connection closes its socket and runs no callback
  }

  void stop() {
    stop_phase();
    std::cout << "stopped" << std::endl;
  }

  worker_options opts_;
  client::event_loop loop_;
  std::unique_ptr<phase_state> phase_;
  std::string input_;
  bool exit_ = false;
};

}  // namespace

int run_connections_worker(const worker_options& opts) {
  auto limit = raise_open_files_limit();
  if (limit < uint64_t{opts.connections} + 32) {
    std::cerr << "bench worker " << opts.index << ": " << opts.connections
              << " connections need more open files than RLIMIT_NOFILE allows (" << limit
              << "); use more --workers\n";
    return 1;
  }
  worker w{opts};
  return w.run();
}

}  // namespace tidegate::bench
