// Location transparency with real node processes (DESIGN §10): the ingress of any member and
// the sessions on any member reach the sync bucket of the member that is the owner's primary,
// through the same API as on one node; online deliveries reach the owner's sessions wherever
// they are connected.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "tests/support/process_cluster.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

constexpr auto settle = 20s;

class ClusterRoutingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.start_all(serving, settle));
    auto shards = cluster_.shards(0);
    ASSERT_EQ(shards.size(), 1024u);
    for (const auto* primary : {"n1", "n2", "n3"}) {
      owner_on_[primary] = owner_with_primary(shards, primary);
    }
  }

  // Publishes one op through member i; returns its version (0 and a failure otherwise).
  uint64_t publish(size_t i, const std::string& owner, const std::string& msg_id) {
    auto [status, body] = cluster_.post(
        i, "/v1/sync/ops",
        json{{"business", "chat"}, {"owner", owner}, {"payload", msg_id}, {"msg_id", msg_id}}
            .dump());
    EXPECT_EQ(status, 200) << body;
    auto j = json::parse(body, nullptr, false);
    return j.is_object() ? j.value("version", uint64_t{0}) : 0;
  }

  process_cluster cluster_{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  std::map<std::string, std::string> owner_on_;  // primary -> an owner of one of its shards
};

TEST_F(ClusterRoutingTest, EveryMemberPublishesToAndReadsFromEveryPrimary) {
  for (const auto& [primary, owner] : owner_on_) {
    for (size_t i = 0; i < 3; ++i) {  // through each member in turn: one log, one sequence
      EXPECT_EQ(publish(i, owner, owner + "-m" + std::to_string(i)), i + 1) << primary;
    }
    EXPECT_EQ(publish(2, owner, owner + "-m0"), 1u);  // idempotent wherever it arrives
  }
  json batch{{"ops", json::array()}};
  for (const auto& [primary, owner] : owner_on_) {
    batch["ops"].push_back(
        {{"business", "chat"}, {"owner", owner}, {"payload", "b"}, {"msg_id", owner + "-b"}});
  }
  auto [status, body] = cluster_.post(1, "/v1/sync/ops:batch", batch.dump());
  ASSERT_EQ(status, 200) << body;
  auto results = json::parse(body)["results"];
  ASSERT_EQ(results.size(), owner_on_.size()) << body;
  for (const auto& result : results) {
    EXPECT_EQ(result.value("version", uint64_t{0}), 4u) << body;
  }
  for (const auto& [primary, owner] : owner_on_) {
    for (size_t i = 0; i < 3; ++i) {
      auto [head_status, head] = cluster_.get(i, "/v1/sync/head?business=chat&owner=" + owner);
      ASSERT_EQ(head_status, 200) << head;
      EXPECT_EQ(json::parse(head).value("version", uint64_t{0}), 4u) << primary << " via " << i;
    }
  }
}

TEST_F(ClusterRoutingTest, AClientOnAnotherMemberSyncsAndGetsLivePushesExactlyOnce) {
  const auto& owner = owner_on_["n1"];
  for (int v = 1; v <= 3; ++v) {
    ASSERT_EQ(publish(1, owner, "before-" + std::to_string(v)), static_cast<uint64_t>(v));
  }
  client::sync_store store;
  std::vector<uint64_t> versions;
  client::event_loop loop;
  client::connection_config cc;
  cc.addresses.push_back("127.0.0.1:" + std::to_string(cluster_.client_port(2)));  // n3
  cc.device_id = "phone-1";
  cc.app_id = test_app;
  cc.token = token_for(test_secret, test_app, owner);
  cc.heartbeat = client::heartbeat_config::fixed(1s);
  cc.reconnect = false;
  cc.sync.enabled = true;
  cc.sync.store = &store;
  cc.sync.ack_delay = 20ms;
  cc.sync.on_ops = [&versions](const std::string& bucket, const std::vector<v1::Op>& ops) {
    for (const auto& op : ops) {
      if (bucket == "user") {
        versions.push_back(op.version());
      }
    }
  };
  client::connection c{loop, cc};
  c.start();
  auto until = [&](size_t n) {
    return loop.run_until([&] { return versions.size() >= n; },
                          std::chrono::steady_clock::now() + 10s);
  };
  ASSERT_TRUE(until(3)) << versions.size();  // the sync, answered by n1's bucket
  for (int v = 4; v <= 6; ++v) {             // published through n2, pushed to n3's session
    ASSERT_EQ(publish(1, owner, "live-" + std::to_string(v)), static_cast<uint64_t>(v));
  }
  ASSERT_TRUE(until(6)) << versions.size();
  ASSERT_TRUE(loop.run_until([&] { return c.sync()->cursor("user") == 6; },
                             std::chrono::steady_clock::now() + 10s));
  EXPECT_EQ(versions, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6}));
  // The acks go to the primary too: its cursor for the device reaches 6 once the ack travelled
  // n3 -> n1 and committed. The client keeps running meanwhile (its acks are batched).
  auto acked = [&] {
    auto [status, body] = cluster_.get(0, "/v1/sync/cursors?business=chat&owner=" + owner);
    auto j = json::parse(body, nullptr, false);
    if (status != 200 || !j.is_object() || j["devices"].empty()) {
      return uint64_t{0};
    }
    return j["devices"][0].value("acked", uint64_t{0});
  };
  auto next_poll = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_until(
      [&] {
        if (std::chrono::steady_clock::now() < next_poll) {
          return false;
        }
        next_poll = std::chrono::steady_clock::now() + 50ms;
        return acked() == 6;
      },
      std::chrono::steady_clock::now() + 10s))
      << acked();
  c.stop();
}

}  // namespace
}  // namespace tidegate::test
