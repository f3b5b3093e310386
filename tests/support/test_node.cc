#include "tests/support/test_node.h"

#include <gtest/gtest.h>

namespace tidegate::test {

actors::node_config test_node_config() {
  actors::node_config cfg;
  cfg.node_id = "test";
  cfg.gateway.listen = {"127.0.0.1", 0};
  cfg.http = {"127.0.0.1", 0};
  cfg.scheduler_threads = 2;
  cfg.gateway.handshake_timeout_ms = 5000;
  cfg.gateway.heartbeat_min_ms = 100;
  cfg.gateway.heartbeat_max_ms = 60'000;
  cfg.gateway.ack_deadline_ms = 10'000;
  cfg.gateway.soft_disconnect_grace_ms = 300;
  cfg.gateway.drain_window_ms = 200;
  cfg.apps.push_back({test_app, test_secret, "", test_dispatch_key});
  cfg.sync.businesses["chat"] = "user";
  return cfg;
}

std::unique_ptr<actors::node> start_test_node(const actors::node_config& cfg) {
  std::string error;
  auto n = actors::node::start(cfg, error);
  EXPECT_TRUE(n) << error;
  return n;
}

}  // namespace tidegate::test
