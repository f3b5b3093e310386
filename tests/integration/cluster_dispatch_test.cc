// Dispatch and zones with real node processes (DESIGN §10): GET /v1/dispatch on any member
// names the least loaded members of the user's home zone, signed with the app's dispatch key;
// a client that lands in the wrong zone is redirected there with GOAWAY; an SDK that asks
// dispatch first connects to its zone directly; and when a zone is lost, its users are sent
// to, and served by, the zone that is left.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "client/connection.h"
#include "client/dispatch_cache.h"
#include "client/event_loop.h"
#include "protocol/dispatch_answer.h"
#include "tests/support/process_cluster.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tests/support/test_phone.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr auto settle = 20s;  // a bound that catches "never", not a speed

// n1, n2 in z1; n3 in z2; shards 0-511 live in z1, 512-1023 in z2.
class ClusterDispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.set_cluster_extra(two_zone_rules);
    ASSERT_TRUE(cluster_.start_all(serving, settle));
  }

  std::string client_address(size_t i) const {
    return "127.0.0.1:" + std::to_string(cluster_.client_port(i));
  }

  // The verified answer of member `via` for `uid`.
  protocol::dispatch_answer dispatch(size_t via, const std::string& uid) const {
    auto [status, body] =
        cluster_.get(via, "/v1/dispatch?app=" + std::string{test_app} + "&uid=" + uid);
    EXPECT_EQ(status, 200) << body;
    std::string error;
    auto answer = protocol::parse_dispatch_answer(body, error);
    EXPECT_TRUE(answer) << error << ": " << body;
    if (!answer) {
      return {};
    }
    auto now_s = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
    EXPECT_EQ(protocol::check_dispatch(*answer, test_dispatch_key, test_app, uid, now_s),
              protocol::dispatch_status::ok);
    return *answer;
  }

  client::connection_config client_of(const std::string& uid) const { return test_phone(uid); }

  // A started client of `uid` whose only address is n1's; `closes` gets the message of each
  // close it waits after (GOAWAY, redirect).
  std::unique_ptr<client::connection> connect_to_n1(client::event_loop& loop,
                                                    const std::string& uid,
                                                    std::vector<std::string>& closes) const {
    auto cc = client_of(uid);
    cc.addresses = {client_address(0)};
    auto conn = std::make_unique<client::connection>(loop, cc);
    conn->on_state([&closes](client::connection_state state, const client::close_info& info) {
      if (state == client::connection_state::waiting) {
        closes.push_back(info.message);
      }
    });
    conn->start();
    return conn;
  }

  process_cluster cluster_{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
};

TEST_F(ClusterDispatchTest, EveryMemberNamesTheUsersHomeZone) {
  auto alice = uid_in(0, 511);
  auto bob = uid_in(512, 1023);
  for (size_t via = 0; via < 3; ++via) {
    auto a = dispatch(via, alice);
    EXPECT_EQ(a.zone, "z1");
    EXPECT_EQ(a.addresses, (std::vector<std::string>{client_address(0), client_address(1)}))
        << "equal loads: by name";
    auto b = dispatch(via, bob);
    EXPECT_EQ(b.zone, "z2");
    EXPECT_EQ(b.addresses, std::vector<std::string>{client_address(2)});
  }
}

TEST_F(ClusterDispatchTest, AClientInTheWrongZoneIsRedirectedToItsOwn) {
  auto bob = uid_in(512, 1023);
  client::event_loop loop;
  std::vector<std::string> closes;
  auto conn = connect_to_n1(loop, bob, closes);  // n1 is in z1
  ASSERT_TRUE(loop.run_until([&] { return conn->state() == client::connection_state::ready; },
                             clock_type::now() + settle));
  EXPECT_EQ(conn->connected_address(), client_address(2));
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_NE(closes[0].find("GO_AWAY_REASON_REDIRECT"), std::string::npos) << closes[0];
  EXPECT_EQ(conn->counters().sessions, 1u) << "the redirect came before AUTH_OK";
  conn->stop();
  // The client left right after the GOAWAY; n1 still counts the close as a redirect.
  const std::string redirected = "reason=\"redirected\"} 1";
  bool counted = false;
  for (auto deadline = clock_type::now() + settle; !counted && clock_type::now() < deadline;) {
    counted = cluster_.get(0, "/metrics").second.find(redirected) != std::string::npos;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(counted) << cluster_.get(0, "/metrics").second;
}

// Zone rules pushed at runtime (PUT /cluster/zone-rules on any member) move the user's shard
// to its new home zone by hand-off, change what dispatch answers on every member, and send the
// user's session on the old zone a GOAWAY; its reconnect there is redirected to the new zone.
TEST_F(ClusterDispatchTest, ZoneRulesPushedAtRuntimeMoveTheShardAndTheSession) {
  auto alice = uid_in(0, 511);
  auto shard = actors::shard_of(alice, 1024);
  client::event_loop loop;
  std::vector<std::string> closes;
  auto conn = connect_to_n1(loop, alice, closes);  // n1, in z1: her home zone for now
  ASSERT_TRUE(loop.run_until([&] { return conn->state() == client::connection_state::ready; },
                             clock_type::now() + settle));
  EXPECT_EQ(conn->connected_address(), client_address(0));

  nlohmann::json rules = nlohmann::json::array();
  auto rule = [&rules](uint32_t first, uint32_t last, const char* zone) {
    if (first <= last) {
      rules.push_back({{"first_shard", first}, {"last_shard", last}, {"zone", zone}});
    }
  };
  if (shard > 0) {
    rule(0, shard - 1, "z1");
  }
  rule(shard, shard, "z2");
  rule(shard + 1, 511, "z1");
  rule(512, 1023, "z2");
  auto bad = cluster_.put(1, "/cluster/zone-rules",
                          R"({"rules":[{"first_shard":5,"last_shard":1024,"zone":"z1"}]})");
  EXPECT_EQ(bad.first, 400) << bad.second;
  EXPECT_NE(bad.second.find("rules[0].last_shard"), std::string::npos) << bad.second;
  auto [status, body] =
      cluster_.put(1, "/cluster/zone-rules", nlohmann::json{{"rules", rules}}.dump());
  ASSERT_EQ(status, 202) << body;

  // The session on n1 gets GOAWAY, and its reconnect there is redirected to n3, in z2.
  ASSERT_TRUE(loop.run_until(
      [&] {
        return conn->state() == client::connection_state::ready
               && conn->connected_address() == client_address(2);
      },
      clock_type::now() + settle))
      << conn->last_close().message;
  EXPECT_GE(closes.size(), 1u);
  for (size_t via = 0; via < 3; ++via) {
    EXPECT_EQ(dispatch(via, alice).zone, "z2") << via;
  }
  ASSERT_TRUE(cluster_.wait_for(
      0,
      [&](const member_view& v) {
        auto rows = cluster_.shards(0);
        return v.moving == 0 && rows.size() == 1024 && rows[shard].primary == "n3";
      },
      settle))
      << "shard " << shard << " did not move to z2";
  conn->stop();
}

TEST_F(ClusterDispatchTest, AnSdkThatAsksDispatchConnectsToItsZoneDirectly) {
  auto bob = uid_in(512, 1023);
  client::dispatch_config dc;
  dc.endpoints = {"127.0.0.1:" + std::to_string(cluster_.http_port(0))};
  dc.app_id = test_app;
  dc.owner = bob;
  dc.key = test_dispatch_key;
  auto cache = std::make_shared<client::dispatch_cache>(dc);
  client::event_loop loop;
  auto cc = client_of(bob);
  cc.dispatch = cache;  // no static address at all
  client::connection conn{loop, cc};
  std::vector<client::connection_state> states;
  conn.on_state(
      [&](client::connection_state s, const client::close_info&) { states.push_back(s); });
  conn.start();
  ASSERT_TRUE(loop.run_until([&] { return conn.state() == client::connection_state::ready; },
                             clock_type::now() + settle))
      << conn.last_close().message << " / " << cache->last_error();
  // Connecting is reported once, also when the round first waited for dispatch's answer.
  using state = client::connection_state;
  EXPECT_EQ(states, (std::vector<state>{state::connecting, state::handshaking, state::ready}));
  EXPECT_EQ(conn.connected_address(), client_address(2));
  EXPECT_EQ(conn.counters().reconnects, 0u);
  EXPECT_EQ(cache->counters().answers, 1u);
  conn.stop();
}

TEST_F(ClusterDispatchTest, TheUsersOfALostZoneAreSentToAndServedByTheOther) {
  auto bob = uid_in(512, 1023);
  cluster_.kill(2);  // z2 is gone
  ASSERT_TRUE(cluster_.wait_for(
      0, [](const member_view& v) { return v.states.at("n3") == "unreachable"; }, settle));
  auto b = dispatch(0, bob);
  EXPECT_EQ(b.zone, "z1");
  EXPECT_EQ(b.addresses, (std::vector<std::string>{client_address(0), client_address(1)}));
  client::event_loop loop;
  auto cc = client_of(bob);
  cc.addresses = {client_address(1)};
  client::connection conn{loop, cc};
  conn.start();
  ASSERT_TRUE(loop.run_until([&] { return conn.state() == client::connection_state::ready; },
                             clock_type::now() + settle));
  EXPECT_EQ(conn.connected_address(), client_address(1)) << "no redirect to a lost zone";
  EXPECT_EQ(conn.counters().reconnects, 0u);
  conn.stop();
}

}  // namespace
}  // namespace tidegate::test
