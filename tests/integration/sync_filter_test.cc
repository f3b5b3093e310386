// Filtered and expired SYNC ops end to end (DESIGN §5 `global` bucket, §14 invariant 2): real
// HTTP into an in-process node with LMDB in a temp dir, real sockets for the clients. An op
// that is not for a client reaches it as a skipped op, so its stream stays contiguous.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "storage/temp_dir.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string bearer = std::string{"Bearer "} + test_app + ":" + test_secret;

class SyncFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = test_node_config();
    cfg.storage.data_dir = dir_.path();
    cfg.sync.businesses["news"] = "global";
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", node_->http_port());
    http_->set_connection_timeout(5s);
    http_->set_read_timeout(15s);
  }

  // Publishes `news` to the app's `global` stream; returns the version (0 and a failure if
  // the ingress did not answer a fresh 200).
  uint64_t publish(const std::string& msg_id, const std::string& payload,
                   std::optional<json> filters = std::nullopt, uint64_t ttl_ms = 0) {
    json body{{"business", "news"}, {"owner", test_app}, {"msg_id", msg_id}, {"payload", payload}};
    if (filters) {
      body["filters"] = *filters;
    }
    if (ttl_ms != 0) {
      body["ttl_ms"] = ttl_ms;
    }
    auto res =
        http_->Post("/v1/sync/ops", {{"Authorization", bearer}}, body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) {
      return 0;
    }
    EXPECT_EQ(res->status, 200) << res->body;
    auto j = json::parse(res->body, nullptr, false);
    if (res->status != 200 || j.is_discarded() || !j.contains("version")) {
      return 0;
    }
    EXPECT_FALSE(j.value("duplicated", true)) << res->body;
    return j["version"].get<uint64_t>();
  }

  // A raw client past HELLO (with `os` and `client_version`) and AUTH as `user`.
  std::unique_ptr<raw_client> login(const std::string& device, const std::string& os,
                                    const std::string& client_version,
                                    const std::string& user = "1001") {
    auto c = std::make_unique<raw_client>(node_->client_port());
    v1::Hello hello;
    hello.set_protocol_version(1);
    hello.set_device_id(device);
    hello.set_app_id(test_app);
    hello.set_os(os);
    hello.set_client_version(client_version);
    hello.set_heartbeat_interval_ms(10'000);
    EXPECT_TRUE(c->send(v1::FRAME_TYPE_HELLO, hello));
    auto welcome = c->next();
    EXPECT_TRUE(welcome && welcome->type == v1::FRAME_TYPE_WELCOME);
    if (welcome) {
      EXPECT_TRUE(c->ack(welcome->seq));
    }
    EXPECT_TRUE(c->auth(token_for(test_secret, test_app, user)));
    return c;
  }

  // The next SYNC_DATA page of `bucket` (acked), skipping other frames; nullopt on timeout.
  static std::optional<v1::SyncData> next_page(raw_client& c, const std::string& bucket) {
    while (auto f = c.next(5s)) {
      if (f->type != v1::FRAME_TYPE_SYNC_DATA) {
        continue;
      }
      c.ack(f->seq);
      v1::SyncData data;
      EXPECT_TRUE(data.ParseFromString(f->payload));
      if (data.bucket() == bucket) {
        return data;
      }
    }
    return std::nullopt;
  }

  // Sends SYNC_REQ for `bucket` from `after` and collects its pages until the last one.
  static std::vector<v1::Op> sync(raw_client& c, const std::string& bucket, uint64_t after) {
    v1::SyncRequest req;
    auto* cursor = req.add_cursors();
    cursor->set_bucket(bucket);
    cursor->set_version(after);
    c.send(v1::FRAME_TYPE_SYNC_REQ, req);
    std::vector<v1::Op> ops;
    while (auto page = next_page(c, bucket)) {
      ops.insert(ops.end(), page->ops().begin(), page->ops().end());
      if (!page->more()) {
        break;
      }
    }
    return ops;
  }

  // Reads the online pushes of `bucket` until one carries `version` (ops appended while the
  // client is connected are pushed to it, skipped or not).
  static void await_push(raw_client& c, const std::string& bucket, uint64_t version) {
    while (auto page = next_page(c, bucket)) {
      if (page->ops_size() > 0 && page->ops(page->ops_size() - 1).version() == version) {
        return;
      }
    }
    ADD_FAILURE() << "no push of " << bucket << " version " << version;
  }

  // A skipped op carries its version and nothing else.
  static void expect_skipped(const v1::Op& op, uint64_t version) {
    EXPECT_EQ(op.version(), version);
    EXPECT_TRUE(op.skipped());
    EXPECT_TRUE(op.payload().empty());
    EXPECT_TRUE(op.business().empty());
    EXPECT_TRUE(op.msg_id().empty());
  }

  static void expect_delivered(const v1::Op& op, uint64_t version, const std::string& payload) {
    EXPECT_EQ(op.version(), version);
    EXPECT_FALSE(op.skipped());
    EXPECT_EQ(op.business(), "news");
    EXPECT_EQ(op.payload(), payload);
  }

  static json ios_from_5_9() {
    return json{{"os", {"ios"}}, {"app_version_min", "5.9"}, {"app_version_max", "5.10.2"}};
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(SyncFilterTest, AFilteredOpReachesOnlyMatchingClientsAndOthersSeeItSkipped) {
  ASSERT_EQ(publish("n1", "ios only", ios_from_5_9()), 1u);
  ASSERT_EQ(publish("n2", "everyone"), 2u);

  auto ios = login("iphone-1", "ios", "ios/5.10.1");
  auto ios_ops = sync(*ios, "global", 0);
  ASSERT_EQ(ios_ops.size(), 2u);
  expect_delivered(ios_ops[0], 1, "ios only");
  expect_delivered(ios_ops[1], 2, "everyone");

  auto android = login("pixel-1", "android", "android/5.10.1");
  auto android_ops = sync(*android, "global", 0);
  ASSERT_EQ(android_ops.size(), 2u);
  expect_skipped(android_ops[0], 1);
  expect_delivered(android_ops[1], 2, "everyone");

  auto old_ios = login("iphone-2", "ios", "ios/5.8.9");  // below the version range
  auto old_ops = sync(*old_ios, "global", 0);
  ASSERT_EQ(old_ops.size(), 2u);
  expect_skipped(old_ops[0], 1);
  expect_delivered(old_ops[1], 2, "everyone");
}

TEST_F(SyncFilterTest, ASyncFromTheCursorSkipsAndContinuesWithNoGap) {
  // New ops are pushed to online clients too; each sync below reads from a cursor anyway.
  auto ios = login("iphone-1", "ios", "ios/5.9");
  auto android = login("pixel-1", "android", "android/6.0");
  EXPECT_TRUE(sync(*ios, "global", 0).empty());
  EXPECT_TRUE(sync(*android, "global", 0).empty());

  ASSERT_EQ(publish("n1", "ios only", ios_from_5_9()), 1u);
  ASSERT_EQ(publish("n2", "everyone"), 2u);
  await_push(*ios, "global", 2);
  await_push(*android, "global", 2);
  auto to_ios = sync(*ios, "global", 0);
  ASSERT_EQ(to_ios.size(), 2u);
  expect_delivered(to_ios[0], 1, "ios only");
  auto to_android = sync(*android, "global", 0);
  ASSERT_EQ(to_android.size(), 2u);
  expect_skipped(to_android[0], 1);
  expect_delivered(to_android[1], 2, "everyone");

  ASSERT_EQ(publish("n3", "ios only again", ios_from_5_9()), 3u);
  ASSERT_EQ(publish("n4", "everyone again"), 4u);
  await_push(*ios, "global", 4);
  await_push(*android, "global", 4);
  to_android = sync(*android, "global", 2);
  ASSERT_EQ(to_android.size(), 2u);
  expect_skipped(to_android[0], 3);
  expect_delivered(to_android[1], 4, "everyone again");
  to_ios = sync(*ios, "global", 2);
  ASSERT_EQ(to_ios.size(), 2u);
  expect_delivered(to_ios[0], 3, "ios only again");
  expect_delivered(to_ios[1], 4, "everyone again");
}

TEST_F(SyncFilterTest, ExpiredOpsAndClosedWindowsAreSkippedForEveryone) {
  ASSERT_EQ(publish("n1", "short lived", std::nullopt, /*ttl_ms=*/1), 1u);
  ASSERT_EQ(publish("n2", "window over", json{{"valid_to_ms", 1}}), 2u);
  ASSERT_EQ(publish("n3", "everyone"), 3u);
  std::this_thread::sleep_for(20ms);  // n1's ttl has passed by any clock reading after this

  for (const auto& [device, os, version] :
       {std::tuple{"iphone-1", "ios", "ios/5.10"}, std::tuple{"pixel-1", "android", "6.0"}}) {
    SCOPED_TRACE(device);
    auto c = login(device, os, version);
    auto ops = sync(*c, "global", 0);
    ASSERT_EQ(ops.size(), 3u);
    expect_skipped(ops[0], 1);
    expect_skipped(ops[1], 2);
    expect_delivered(ops[2], 3, "everyone");
  }
}

TEST_F(SyncFilterTest, UidFiltersUseTheAuthenticatedUser) {
  ASSERT_EQ(publish("n1", "listed", json{{"uids", {"alice"}}}), 1u);
  ASSERT_EQ(publish("n2", "range", json{{"uid_min", 1000}, {"uid_max", 1999}}), 2u);

  auto alice = login("phone-a", "ios", "ios/1.0", "alice");
  auto ops = sync(*alice, "global", 0);
  ASSERT_EQ(ops.size(), 2u);
  expect_delivered(ops[0], 1, "listed");
  expect_delivered(ops[1], 2, "range");  // not a decimal uid: the range does not apply

  auto u1500 = login("phone-b", "ios", "ios/1.0", "1500");
  ops = sync(*u1500, "global", 0);
  ASSERT_EQ(ops.size(), 2u);
  expect_skipped(ops[0], 1);
  expect_delivered(ops[1], 2, "range");

  auto u2500 = login("phone-c", "ios", "ios/1.0", "2500");
  ops = sync(*u2500, "global", 0);
  ASSERT_EQ(ops.size(), 2u);
  expect_skipped(ops[0], 1);
  expect_skipped(ops[1], 2);
}

TEST_F(SyncFilterTest, TheSdkMovesItsCursorOverSkippedOpsWithoutTheApp) {
  ASSERT_EQ(publish("n1", "ios only", ios_from_5_9()), 1u);
  ASSERT_EQ(publish("n2", "everyone"), 2u);

  client::sync_store store;
  std::vector<v1::Op> delivered;
  client::event_loop loop;
  client::connection_config cc;
  cc.addresses.push_back("127.0.0.1:" + std::to_string(node_->client_port()));
  cc.device_id = "pixel-1";
  cc.app_id = test_app;
  cc.os = "android";
  cc.client_version = "android/5.10.1";
  cc.token = token_for(test_secret, test_app, "1001");
  cc.heartbeat = client::heartbeat_config::fixed(1s);
  cc.race_stagger = 50ms;
  cc.reconnect = false;
  cc.sync.enabled = true;
  cc.sync.store = &store;
  cc.sync.ack_delay = 20ms;
  cc.sync.on_ops = [&](const std::string& bucket, const std::vector<v1::Op>& ops) {
    if (bucket == "global") {
      delivered.insert(delivered.end(), ops.begin(), ops.end());
    }
  };
  client::connection c{loop, cc};
  c.start();
  auto until = [&](const std::function<bool()>& done) {
    return loop.run_until(done, std::chrono::steady_clock::now() + 10s);
  };
  ASSERT_TRUE(until([&] { return c.sync()->cursor("global") == 2; }));
  ASSERT_EQ(delivered.size(), 1u);
  expect_delivered(delivered[0], 2, "everyone");

  // A page of only a skipped op (pushed online, and read again by the explicit sync).
  ASSERT_EQ(publish("n3", "ios only again", ios_from_5_9()), 3u);
  ASSERT_TRUE(c.request_sync());
  ASSERT_TRUE(until([&] { return c.sync()->cursor("global") == 3; }));
  EXPECT_EQ(delivered.size(), 1u);
  ASSERT_EQ(publish("n4", "everyone again"), 4u);
  ASSERT_TRUE(c.request_sync());
  ASSERT_TRUE(until([&] { return c.sync()->cursor("global") == 4; }));
  ASSERT_EQ(delivered.size(), 2u);
  expect_delivered(delivered[1], 4, "everyone again");
  EXPECT_EQ(c.sync()->counters().skipped, 2u);
  EXPECT_EQ(c.sync()->counters().resets, 0u);
  EXPECT_EQ(c.sync()->counters().resyncs, 0u);
  c.stop();
}

}  // namespace
}  // namespace tidegate::test
