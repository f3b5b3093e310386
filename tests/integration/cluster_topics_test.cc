// Topics in a cluster of real node processes (DESIGN §6, §10, §14.1-2): a topic lives on the
// primary of its shard and is reached through any member; its followers' follows live under
// their own shards, possibly on other members; followers connected anywhere get each message
// once, in order; and the loss of the topic's primary or of a follower's primary loses no
// acknowledged message and no follow.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/sync/bucket_config.h"
#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "tests/support/process_cluster.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tests/support/test_phone.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

constexpr auto settle = 20s;

// One follower's phone: an SDK connection with its own store, recording every topic op it
// gets as (version, payload), in delivery order.
struct follower {
  std::string user;
  client::sync_store store;
  std::vector<std::pair<uint64_t, std::string>> got;
  std::unique_ptr<client::connection> connection;

  void connect(client::event_loop& loop, uint16_t port, const std::string& topic) {
    auto cc = test_phone(user, &store);
    cc.addresses.push_back("127.0.0.1:" + std::to_string(port));
    cc.sync.on_ops = [this, stream = "topic:" + topic](const std::string& s,
                                                       const std::vector<v1::Op>& ops) {
      if (s != stream) {
        return;
      }
      for (const auto& op : ops) {
        got.emplace_back(op.version(), op.payload());
      }
    };
    connection = std::make_unique<client::connection>(loop, cc);
    connection->start();
  }
};

// Runs `loop` until every follower's connection is ready; false after 10 s.
bool all_ready(client::event_loop& loop, const std::vector<follower*>& followers) {
  return loop.run_until(
      [&] {
        for (const auto* f : followers) {
          if (f->connection->state() != client::connection_state::ready) {
            return false;
          }
        }
        return true;
      },
      clock_type::now() + 10s);
}

// POSTs until the member answers 200 (a failover answers 503 meanwhile); the JSON answer, or
// null after `settle`.
json post_until_ok(const process_cluster& cluster, const std::vector<size_t>& via,
                   const std::string& path, const json& body) {
  auto deadline = clock_type::now() + settle;
  for (size_t attempt = 0; clock_type::now() < deadline; ++attempt) {
    auto [status, text] = cluster.post(via[attempt % via.size()], path, body.dump());
    if (status == 200) {
      return json::parse(text);
    }
    std::this_thread::sleep_for(20ms);
  }
  ADD_FAILURE() << path << " " << body.dump() << " never answered 200";
  return nullptr;
}

// Each of 1..count once, in order, with the payload acknowledged under it.
void expect_once_in_order(const follower& f, const std::map<uint64_t, std::string>& acked,
                          uint64_t count) {
  std::vector<uint64_t> versions;
  for (const auto& [version, payload] : f.got) {
    versions.push_back(version);
    auto it = acked.find(version);
    ASSERT_NE(it, acked.end()) << f.user << " got version " << version << " never acknowledged";
    EXPECT_EQ(payload, it->second) << f.user << " version " << version;
  }
  std::vector<uint64_t> expected;
  for (uint64_t v = 1; v <= count; ++v) {
    expected.push_back(v);
  }
  EXPECT_EQ(versions, expected) << f.user << ": each version once, in order, none missing";
}

TEST(ClusterTopicsTest, FollowersOnEveryMemberGetATopicPublishedThroughAnotherMember) {
  process_cluster cluster{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  ASSERT_TRUE(cluster.start_all(serving, settle));
  auto shards = cluster.shards(0);
  ASSERT_EQ(shards.size(), 1024u);
  // The topic lives on n1; its followers' follows on n2 and n3; they connect to the member
  // that does not hold their follows.
  auto topic = owner_with_primary(shards, "n1");
  follower a;
  a.user = owner_with_primary(shards, "n2");
  follower b;
  b.user = owner_with_primary(shards, "n3");
  auto followed = post_until_ok(cluster, {2}, "/v1/topics/follow",
                                {{"topic", topic}, {"users", {a.user, b.user}}});
  ASSERT_FALSE(followed.is_null());
  EXPECT_EQ(followed["results"][0]["following"], true);
  EXPECT_EQ(followed["results"][1]["changed"], true);

  client::event_loop loop;
  a.connect(loop, cluster.client_port(2), topic);
  b.connect(loop, cluster.client_port(1), topic);
  ASSERT_TRUE(all_ready(loop, {&a, &b}));

  std::map<uint64_t, std::string> acked;
  constexpr uint64_t count = 20;
  for (uint64_t k = 1; k <= count; ++k) {
    auto payload = "m" + std::to_string(k);
    auto r = post_until_ok(cluster, {1, 2}, "/v1/topics/messages",
                           {{"topic", topic}, {"msg_id", payload}, {"payload", payload}});
    ASSERT_FALSE(r.is_null());
    acked[r["version"].get<uint64_t>()] = payload;
    loop.run_until([] { return false; }, clock_type::now() + 10ms);
  }
  ASSERT_EQ(acked.size(), count);
  loop.run_until([&] { return a.got.size() >= count && b.got.size() >= count; },
                 clock_type::now() + 10s);
  a.connection->stop();
  b.connection->stop();
  expect_once_in_order(a, acked, count);
  expect_once_in_order(b, acked, count);

  auto [status, text] = cluster.get(1, "/v1/topics/info?topic=" + topic);
  ASSERT_EQ(status, 200) << text;
  auto info = json::parse(text);
  EXPECT_EQ(info["head"], count);
  EXPECT_EQ(info["followers"], 2);
}

// The topic's primary is SIGKILLed while a backend publishes through the other members; its
// in-sync replica takes over, the relays of the members left register with it, and every
// follower gets every acknowledged message once, in order.
TEST(ClusterTopicsTest, KillingATopicsPrimaryLosesNoAcknowledgedMessage) {
  process_cluster cluster{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  ASSERT_TRUE(cluster.start_all(serving, settle));
  auto shards = cluster.shards(1);
  ASSERT_EQ(shards.size(), 1024u);
  auto topic = owner_with_primary(shards, "n1");
  follower a;
  a.user = owner_with_primary(shards, "n2");
  follower b;
  b.user = owner_with_primary(shards, "n3");
  ASSERT_FALSE(post_until_ok(cluster, {1}, "/v1/topics/follow",
                             {{"topic", topic}, {"users", {a.user, b.user}}})
                   .is_null());
  client::event_loop loop;
  a.connect(loop, cluster.client_port(1), topic);
  b.connect(loop, cluster.client_port(2), topic);
  ASSERT_TRUE(all_ready(loop, {&a, &b}));

  std::mutex mutex;
  std::map<uint64_t, std::string> acked;
  constexpr uint64_t count = 60;
  std::atomic<bool> published_all{false};
  std::thread backend([&] {
    for (uint64_t k = 1; k <= count; ++k) {
      auto payload = "m" + std::to_string(k);
      auto r = post_until_ok(cluster, {1, 2}, "/v1/topics/messages",
                             {{"topic", topic}, {"msg_id", payload}, {"payload", payload}});
      if (r.is_null()) {
        return;
      }
      {
        std::lock_guard<std::mutex> guard{mutex};
        auto [it, fresh] = acked.emplace(r["version"].get<uint64_t>(), payload);
        EXPECT_TRUE(fresh) << "version " << it->first << " acknowledged twice";
      }
      if (k == count / 3) {
        cluster.kill(0);
      }
      std::this_thread::sleep_for(5ms);
    }
    published_all = true;
  });
  loop.run_until([&] { return published_all && a.got.size() >= count && b.got.size() >= count; },
                 clock_type::now() + 60s);
  backend.join();
  loop.run_until([&] { return a.got.size() >= count && b.got.size() >= count; },
                 clock_type::now() + 10s);
  a.connection->stop();
  b.connection->stop();
  ASSERT_EQ(acked.size(), count);
  expect_once_in_order(a, acked, count);
  expect_once_in_order(b, acked, count);
}

// A user's follows live under the user's shard and are replicated with it: after the user's
// primary is killed, the user logs in on another member and still follows the topic.
TEST(ClusterTopicsTest, AFollowSurvivesTheLossOfTheUsersPrimary) {
  process_cluster cluster{{"z1", "z1", "z2"}, TIDEGATE_BINARY};
  ASSERT_TRUE(cluster.start_all(serving, settle));
  auto shards = cluster.shards(1);
  ASSERT_EQ(shards.size(), 1024u);
  auto topic = owner_with_primary(shards, "n2");
  follower u;
  u.user = owner_with_primary(shards, "n1");
  auto followed =
      post_until_ok(cluster, {2}, "/v1/topics/follow", {{"topic", topic}, {"users", {u.user}}});
  ASSERT_FALSE(followed.is_null());
  ASSERT_EQ(followed["results"][0]["changed"], true);
  cluster.kill(0);
  const auto user_shard = actors::shard_of(u.user, 1024);
  ASSERT_TRUE(cluster.wait_for(
      2,
      [&](const member_view&) {
        auto rows = cluster.shards(2);
        return rows.size() == 1024 && rows[user_shard].primary != "n1"
               && !rows[user_shard].primary.empty();
      },
      settle));

  client::event_loop loop;
  u.connect(loop, cluster.client_port(2), topic);
  ASSERT_TRUE(all_ready(loop, {&u}));
  std::map<uint64_t, std::string> acked;
  for (uint64_t k = 1; k <= 3; ++k) {
    auto payload = "m" + std::to_string(k);
    auto r = post_until_ok(cluster, {2}, "/v1/topics/messages",
                           {{"topic", topic}, {"msg_id", payload}, {"payload", payload}});
    ASSERT_FALSE(r.is_null());
    acked[r["version"].get<uint64_t>()] = payload;
  }
  loop.run_until([&] { return u.got.size() >= 3; }, clock_type::now() + 10s);
  u.connection->stop();
  expect_once_in_order(u, acked, 3);
}

}  // namespace
}  // namespace tidegate::test
