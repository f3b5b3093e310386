// The client SDK against real nodes: login, heartbeats, and moving to another node on drain.
#include <future>

#include <gtest/gtest.h>

#include "client/connection.h"
#include "client/event_loop.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

client::connection_config sdk_config(std::vector<uint16_t> ports, const std::string& device) {
  client::connection_config cc;
  for (auto p : ports) {
    cc.addresses.push_back("127.0.0.1:" + std::to_string(p));
  }
  cc.device_id = device;
  cc.app_id = test_app;
  cc.token = token_for(test_secret, test_app, "alice");
  cc.heartbeat = client::heartbeat_config::fixed(200ms);
  cc.race_stagger = 50ms;
  return cc;
}

bool run_until(client::event_loop& loop, const std::function<bool()>& done,
               std::chrono::milliseconds limit = 10s) {
  return loop.run_until(done, std::chrono::steady_clock::now() + limit);
}

TEST(ClientSdkTest, LogsInAndKeepsHeartbeatsGoing) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  client::event_loop loop;
  client::connection c{loop, sdk_config({n->client_port()}, "phone-1")};
  c.start();
  ASSERT_TRUE(run_until(loop, [&] { return c.state() == client::connection_state::ready; }));
  EXPECT_EQ(c.user_id(), "alice");
  ASSERT_TRUE(run_until(loop, [&] { return c.counters().pongs_received >= 3; }));
  EXPECT_EQ(n->context().metrics.authenticated.load(), 1);
  c.stop();
}

TEST(ClientSdkTest, RefusedFirstAddressFallsThroughToASecondNode) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  uint16_t dead_port = 0;
  {
    auto gone = start_test_node(test_node_config());
    ASSERT_TRUE(gone);
    dead_port = gone->client_port();
  }  // stopped: its port now refuses
  client::event_loop loop;
  client::connection c{loop, sdk_config({dead_port, n->client_port()}, "phone-1")};
  c.start();
  ASSERT_TRUE(run_until(loop, [&] { return c.state() == client::connection_state::ready; }));
  EXPECT_EQ(c.connected_address(), "127.0.0.1:" + std::to_string(n->client_port()));
}

TEST(ClientSdkTest, DrainedNodeSendsTheClientToAnotherNode) {
  auto a = start_test_node(test_node_config());
  auto b = start_test_node(test_node_config());
  ASSERT_TRUE(a && b);
  client::event_loop loop;
  auto cc = sdk_config({a->client_port(), b->client_port()}, "phone-1");
  cc.backoff.foreground_base = 10ms;
  client::connection c{loop, cc};
  std::vector<client::close_reason> ends;
  c.on_state([&](client::connection_state state, const client::close_info& info) {
    if (state == client::connection_state::waiting) {
      ends.push_back(info.reason);
    }
  });
  c.start();
  ASSERT_TRUE(run_until(loop, [&] { return c.state() == client::connection_state::ready; }));
  ASSERT_EQ(c.connected_address(), "127.0.0.1:" + std::to_string(a->client_port()));
  auto drained = std::async(std::launch::async, [&] { return a->drain(); });
  ASSERT_TRUE(run_until(loop, [&] {
    return c.state() == client::connection_state::ready && c.counters().sessions == 2;
  }));
  ASSERT_FALSE(ends.empty());
  EXPECT_EQ(ends.front(), client::close_reason::goaway);
  EXPECT_EQ(c.connected_address(), "127.0.0.1:" + std::to_string(b->client_port()));
  EXPECT_EQ(drained.get(), 1u);
  c.stop();
}

}  // namespace
}  // namespace tidegate::test
