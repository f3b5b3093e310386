// `tidegate demo`: a cluster of three nodes in two zones from config/cluster/, a sample backend
// publishing SYNC ops and topic messages through the ingress, and a few hundred simulated
// phones that ask dispatch where to connect, log in, sync, follow the demo topic and switch
// between foreground and background; with a live summary line.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "actors/config/config_file.h"
#include "apps/commands.h"
#include "apps/demo_backend.h"
#include "apps/demo_cluster.h"
#include "apps/shutdown_signals.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "protocol/auth_token.h"

namespace tidegate::apps {
namespace {

using namespace std::chrono_literals;

struct demo_options {
  std::vector<std::string> configs = {"config/cluster/n1.toml", "config/cluster/n2.toml",
                                      "config/cluster/n3.toml"};
  uint32_t clients = 300;
  uint32_t duration_s = 0;  // 0 = until SIGINT/SIGTERM
  bool ephemeral = false;   // free ports and scratch storage (tests, busy machines)
};

struct phone_totals {
  std::atomic<uint64_t> ready{0};
  std::atomic<uint64_t> ops{0};       // SYNC ops received
  std::atomic<uint64_t> messages{0};  // topic messages received
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> switches{0};
  std::atomic<uint64_t> dispatched{0};  // phones whose dispatch answer was used
  // Ready phones per client port (which member, so which zone, they landed on).
  std::mutex mutex;
  std::map<std::string, uint64_t> by_address;
};

std::string user_of(uint32_t i) {
  return "user-" + std::to_string(i);
}

// Runs the simulated phones on one event loop until `stop` is set. Each asks dispatch (on
// every member's HTTP port) where its user lives, falls back to every member's client port,
// logs in with a token minted from the app secret (a real app gets it from its backend), syncs
// its user's ops and the demo topic, and now and then moves between foreground and background.
void run_phones(const demo_cluster& cluster, const actors::app_config& app, uint32_t count,
                const std::atomic<bool>& stop, phone_totals& totals) {
  client::event_loop loop;
  auto expires = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()
                                       + 86'400);
  std::vector<std::string> endpoints;
  std::vector<std::string> addresses;
  for (const auto& m : cluster.members()) {
    endpoints.push_back("127.0.0.1:" + std::to_string(m.http_port));
    addresses.push_back("127.0.0.1:" + std::to_string(m.client_port));
  }
  std::vector<std::unique_ptr<client::sync_store>> stores;
  std::vector<std::unique_ptr<client::connection>> phones;
  std::mt19937_64 rng{42};
  for (uint32_t i = 0; i < count; ++i) {
    client::connection_config cc;
    cc.addresses = addresses;
    cc.device_id = "demo-phone-" + std::to_string(i);
    cc.app_id = app.id;
    cc.token = protocol::sign_token(app.secret, app.id, user_of(i), expires);
    cc.heartbeat = client::heartbeat_config::fixed(2s);
    cc.reconnect = true;
    cc.seed = rng();
    if (!app.dispatch_key.empty()) {
      client::dispatch_config dc;
      dc.endpoints = endpoints;
      dc.app_id = app.id;
      dc.owner = user_of(i);
      dc.key = app.dispatch_key;
      cc.dispatch = std::make_shared<client::dispatch_cache>(std::move(dc));
    }
    stores.push_back(std::make_unique<client::sync_store>());
    cc.sync.enabled = true;
    cc.sync.store = stores.back().get();
    cc.sync.on_ops = [&totals](const std::string& stream, const std::vector<v1::Op>& ops) {
      (stream.rfind("topic:", 0) == 0 ? totals.messages : totals.ops).fetch_add(ops.size());
    };
    phones.push_back(std::make_unique<client::connection>(loop, cc));
  }
  // Phones arrive over the first seconds, as after a deploy; then some move to the background.
  size_t started = 0;
  auto next_switch = std::chrono::steady_clock::now() + 3s;
  auto next_count = std::chrono::steady_clock::now();
  while (!stop.load()) {
    for (size_t n = 0; n < 30 && started < phones.size(); ++n) {
      phones[started++]->start();
    }
    loop.run_once(10ms);
    auto now = std::chrono::steady_clock::now();
    if (now >= next_switch) {
      auto& phone = *phones[rng() % phones.size()];
      if (phone.state() == client::connection_state::ready) {
        phone.set_foreground(!phone.heartbeat().foreground());
        totals.switches.fetch_add(1);
      }
      next_switch += 200ms;
    }
    if (now < next_count) {
      continue;
    }
    next_count = now + 250ms;
    uint64_t ready = 0;
    uint64_t reconnects = 0;
    std::map<std::string, uint64_t> by_address;
    for (auto& p : phones) {
      if (p->state() == client::connection_state::ready) {
        ++ready;
        ++by_address[p->connected_address()];
      }
      reconnects += p->counters().reconnects;
    }
    totals.ready = ready;
    totals.reconnects = reconnects;
    std::lock_guard<std::mutex> guard{totals.mutex};
    totals.by_address = std::move(by_address);
  }
  for (auto& p : phones) {
    p->stop();
  }
}

// One line: the cluster as each member sees it, the backend, the phones.
void print_summary(const demo_cluster& cluster, const backend_totals& backend, phone_totals& phones,
                   long long elapsed_s, bool tty) {
  std::ostringstream line;
  line << "t=" << elapsed_s << "s";
  std::string leader;
  uint64_t map_version = 0;
  for (size_t i = 0; i < cluster.members().size(); ++i) {
    const auto& m = cluster.members()[i];
    auto s = cluster.status(i);
    if (!s.answered) {
      line << " " << m.name << "[" << m.zone << "]:down";
      continue;
    }
    leader = s.leader.empty() ? leader : s.leader;
    map_version = std::max(map_version, s.map_version);
    uint64_t phones_here = 0;
    {
      std::lock_guard<std::mutex> guard{phones.mutex};
      auto it = phones.by_address.find("127.0.0.1:" + std::to_string(m.client_port));
      phones_here = it == phones.by_address.end() ? 0 : it->second;
    }
    line << " " << m.name << "[" << m.zone << "]:conns=" << s.connections
         << ",phones=" << phones_here << ",primaries=" << s.primaries;
  }
  line << " leader=" << leader << " map=v" << map_version
       << " | backend: followers=" << backend.followed.load() << " ops_acked=" << backend.ops.load()
       << " news_acked=" << backend.messages.load() << " retries=" << backend.retries.load()
       << " | phones_ready=" << phones.ready.load() << " ops_received=" << phones.ops.load()
       << " news_received=" << phones.messages.load() << " app_switches=" << phones.switches.load();
  std::cout << (tty ? "\r" : "") << line.str() << (tty ? "   " : "\n") << std::flush;
}

int run_demo(const demo_options& opt) {
  auto signals = block_shutdown_signals();
  auto first = actors::load_node_config(opt.configs.front());
  if (first.error) {
    std::cerr << "tidegate demo: " << first.error->to_string() << "\n";
    return 2;
  }
  if (first.config->apps.empty()) {
    std::cerr << "tidegate demo: " << opt.configs.front() << " has no [[apps]]\n";
    return 2;
  }
  const auto app = first.config->apps.front();
  demo_cluster cluster;
  std::string error;
  if (!cluster.start(opt.configs, opt.ephemeral, error)) {
    std::cerr << "tidegate demo: " << error << "\n";
    return 1;
  }
  std::cout << "tidegate demo: " << cluster.members().size() << " nodes on loopback (logs in "
            << cluster.log_dir() << ")\n";
  for (const auto& m : cluster.members()) {
    std::cout << "  " << m.name << " zone " << m.zone << ": clients 127.0.0.1:" << m.client_port
              << ", HTTP http://127.0.0.1:" << m.http_port << " (/cluster, /metrics, /v1/dispatch)"
              << "  from " << m.config << "\n";
  }
  std::cout << "  waiting for the cluster to agree on a shard map..." << std::endl;
  if (!cluster.wait_serving(std::chrono::steady_clock::now() + 60s)) {
    std::cerr << "tidegate demo: the cluster did not serve every shard within 60 s (logs in "
              << cluster.log_dir() << ")\n";
    cluster.stop();
    return 1;
  }
  const auto& m0 = cluster.members().front();
  std::cout << "  phones:   " << opt.clients << " simulated (app " << app.id
            << "), each asks dispatch for its zone; all follow topic '" << demo_topic << "'\n"
            << "  backend:  a SYNC op every 100 ms, a '" << demo_topic
            << "' message every second, through the ingress of every node\n"
            << "  try:      curl 'http://127.0.0.1:" << m0.http_port
            << "/v1/dispatch?app=" << app.id << "&uid=user-1'\n"
            << "            tidegate client --connect 127.0.0.1:" << m0.client_port << " --app "
            << app.id << " --device me --user me --secret '" << app.secret << "' --pings 3\n"
            << "Ctrl-C stops the phones, then the nodes." << std::endl;
  std::vector<uint16_t> http_ports;
  for (const auto& m : cluster.members()) {
    http_ports.push_back(m.http_port);
  }
  std::vector<std::string> users;
  for (uint32_t i = 0; i < opt.clients; ++i) {
    users.push_back(user_of(i));
  }
  std::atomic<bool> stop{false};
  backend_totals backend;
  phone_totals phones;
  std::thread backend_thread{
      [&] { run_backend(http_ports, app.id, app.secret, users, 100, 1000, stop, backend); }};
  std::thread phones_thread{[&] { run_phones(cluster, app, opt.clients, stop, phones); }};
  bool tty = isatty(STDOUT_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  timespec one_second{1, 0};
  for (;;) {
    siginfo_t info{};
    int sig = sigtimedwait(&signals, &info, &one_second);
    auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    print_summary(cluster, backend, phones, elapsed, tty);
    if (sig > 0 || (opt.duration_s != 0 && elapsed >= opt.duration_s)) {
      break;
    }
  }
  std::cout << "\ntidegate demo: stopping" << std::endl;
  stop = true;
  phones_thread.join();
  backend_thread.join();
  if (auto problems = cluster.stop(); !problems.empty()) {
    std::cerr << "tidegate demo:" << problems << " (logs in " << cluster.log_dir() << ")\n";
    return 1;
  }
  std::cout << "tidegate demo: the backend had " << backend.ops.load() << " SYNC ops and "
            << backend.messages.load() << " topic messages acknowledged; the phones received "
            << phones.ops.load() << " ops and " << phones.messages.load() << " messages"
            << std::endl;
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& root, command_runner& run) {
  auto* cmd = root.add_subcommand(
      "demo", "A 3-node, 2-zone cluster from config/cluster/ with a backend and simulated phones");
  auto opt = std::make_shared<demo_options>();
  cmd->add_option("--config", opt->configs, "member config files, one per node")
      ->capture_default_str()
      ->check(CLI::ExistingFile);
  cmd->add_option("--clients", opt->clients, "simulated phones")
      ->capture_default_str()
      ->check(CLI::Range(1u, 15000u));
  cmd->add_option("--duration", opt->duration_s, "seconds to run, 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_flag("--ephemeral", opt->ephemeral,
                "free ports, a random loopback subnet and scratch storage instead of the "
                "configs' addresses and data_dir");
  cmd->callback([&run, opt] { run = [opt] { return run_demo(*opt); }; });
}

}  // namespace tidegate::apps
