// `tidegate node --config F`: one node, until SIGTERM or SIGINT, which drain it first.
#include <signal.h>

#include <iostream>

#include "actors/config/config_file.h"
#include "actors/node/node.h"
#include "apps/commands.h"
#include "apps/shutdown_signals.h"

namespace tidegate::apps {
namespace {

int run_node(const std::string& path, bool check_only) {
  auto loaded = actors::load_node_config(path);
  if (loaded.error) {
    std::cerr << "tidegate node: " << loaded.error->to_string() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << path << ": ok\n";
    return 0;
  }
  auto signals = block_shutdown_signals();
  sigaddset(&signals, SIGHUP);  // reload, taken by sigwait below like the others
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::string error;
  auto node = actors::node::start(*loaded.config, error);
  if (!node) {
    std::cerr << "tidegate node: " << path << ": " << error << "\n";
    return 1;
  }
  const auto& cfg = *loaded.config;
  std::cout << "tidegate node " << cfg.node_id << ": clients on " << cfg.gateway.listen.host << ":"
            << node->client_port() << ", metrics on http://" << cfg.http.host << ":"
            << node->http_port() << "/metrics, max " << node->context().max_connections
            << " connections" << std::endl;
  if (cfg.cluster.enabled) {
    std::cout << "tidegate node " << cfg.node_id << ": cluster member in zone " << cfg.cluster.zone
              << " on " << cfg.cluster.listen.host << ":" << node->cluster_port() << ", "
              << cfg.cluster.seeds.size() << " seeds" << std::endl;
  }
  node->set_config_path(path);
  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) {
      break;
    }
    // SIGHUP: re-read the file and apply what can change at runtime; a bad file changes
    // nothing and the node keeps running.
    auto again = actors::load_node_config(path);
    std::string why = again.error ? again.error->to_string() : node->reload(*again.config);
    if (why.empty()) {
      std::cout << "tidegate node " << cfg.node_id << ": SIGHUP: reloaded " << path << std::endl;
    } else {
      std::cerr << "tidegate node " << cfg.node_id << ": SIGHUP: not reloaded: " << why << "\n";
    }
  }
  std::cout << "tidegate node " << cfg.node_id << ": " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", draining over " << cfg.gateway.drain_window_ms << " ms" << std::endl;
  auto drained = node->drain();
  node->stop();
  std::cout << "tidegate node " << cfg.node_id << ": drained " << drained << " sessions, stopped"
            << std::endl;
  return 0;
}

}  // namespace

void add_node_command(CLI::App& root, command_runner& run) {
  auto* cmd = root.add_subcommand("node", "Run one Tidegate node from a TOML config file");
  auto path = std::make_shared<std::string>();
  auto check = std::make_shared<bool>(false);
  cmd->add_option("-c,--config", *path, "node config file (TOML)")->required();
  cmd->add_flag("--check", *check, "validate the config file and exit");
  cmd->callback([&run, path, check] { run = [path, check] { return run_node(*path, *check); }; });
}

}  // namespace tidegate::apps
