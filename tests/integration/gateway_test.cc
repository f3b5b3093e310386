// The gateway end to end: a real node in this process, real sockets on 127.0.0.1.
#include <future>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <httplib.h>

#include "actors/atoms.h"
#include "actors/gateway/session_registry.h"
#include "protocol/frame_encoder.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/error.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

std::optional<v1::Error> error_frame(raw_client& c, std::chrono::milliseconds timeout = 5s) {
  while (auto f = c.next(timeout)) {
    if (f->type == v1::FRAME_TYPE_ERROR) {
      v1::Error e;
      e.ParseFromString(f->payload);
      return e;
    }
  }
  return std::nullopt;
}

bool login(raw_client& c, const std::string& device, const std::string& user,
           uint32_t heartbeat_ms = 10'000) {
  return c.connected() && c.hello(device, test_app, heartbeat_ms)
         && c.auth(token_for(test_secret, test_app, user));
}

std::optional<v1::Pong> ping(raw_client& c) {
  if (!c.send(v1::FRAME_TYPE_PING, v1::Ping{})) {
    return std::nullopt;
  }
  auto f = c.next();
  if (!f || f->type != v1::FRAME_TYPE_PONG) {
    return std::nullopt;
  }
  v1::Pong pong;
  pong.ParseFromString(f->payload);
  return pong;
}

// Waits (bounded) for a counter that the node updates after the socket closes.
bool eventually_equals(const std::atomic<uint64_t>& counter, uint64_t expected) {
  for (int i = 0; i < 1000 && counter.load() != expected; ++i) {
    std::this_thread::sleep_for(5ms);
  }
  return counter.load() == expected;
}

uint64_t session_count(actors::node& n) {
  caf::scoped_actor self{n.system()};
  uint64_t count = 0;
  self->request(actors::session_registry_of(n.system()), 5s, actors::count_atom_v)
      .receive([&](uint64_t c) { count = c; }, [](caf::error&) {});
  return count;
}

TEST(GatewayTest, HandshakeThenPingPong) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  ASSERT_TRUE(login(c, "dev-1", "alice"));
  auto pong = ping(c);
  ASSERT_TRUE(pong);
  EXPECT_GT(pong->server_time_ms(), 0u);
  EXPECT_EQ(n->context().metrics.handshakes.load(), 1u);
}

TEST(GatewayTest, BadTokenGetsAuthFailedAndClose) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  ASSERT_TRUE(c.hello("dev-1", test_app, 1000));
  v1::Auth a;
  a.set_token(token_for("some-other-secret-0123456789", test_app, "mallory"));
  c.send(v1::FRAME_TYPE_AUTH, a);
  auto e = error_frame(c);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), v1::ERROR_CODE_AUTH_FAILED);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(GatewayTest, IdleConnectionIsClosedAfterHeartbeatTimesMargin) {
  auto cfg = test_node_config();
  cfg.gateway.idle_margin = 1.5;
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  ASSERT_TRUE(login(c, "dev-1", "alice", 200));  // idle timeout 300 ms
  auto start = std::chrono::steady_clock::now();
  auto e = error_frame(c, 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), v1::ERROR_CODE_IDLE_TIMEOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(GatewayTest, SilentConnectionHitsTheHandshakeTimeout) {
  auto cfg = test_node_config();
  cfg.gateway.handshake_timeout_ms = 200;
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  auto e = error_frame(c, 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), v1::ERROR_CODE_IDLE_TIMEOUT);
  EXPECT_TRUE(c.closed_within(5s));
}

TEST(GatewayTest, UnackedFramesPastTheDeadlineCloseADeadConnection) {
  auto cfg = test_node_config();
  cfg.gateway.ack_deadline_ms = 300;
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  v1::Hello h;
  h.set_protocol_version(1);
  h.set_device_id("dev-1");
  h.set_app_id(test_app);
  h.set_heartbeat_interval_ms(10'000);
  ASSERT_TRUE(c.send(v1::FRAME_TYPE_HELLO, h));
  auto welcome = c.next();
  ASSERT_TRUE(welcome && welcome->ack_requested());  // and never acked
  std::optional<v1::Error> e;
  for (int i = 0; i < 100 && !e; ++i) {  // keeps pinging: only the missing ack can close it
    c.send(v1::FRAME_TYPE_PING, v1::Ping{});
    while (auto f = c.next(50ms)) {
      if (f->type == v1::FRAME_TYPE_ERROR) {
        e.emplace();
        e->ParseFromString(f->payload);
        break;
      }
    }
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code(), v1::ERROR_CODE_DEAD_CONNECTION);
  EXPECT_TRUE(c.closed_within(5s));
  EXPECT_TRUE(eventually_equals(
      n->context().metrics.closes[static_cast<size_t>(actors::close_reason::dead_connection)], 1));
}

TEST(GatewayTest, SecondConnectionOfADeviceDrainsTheFirst) {
  auto n = start_test_node(test_node_config());  // grace 300 ms
  ASSERT_TRUE(n);
  raw_client old_conn{n->client_port()};
  ASSERT_TRUE(login(old_conn, "phone-1", "alice"));
  raw_client new_conn{n->client_port()};
  ASSERT_TRUE(login(new_conn, "phone-1", "alice"));
  auto goaway = old_conn.next();
  ASSERT_TRUE(goaway);
  ASSERT_EQ(goaway->type, v1::FRAME_TYPE_GOAWAY);
  v1::GoAway g;
  g.ParseFromString(goaway->payload);
  EXPECT_EQ(g.reason(), v1::GO_AWAY_REASON_REPLACED);
  EXPECT_TRUE(old_conn.ack(goaway->seq));
  EXPECT_TRUE(ping(old_conn));  // still served during the grace period
  EXPECT_TRUE(old_conn.closed_within(5s));
  EXPECT_TRUE(ping(new_conn));  // the new one is untouched
}

TEST(GatewayTest, DrainSendsGoAwayToEverySessionAndWaitsForThem) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<raw_client>(n->client_port()));
    ASSERT_TRUE(login(*clients.back(), "dev-" + std::to_string(i), "u"));
  }
  auto drained = std::async(std::launch::async, [&] { return n->drain(); });
  for (auto& c : clients) {
    auto f = c->next();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->type, v1::FRAME_TYPE_GOAWAY);
    v1::GoAway g;
    g.ParseFromString(f->payload);
    EXPECT_EQ(g.reason(), v1::GO_AWAY_REASON_DRAIN);
  }
  clients.clear();  // clients leave on GOAWAY, as the SDK does
  EXPECT_EQ(drained.get(), 5u);
  raw_client late{n->client_port()};
  EXPECT_FALSE(late.connected() && late.hello("late", test_app, 1000));  // no longer accepting
}

TEST(GatewayTest, ClientThatStopsReadingIsCutOff) {
  auto cfg = test_node_config();
  cfg.gateway.max_unsent_bytes = 64 * 1024;
  cfg.gateway.socket_send_buffer = 4096;
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  c.shrink_receive_buffer();
  ASSERT_TRUE(login(c, "dev-1", "alice"));
  // Many PINGs, no reads: the PONGs pile up on the server until it cuts us off.
  std::string burst;
  protocol::frame_encoder enc;
  for (int i = 0; i < 20'000; ++i) {
    enc.encode(v1::FRAME_TYPE_PING, 0, 0, 0, v1::Ping{}, burst);
  }
  const auto& slow =
      n->context().metrics.closes[static_cast<size_t>(actors::close_reason::slow_reader)];
  for (int round = 0; round < 50 && slow.load() == 0; ++round) {
    if (!c.send_bytes(burst)) {
      break;  // already cut off
    }
  }
  EXPECT_TRUE(c.closed_within(10s));
  EXPECT_TRUE(eventually_equals(slow, 1));
}

TEST(GatewayTest, CrashedSessionClosesOnlyItsOwnConnection) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  raw_client victim{n->client_port()};
  raw_client bystander{n->client_port()};
  ASSERT_TRUE(login(victim, "victim", "a"));
  ASSERT_TRUE(login(bystander, "bystander", "b"));
  caf::scoped_actor self{n->system()};
  caf::actor session;
  self->request(actors::session_registry_of(n->system()), 5s, caf::get_atom_v,
                std::string{"victim"})
      .receive([&](caf::actor& s) { session = s; }, [](caf::error&) {});
  ASSERT_TRUE(session);
  caf::anon_send_exit(session, caf::exit_reason::kill);  // stands in for a crash
  EXPECT_TRUE(victim.closed_within(5s));
  EXPECT_TRUE(ping(bystander));
  EXPECT_EQ(session_count(*n), 1u);
}

TEST(GatewayTest, ConnectionsOverTheCapAreRefused) {
  auto cfg = test_node_config();
  cfg.gateway.max_connections = 2;
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  raw_client a{n->client_port()};
  raw_client b{n->client_port()};
  ASSERT_TRUE(login(a, "a", "a"));
  ASSERT_TRUE(login(b, "b", "b"));
  raw_client c{n->client_port()};
  EXPECT_TRUE(c.closed_within(5s));
  EXPECT_EQ(n->context()
                .metrics.rejects[static_cast<size_t>(actors::reject_reason::max_connections)]
                .load(),
            1u);
}

TEST(GatewayTest, MetricsAreServedOverHttp) {
  auto n = start_test_node(test_node_config());
  ASSERT_TRUE(n);
  raw_client c{n->client_port()};
  ASSERT_TRUE(login(c, "dev-1", "alice"));
  httplib::Client http{"127.0.0.1", n->http_port()};
  auto res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("tidegate_handshakes_total{node=\"test\"} 1"), std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("tidegate_connections{node=\"test\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace tidegate::test
