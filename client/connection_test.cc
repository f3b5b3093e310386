#include "client/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client/fake_gateway_for_tests.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/error.pb.h"
#include "tidegate/v1/handshake.pb.h"

namespace tidegate::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

using fake_server = fake_gateway;

class ConnectionTest : public ::testing::Test {
 public:
  connection_config config(std::vector<std::string> addresses) {
    auto c = test_connection_config(std::move(addresses));
    c.pipeline_auth = false;  // the step-by-step login; PipelinedLogin... covers the other
    return c;
  }

  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds{1500}) {
    return loop_.run_until(done, event_loop::clock::now() + limit);
  }

  void track(connection& conn) {
    conn.on_state([this](connection_state s, const close_info&) { states_.push_back(s); });
  }

  event_loop loop_;
  std::vector<connection_state> states_;
};

TEST_F(ConnectionTest, PipelinedLoginSendsHelloAndAuthTogetherAndAcksOnce) {
  fake_server server{loop_};
  auto cfg = config({server.address()});
  cfg.pipeline_auth = true;
  connection conn{loop_, cfg};
  track(conn);
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  ASSERT_TRUE(run_until([&] { return !server.acks().empty(); }));
  ASSERT_GE(server.received.size(), 3u);
  EXPECT_EQ(server.received[0].type, v1::FRAME_TYPE_HELLO);
  EXPECT_EQ(server.received[1].type, v1::FRAME_TYPE_AUTH);
  EXPECT_EQ(server.received[2].type, v1::FRAME_TYPE_ACK);
  EXPECT_EQ(server.acks(), (std::vector<uint64_t>{2}));  // cumulative: covers WELCOME
  EXPECT_EQ(conn.user_id(), "alice");
}

TEST_F(ConnectionTest, HandshakeReachesReadyAndAcksWelcomeAndAuthOk) {
  fake_server server{loop_};
  connection conn{loop_, config({server.address()})};
  track(conn);
  std::vector<v1::FrameType> seen;
  conn.on_frame([&](const protocol::frame& f) { seen.push_back(f.type); });
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.acks().size() == 2; }));
  EXPECT_EQ(conn.state(), connection_state::ready);
  EXPECT_EQ(conn.user_id(), "alice");
  EXPECT_EQ(conn.connected_address(), server.address());
  EXPECT_EQ(states_, (std::vector<connection_state>{connection_state::connecting,
                                                    connection_state::handshaking,
                                                    connection_state::ready}));
  EXPECT_EQ(seen, (std::vector<v1::FrameType>{v1::FRAME_TYPE_WELCOME, v1::FRAME_TYPE_AUTH_OK}));
  ASSERT_GE(server.received.size(), 4u);
  EXPECT_EQ(server.received[0].type, v1::FRAME_TYPE_HELLO);
  EXPECT_EQ(server.received[0].seq, 0u);
  EXPECT_EQ(server.received[1].type, v1::FRAME_TYPE_ACK);
  EXPECT_EQ(server.received[2].type, v1::FRAME_TYPE_AUTH);
  EXPECT_EQ(server.acks(), (std::vector<uint64_t>{1, 2}));
  v1::Hello hello;
  ASSERT_TRUE(hello.ParseFromString(server.received[0].payload));
  EXPECT_EQ(hello.device_id(), "dev-1");
  EXPECT_EQ(hello.app_id(), "app-1");
  EXPECT_EQ(hello.protocol_version(), 1u);
  EXPECT_EQ(hello.heartbeat_interval_ms(), 30'000u);
  EXPECT_EQ(hello.app_state(), v1::APP_STATE_FOREGROUND);
  EXPECT_EQ(conn.counters().sessions, 1u);
}

TEST_F(ConnectionTest, ARefusedFirstAddressStartsTheNextAtOnce) {
  uint16_t refused_port = 0;
  int refused = bound_socket(-1, refused_port);  // bound, not listening: connect is refused
  fake_server server{loop_};
  auto c = config({local(refused_port), server.address()});
  c.race_stagger = seconds{10};  // the refusal, not the stagger, must start the second
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  EXPECT_EQ(conn.connected_address(), server.address());
  EXPECT_EQ(conn.counters().connect_attempts, 2u);
  ::close(refused);
}

TEST_F(ConnectionTest, TheStaggerStartsTheSecondAddressWhileTheFirstHangs) {
  // A listener whose accept queue is full drops SYNs: connecting to it hangs.
  uint16_t hung_port = 0;
  int hung = bound_socket(0, hung_port);
  int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(hung_port);
  ASSERT_EQ(::connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  fake_server server{loop_};
  auto c = config({local(hung_port), server.address()});
  c.race_stagger = milliseconds{100};
  connection conn{loop_, c};
  auto start = event_loop::clock::now();
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  EXPECT_GE(event_loop::clock::now() - start, milliseconds{100});
  EXPECT_EQ(conn.connected_address(), server.address());
  EXPECT_EQ(conn.counters().connect_attempts, 2u);
  EXPECT_EQ(loop_.fd_count(), 3u);  // the server's listener and peer, and the winner: loser closed
  conn.stop();
  ::close(filler);
  ::close(hung);
}

TEST_F(ConnectionTest, EveryAddressRefusedIsAConnectFailureNamingThem) {
  uint16_t p1 = 0;
  uint16_t p2 = 0;
  int s1 = bound_socket(-1, p1);
  int s2 = bound_socket(-1, p2);
  connection conn{loop_, config({local(p1), local(p2)})};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::closed; }));
  EXPECT_EQ(conn.last_close().reason, close_reason::connect_failed);
  EXPECT_NE(conn.last_close().message.find(local(p1) + ": Connection refused"), std::string::npos)
      << conn.last_close().message;
  EXPECT_NE(conn.last_close().message.find(local(p2)), std::string::npos);
  ::close(s1);
  ::close(s2);
}

TEST_F(ConnectionTest, ABadAddressClosesAtOnce) {
  connection conn{loop_, config({"no-port-here"})};
  conn.start();
  EXPECT_EQ(conn.state(), connection_state::closed);
  EXPECT_EQ(conn.last_close().reason, close_reason::bad_address);
  EXPECT_NE(conn.last_close().message.find("no-port-here"), std::string::npos);
}

TEST_F(ConnectionTest, AuthFailureIsAnErrorFrameAndIsNotRetried) {
  fake_server server{loop_};
  auto c = config({server.address()});
  c.token = "bad";
  c.reconnect = true;
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::closed; }));
  EXPECT_EQ(conn.last_close().reason, close_reason::error_frame);
  EXPECT_EQ(conn.last_close().error_code, v1::ERROR_CODE_AUTH_FAILED);
  EXPECT_NE(conn.last_close().message.find("8007"), std::string::npos);
  EXPECT_EQ(conn.counters().reconnects, 0u);
}

TEST_F(ConnectionTest, PingsAtTheHeartbeatAndCountsPongs) {
  fake_server server{loop_};
  auto c = config({server.address()});
  c.heartbeat = heartbeat_config::fixed(milliseconds{20});
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.counters().pongs_received >= 3; }));
  EXPECT_EQ(server.count(v1::FRAME_TYPE_PING), conn.counters().pings_sent);
  v1::Ping ping;
  for (const auto& f : server.received) {
    if (f.type == v1::FRAME_TYPE_PING) {
      ASSERT_TRUE(ping.ParseFromString(f.payload));
      EXPECT_EQ(ping.heartbeat_interval_ms(), 0u);  // unchanged since HELLO
      EXPECT_EQ(ping.app_state(), v1::APP_STATE_FOREGROUND);
    }
  }
}

TEST_F(ConnectionTest, APongTimeoutReconnectsWithBackoff) {
  fake_server server{loop_};
  server.answer_pings = false;
  auto c = config({server.address()});
  c.reconnect = true;
  c.heartbeat = heartbeat_config::fixed(milliseconds{10});
  c.pong_timeout = milliseconds{30};
  connection conn{loop_, c};
  std::vector<close_reason> reasons;
  conn.on_state([&](connection_state s, const close_info& info) {
    if (s == connection_state::waiting) {
      reasons.push_back(info.reason);
    }
  });
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.counters().sessions == 2; }));
  ASSERT_FALSE(reasons.empty());
  EXPECT_EQ(reasons[0], close_reason::pong_timeout);
  EXPECT_EQ(conn.counters().reconnects, 1u);
  EXPECT_EQ(server.accepted, 2u);
}

// A frozen host's kernel still accepts TCP connects: without the demotion the client would
// connect to the silent server first again, every round.
TEST_F(ConnectionTest, AnAddressThatStoppedAnsweringIsTriedLastInTheNextRound) {
  fake_server silent{loop_};
  silent.answer_pings = false;
  fake_server alive{loop_};
  auto c = config({silent.address(), alive.address()});
  c.reconnect = true;
  c.heartbeat = heartbeat_config::fixed(milliseconds{10});
  c.pong_timeout = milliseconds{30};
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  EXPECT_EQ(conn.connected_address(), silent.address());
  ASSERT_TRUE(run_until([&] { return conn.counters().sessions == 2; }));
  EXPECT_EQ(conn.connected_address(), alive.address());
  EXPECT_EQ(silent.accepted, 1u);
}

TEST_F(ConnectionTest, GoawayIsAckedAndRedirectsToItsAddress) {
  fake_server first{loop_};
  fake_server second{loop_};
  auto c = config({first.address()});
  c.reconnect = true;
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  v1::GoAway goaway;
  goaway.set_reason(v1::GO_AWAY_REASON_REDIRECT);
  goaway.set_reconnect_after_ms(0);
  goaway.add_addresses(second.address());
  first.send_all(v1::FRAME_TYPE_GOAWAY, goaway);
  ASSERT_TRUE(run_until([&] { return conn.counters().sessions == 2; }));
  EXPECT_EQ(conn.connected_address(), second.address());
  EXPECT_EQ(conn.last_close().reason, close_reason::none);
  EXPECT_EQ(first.acks(), (std::vector<uint64_t>{1, 2, 3}));  // GOAWAY was seq 3
}

TEST_F(ConnectionTest, AcksAreBatchedEverySixteenFramesThenAfterTheDelay) {
  fake_server server{loop_};
  auto c = config({server.address()});
  c.ack_delay = milliseconds{20};
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.acks().size() == 2; }));
  v1::Ack empty;  // any message: the client only counts and acks it
  server.send_all(v1::FRAME_TYPE_PUSH, empty, 20);  // seq 3..22, in one segment
  ASSERT_TRUE(run_until([&] { return server.acks().size() == 4; }));
  EXPECT_EQ(server.acks(), (std::vector<uint64_t>{1, 2, 18, 22}));
}

TEST_F(ConnectionTest, GoingToForegroundPingsAtOnceWithTheShorterInterval) {
  fake_server server{loop_};
  auto c = config({server.address()});
  c.foreground = false;
  c.heartbeat = heartbeat_config{};
  c.heartbeat.foreground_interval = seconds{45};
  connection conn{loop_, c};
  conn.start();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::ready; }));
  EXPECT_EQ(server.count(v1::FRAME_TYPE_PING), 0u);
  conn.set_foreground(true);
  ASSERT_TRUE(run_until([&] { return conn.counters().pongs_received == 1; }));
  v1::Ping ping;
  for (const auto& f : server.received) {
    if (f.type == v1::FRAME_TYPE_PING) {
      ASSERT_TRUE(ping.ParseFromString(f.payload));
    }
  }
  EXPECT_EQ(ping.app_state(), v1::APP_STATE_FOREGROUND);
  EXPECT_EQ(ping.heartbeat_interval_ms(), 45'000u);
}

TEST_F(ConnectionTest, AnUnexpectedCloseIsReportedAndStopEndsTheReconnects) {
  fake_server server{loop_};
  auto c = config({server.address()});
  c.reconnect = true;
  connection conn{loop_, c};
  track(conn);
  conn.start();
  // Once the server has read our last ACK its close is a FIN, not a reset.
  ASSERT_TRUE(run_until([&] { return server.acks().size() == 2; }));
  server.close_all();
  ASSERT_TRUE(run_until([&] { return conn.state() == connection_state::waiting; }));
  EXPECT_EQ(conn.last_close().reason, close_reason::peer_closed);
  conn.stop();
  EXPECT_EQ(conn.state(), connection_state::closed);
  EXPECT_EQ(conn.last_close().reason, close_reason::stopped);
  EXPECT_EQ(loop_.timer_count(), 0u);
}

}  // namespace
}  // namespace tidegate::client
