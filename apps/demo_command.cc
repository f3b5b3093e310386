// `tidegate demo`: one node from config/ and a few hundred simulated phones that connect,
// log in, heartbeat and switch between foreground and background, with a live line of counts.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "actors/config/config_file.h"
#include "actors/node/node.h"
#include "apps/commands.h"
#include "apps/shutdown_signals.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "protocol/auth_token.h"

namespace tidegate::apps {
namespace {

using namespace std::chrono_literals;

struct demo_options {
  std::string config = "config/node-a.toml";
  uint32_t clients = 300;
  uint32_t duration_s = 0;  // 0 = until SIGINT/SIGTERM
  bool ephemeral = false;   // port 0 for clients and HTTP (tests, busy machines)
};

struct client_totals {
  std::atomic<uint64_t> ready{0};
  std::atomic<uint64_t> pongs{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> switches{0};
};

// Runs the simulated phones on one event loop until `stop` is set. Each phone logs in with a
// token minted from the app secret (a real app gets it from its backend), and now and then
// moves between foreground and background, which changes its heartbeat.
void run_phones(const actors::node_config& cfg, uint16_t port, uint32_t count,
                const std::atomic<bool>& stop, client_totals& totals) {
  client::event_loop loop;
  const auto& app = cfg.apps.front();
  auto expires = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()
                                       + 86'400);
  std::vector<std::unique_ptr<client::connection>> phones;
  std::mt19937_64 rng{42};
  for (uint32_t i = 0; i < count; ++i) {
    client::connection_config cc;
    cc.addresses = {"127.0.0.1:" + std::to_string(port)};
    cc.device_id = "demo-phone-" + std::to_string(i);
    cc.app_id = app.id;
    cc.token = protocol::sign_token(app.secret, app.id, "user-" + std::to_string(i), expires);
    cc.heartbeat = client::heartbeat_config::fixed(
        std::chrono::milliseconds(std::max<uint32_t>(cfg.gateway.heartbeat_min_ms, 2000)));
    cc.seed = rng();
    phones.push_back(std::make_unique<client::connection>(loop, cc));
  }
  // Phones arrive over the first second, as after a deploy; then some move to the background.
  size_t started = 0;
  auto next_switch = std::chrono::steady_clock::now() + 2s;
  while (!stop.load()) {
    for (size_t n = 0; n < 30 && started < phones.size(); ++n) {
      phones[started++]->start();
    }
    loop.run_once(10ms);
    if (std::chrono::steady_clock::now() >= next_switch) {
      auto& phone = *phones[rng() % phones.size()];
      if (phone.state() == client::connection_state::ready) {
        phone.set_foreground(!phone.heartbeat().foreground());
        totals.switches.fetch_add(1);
      }
      next_switch += 200ms;
    }
    uint64_t ready = 0;
    uint64_t pongs = 0;
    uint64_t reconnects = 0;
    for (auto& p : phones) {
      ready += p->state() == client::connection_state::ready ? 1 : 0;
      pongs += p->counters().pongs_received;
      reconnects += p->counters().reconnects;
    }
    totals.ready = ready;
    totals.pongs = pongs;
    totals.reconnects = reconnects;
  }
  for (auto& p : phones) {
    p->stop();
  }
}

int run_demo(const demo_options& opt) {
  auto loaded = actors::load_node_config(opt.config);
  if (loaded.error) {
    std::cerr << "tidegate demo: " << loaded.error->to_string() << "\n";
    return 2;
  }
  auto cfg = *loaded.config;
  if (cfg.apps.empty()) {
    std::cerr << "tidegate demo: " << opt.config << " has no [[apps]]\n";
    return 2;
  }
  if (opt.ephemeral) {
    cfg.gateway.listen = {"127.0.0.1", 0};
    cfg.http = {"127.0.0.1", 0};
  }
  auto signals = block_shutdown_signals();
  std::string error;
  auto node = actors::node::start(cfg, error);
  if (!node) {
    std::cerr << "tidegate demo: " << opt.config << ": " << error << "\n";
    return 1;
  }
  std::cout << "tidegate demo: node " << cfg.node_id << " from " << opt.config << "\n"
            << "  clients:  " << cfg.gateway.listen.host << ":" << node->client_port() << "\n"
            << "  metrics:  http://" << cfg.http.host << ":" << node->http_port() << "/metrics\n"
            << "  phones:   " << opt.clients << " simulated (app " << cfg.apps.front().id << ")\n"
            << "  try:      tidegate client --connect 127.0.0.1:" << node->client_port()
            << " --app " << cfg.apps.front().id << " --device me --user me --secret '"
            << cfg.apps.front().secret << "' --pings 3\n"
            << "Ctrl-C drains the node and stops." << std::endl;
  std::atomic<bool> stop{false};
  client_totals totals;
  std::thread phones{[&] { run_phones(cfg, node->client_port(), opt.clients, stop, totals); }};
  bool tty = isatty(STDOUT_FILENO) != 0;
  auto started = std::chrono::steady_clock::now();
  timespec one_second{1, 0};
  for (;;) {
    siginfo_t info{};
    int sig = sigtimedwait(&signals, &info, &one_second);
    auto& m = node->context().metrics;
    auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    std::cout << (tty ? "\r" : "") << "t=" << elapsed << "s connections=" << m.connections.load()
              << " authenticated=" << m.authenticated.load()
              << " handshakes=" << m.handshakes.load() << " frames_in=" << m.frames_in.load()
              << " frames_out=" << m.frames_out.load() << " phones_ready=" << totals.ready.load()
              << " pongs=" << totals.pongs.load() << " app_switches=" << totals.switches.load()
              << (tty ? "   " : "\n") << std::flush;
    if (sig > 0 || (opt.duration_s != 0 && elapsed >= opt.duration_s)) {
      break;
    }
  }
  std::cout << "\ntidegate demo: stopping" << std::endl;
  stop = true;
  phones.join();
  node->stop();
  return 0;
}

}  // namespace

void add_demo_command(CLI::App& root, command_runner& run) {
  auto* cmd = root.add_subcommand("demo", "A node from config/ with simulated phones");
  auto opt = std::make_shared<demo_options>();
  cmd->add_option("--config", opt->config, "node config file")->capture_default_str();
  cmd->add_option("--clients", opt->clients, "simulated phones")
      ->capture_default_str()
      ->check(CLI::Range(1u, 15000u));
  cmd->add_option("--duration", opt->duration_s, "seconds to run, 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_flag("--ephemeral", opt->ephemeral, "listen on free ports instead of the config's");
  cmd->callback([&run, opt] { run = [opt] { return run_demo(*opt); }; });
}

}  // namespace tidegate::apps
