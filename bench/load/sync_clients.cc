#include "bench/load/sync_clients.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>

#include "client/connection.h"
#include "client/event_loop.h"
#include "protocol/auth_token.h"

namespace tidegate::bench {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string stamped_payload(int64_t now_ns, size_t size) {
  std::string out = "t=" + std::to_string(now_ns) + " ";
  if (out.size() < size) {
    out.append(size - out.size(), 'x');
  }
  return out;
}

namespace {

// The publish time in a stamped payload, or -1.
int64_t payload_time(const std::string& payload) {
  if (payload.size() < 3 || payload[0] != 't' || payload[1] != '=') {
    return -1;
  }
  char* end = nullptr;
  auto t = std::strtoll(payload.c_str() + 2, &end, 10);
  return end != nullptr && *end == ' ' ? static_cast<int64_t>(t) : -1;
}

}  // namespace

sync_clients::sync_clients(sync_clients_options opts, std::chrono::seconds lifetime)
    : opts_(std::move(opts)) {
  samples_.reserve(std::min<size_t>(opts_.max_samples, 1'000'000));
  thread_ = std::thread{[this, lifetime] { run(lifetime); }};
}

sync_clients::~sync_clients() {
  stop();
}

void sync_clients::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

uint32_t sync_clients::wait_ready(steady::time_point deadline) {
  while (!setup_done_.load() && steady::now() < deadline && !stop_.load()) {
    std::this_thread::sleep_for(milliseconds{20});
  }
  return ready_.load();
}

void sync_clients::start_sampling(int64_t since_ns) {
  std::lock_guard lock{samples_mutex_};
  samples_.clear();
  samples_dropped_ = 0;
  sample_since_ns_ = since_ns;
}

std::vector<int64_t> sync_clients::take_samples(uint64_t& dropped) {
  std::lock_guard lock{samples_mutex_};
  dropped = samples_dropped_;
  sample_since_ns_ = INT64_MAX;
  return std::move(samples_);
}

void sync_clients::run(std::chrono::seconds lifetime) {
  client::event_loop loop;
  const auto n = opts_.clients;
  std::vector<std::unique_ptr<client::connection>> conns;
  std::vector<bool> was_ready(n, false);
  std::vector<bool> is_ready(n, false);  // ready now
  conns.reserve(n);
  auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  auto expires = static_cast<uint64_t>(now_s) + 86'400;
  auto on_ops = [this](const std::string&, const std::vector<v1::Op>& ops) {
    auto now = monotonic_ns();
    auto since = sample_since_ns_.load(std::memory_order_relaxed);
    uint64_t count = 0;
    std::lock_guard lock{samples_mutex_};
    for (const auto& op : ops) {
      if (op.skipped()) {
        continue;
      }
      ++count;
      if (op.payload().rfind("mark ", 0) == 0) {
        marked_.fetch_add(1, std::memory_order_relaxed);
      }
      auto t = payload_time(op.payload());
      if (t < 0 || t < since) {
        continue;
      }
      if (samples_.size() < opts_.max_samples) {
        samples_.push_back(now - t);
      } else {
        ++samples_dropped_;
      }
    }
    delivered_.fetch_add(count, std::memory_order_relaxed);
  };
  for (uint32_t i = 0; i < n; ++i) {
    client::connection_config config;
    config.addresses = opts_.addresses;
    auto user = "u" + std::to_string(opts_.first_user + i);
    config.device_id = "bench-sync-" + user;
    config.app_id = opts_.app_id;
    config.os = "bench";
    config.token = protocol::sign_token(opts_.secret, opts_.app_id, user, expires);
    config.heartbeat = client::heartbeat_config::fixed(milliseconds{opts_.heartbeat_ms});
    config.pong_timeout = milliseconds{opts_.pong_timeout_ms};
    config.reconnect = opts_.reconnect;
    config.connect_timeout = std::chrono::seconds{opts_.connect_timeout_s};
    config.handshake_timeout = std::chrono::seconds{
        opts_.handshake_timeout_s > 0 ? opts_.handshake_timeout_s : opts_.connect_timeout_s};
    config.seed = i + 1;
    if (opts_.addresses.front().rfind("127.", 0) == 0) {
      config.source_address = "127.0.0." + std::to_string(2 + i % 16);  // see connections_worker
    }
    config.sync.enabled = true;
    config.sync.on_ops = on_ops;
    config.sync.on_reset = [this](const std::string&, uint64_t) { ++resets_; };
    auto conn = std::make_unique<client::connection>(loop, std::move(config));
    conn->on_state([this, i, &was_ready, &is_ready, n](client::connection_state state,
                                                       const client::close_info&) {
      if ((state == client::connection_state::ready) != is_ready[i]) {
        is_ready[i] = !is_ready[i];
        is_ready[i] ? ++ready_now_ : --ready_now_;
        if (!is_ready[i]) {
          ++dropped_;
        }
      }
      if (state == client::connection_state::ready && !was_ready[i]) {
        was_ready[i] = true;
        ++ready_;
      } else if (state == client::connection_state::closed) {
        ++closed_;
        if (!was_ready[i]) {
          ++failed_;
        }
      } else {
        return;
      }
      if (ready_.load() + failed_.load() == n) {
        setup_done_ = true;
      }
    });
    conns.push_back(std::move(conn));
  }
  // Connects go out 256 at a time with at most 1000 in flight; a 20 ms tick also notices stop().
  uint32_t started = 0;
  std::function<void()> tick = [&] {
    uint32_t batch = 0;
    while (started < n && started < ready_.load() + failed_.load() + 1000 && batch < 256) {
      conns[started++]->start();
      ++batch;
    }
    loop.add_timer(milliseconds{started < n ? 1 : 20}, tick);
  };
  tick();
  loop.run_until([this] { return stop_.load(); }, loop.now() + lifetime);
  stop_ = true;
  conns.clear();  // closes every socket before the loop goes
}

}  // namespace tidegate::bench
