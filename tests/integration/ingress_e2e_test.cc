// The backend ingress end to end: real HTTP into an in-process node with LMDB in a temp dir,
// and the client SDK (real sockets) receiving what was published (DESIGN §5, §14 inv. 2, 4).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "storage/temp_dir.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/sync.pb.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string bearer = std::string{"Bearer "} + test_app + ":" + test_secret;

// Every version the SDK delivered to the app, per bucket, with the payloads.
struct delivered_log {
  std::map<std::string, std::vector<v1::Op>> ops;

  std::vector<uint64_t> versions(const std::string& bucket) const {
    std::vector<uint64_t> out;
    if (auto it = ops.find(bucket); it != ops.end()) {
      for (const auto& op : it->second) {
        out.push_back(op.version());
      }
    }
    return out;
  }
  size_t count(const std::string& bucket) const {
    auto it = ops.find(bucket);
    return it == ops.end() ? 0 : it->second.size();
  }
};

class IngressE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = test_node_config();
    cfg.storage.data_dir = dir_.path();
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", node_->http_port());
    http_->set_connection_timeout(5s);
    http_->set_tcp_nodelay(true);
    http_->set_read_timeout(15s);
  }

  httplib::Result post(const std::string& path, const std::string& body, bool with_auth = true) {
    httplib::Headers headers;
    if (with_auth) {
      headers.emplace("Authorization", bearer);
    }
    return http_->Post(path, headers, body, "application/json");
  }

  httplib::Result publish(const std::string& business, const std::string& owner,
                          const std::string& msg_id, const std::string& payload) {
    json body{{"business", business}, {"owner", owner}, {"msg_id", msg_id}, {"payload", payload}};
    return post("/v1/sync/ops", body.dump());
  }

  // Publishes and expects a fresh 200; returns its version (0 on failure, with a test failure).
  uint64_t publish_ok(const std::string& owner, const std::string& msg_id,
                      const std::string& payload) {
    auto res = publish("chat", owner, msg_id, payload);
    EXPECT_TRUE(res);
    if (!res) {
      return 0;
    }
    EXPECT_EQ(res->status, 200) << res->body;
    auto j = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << res->body;
    if (j.is_discarded() || !j.contains("version")) {
      return 0;
    }
    EXPECT_EQ(j.value("duplicated", true), false) << res->body;
    return j["version"].get<uint64_t>();
  }

  // The owner's head through GET /v1/sync/head; nullopt (and a failure) on anything but 200.
  std::optional<uint64_t> head(const std::string& business, const std::string& owner) {
    httplib::Headers headers{{"Authorization", bearer}};
    auto res = http_->Get("/v1/sync/head?business=" + business + "&owner=" + owner, headers);
    EXPECT_TRUE(res);
    if (!res) {
      return std::nullopt;
    }
    EXPECT_EQ(res->status, 200) << res->body;
    auto j = json::parse(res->body, nullptr, false);
    if (res->status != 200 || j.is_discarded() || !j.contains("version")) {
      return std::nullopt;
    }
    return j["version"].get<uint64_t>();
  }

  static std::string error_code(const httplib::Result& res) {
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return "<not json: " + res->body + ">";
    }
    return j.value("code", "<no code>");
  }

  client::connection_config sdk_config(const std::string& user, const std::string& device,
                                       client::sync_store* store, delivered_log& log) {
    client::connection_config cc;
    cc.addresses.push_back("127.0.0.1:" + std::to_string(node_->client_port()));
    cc.device_id = device;
    cc.app_id = test_app;
    cc.token = token_for(test_secret, test_app, user);
    cc.heartbeat = client::heartbeat_config::fixed(1s);
    cc.race_stagger = 50ms;
    cc.reconnect = false;
    cc.sync.enabled = true;
    cc.sync.store = store;
    cc.sync.ack_delay = 20ms;
    cc.sync.on_ops = [&log](const std::string& bucket, const std::vector<v1::Op>& ops) {
      auto& list = log.ops[bucket];
      list.insert(list.end(), ops.begin(), ops.end());
    };
    return cc;
  }

  static bool run_until(client::event_loop& loop, const std::function<bool()>& done,
                        std::chrono::milliseconds limit = 10s) {
    return loop.run_until(done, std::chrono::steady_clock::now() + limit);
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
  std::unique_ptr<httplib::Client> http_;
};

// Versions 1..n, what an in-order exactly-once delivery of n ops looks like.
std::vector<uint64_t> one_to(uint64_t n) {
  std::vector<uint64_t> out;
  for (uint64_t v = 1; v <= n; ++v) {
    out.push_back(v);
  }
  return out;
}

TEST_F(IngressE2eTest, PublishIsIdempotentAndBadRequestsStoreNothing) {
  auto first = publish("chat", "u1", "m1", "hello");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  EXPECT_EQ(json::parse(first->body), (json{{"version", 1}, {"duplicated", false}}));

  auto again = publish("chat", "u1", "m1", "hello");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(json::parse(again->body), (json{{"version", 1}, {"duplicated", true}}));
  EXPECT_EQ(head("chat", "u1"), std::optional<uint64_t>{1});

  auto unknown = publish("no-such-business", "u1", "m2", "x");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;
  EXPECT_EQ(error_code(unknown), "unknown_business");
  EXPECT_EQ(head("chat", "u1"), std::optional<uint64_t>{1});

  auto not_json = post("/v1/sync/ops", "{\"business\":\"chat\",");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400) << not_json->body;
  EXPECT_EQ(error_code(not_json), "bad_json");

  json typo{{"business", "chat"},
            {"owner", "u1"},
            {"msg_id", "m3"},
            {"payload", "x"},
            {"filter", json::object()}};
  auto unknown_field = post("/v1/sync/ops", typo.dump());
  ASSERT_TRUE(unknown_field);
  EXPECT_EQ(unknown_field->status, 400) << unknown_field->body;
  EXPECT_EQ(error_code(unknown_field), "unknown_field");

  json good{{"business", "chat"}, {"owner", "u1"}, {"msg_id", "m4"}, {"payload", "x"}};
  auto no_auth = post("/v1/sync/ops", good.dump(), /*with_auth=*/false);
  ASSERT_TRUE(no_auth);
  EXPECT_EQ(no_auth->status, 401) << no_auth->body;
  EXPECT_EQ(error_code(no_auth), "unauthorized");

  EXPECT_EQ(head("chat", "u1"), std::optional<uint64_t>{1});  // none of the refusals stored
  // m3 and m4 were never stored: publishing them now is fresh and takes the next version.
  EXPECT_EQ(publish_ok("u1", "m3", "x"), 2u);
  EXPECT_EQ(publish_ok("u1", "m4", "x"), 3u);
}

TEST_F(IngressE2eTest, ABatchAnswersEachOpInOrderAcrossOwnersAndBuckets) {
  ASSERT_EQ(publish_ok("u1", "m0", "before"), 1u);
  auto op = [](const std::string& business, const std::string& owner, const std::string& msg_id) {
    return json{{"business", business}, {"owner", owner}, {"msg_id", msg_id}, {"payload", "p"}};
  };
  json ops = json::array();
  for (int i = 0; i < 40; ++i) {  // 20 owners, two ops each, interleaved
    ops.push_back(op("chat", "b" + std::to_string(i % 20), "m" + std::to_string(i)));
  }
  ops.push_back(op("chat", "u1", "m0"));      // 40: stored before the batch
  ops.push_back(op("chat", "b3", "m3"));      // 41: a repeat inside the batch
  ops.push_back(op("no-such", "u1", "x"));    // 42: unknown business, alone refused
  ops.push_back(op("push", "u1", "push-1"));  // 43: another bucket (once)
  auto res = post("/v1/sync/ops:batch", json{{"ops", ops}}.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto results = json::parse(res->body)["results"];
  ASSERT_EQ(results.size(), ops.size());
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(results[i], (json{{"version", i / 20 + 1}, {"duplicated", false}})) << i;
  }
  EXPECT_EQ(results[40], (json{{"version", 1}, {"duplicated", true}}));
  EXPECT_EQ(results[41], (json{{"version", 1}, {"duplicated", true}}));
  EXPECT_EQ(results[42]["error"]["code"], "unknown_business");
  EXPECT_EQ(results[43], (json{{"version", 1}, {"duplicated", false}}));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(head("chat", "b" + std::to_string(i)), std::optional<uint64_t>{2}) << i;
  }
  EXPECT_EQ(head("chat", "u1"), std::optional<uint64_t>{1});
}

TEST_F(IngressE2eTest, SdkReceivesEveryVersionOnceInOrderAcrossReconnects) {
  const std::string user = "alice";
  for (int i = 1; i <= 3; ++i) {
    ASSERT_EQ(publish_ok(user, "m" + std::to_string(i), "p" + std::to_string(i)),
              static_cast<uint64_t>(i));
  }
  client::sync_store store;  // in memory, shared by both connection objects
  delivered_log log;
  client::event_loop loop;
  {
    client::connection c{loop, sdk_config(user, "phone-1", &store, log)};
    c.start();
    ASSERT_TRUE(run_until(loop, [&] { return log.count("user") >= 3; })) << log.count("user");
    EXPECT_EQ(log.versions("user"), one_to(3));
    EXPECT_EQ(log.ops["user"][2].payload(), "p3");

    // Published while online: pushed to the session, in order.
    for (int i = 4; i <= 6; ++i) {
      ASSERT_EQ(publish_ok(user, "m" + std::to_string(i), "p" + std::to_string(i)),
                static_cast<uint64_t>(i));
    }
    ASSERT_TRUE(run_until(loop, [&] { return log.count("user") >= 6; })) << log.count("user");
    EXPECT_EQ(log.versions("user"), one_to(6));
    ASSERT_TRUE(run_until(loop, [&] { return c.sync()->cursor("user") == 6; }));

    // Same connection object: stop, publish while offline, start again.
    c.stop();
    ASSERT_EQ(publish_ok(user, "m7", "p7"), 7u);
    c.start();
    ASSERT_TRUE(run_until(loop, [&] { return log.count("user") >= 7; })) << log.count("user");
    // Let the session settle (its initial sync answered for every bucket) before checking that
    // nothing came twice.
    ASSERT_TRUE(run_until(loop, [&] { return c.sync()->cursor("user") == 7; }));
    EXPECT_EQ(log.versions("user"), one_to(7));
    EXPECT_EQ(log.ops["user"][6].payload(), "p7");
    c.stop();
  }
  ASSERT_EQ(store.cursors().count("user"), 1u);
  EXPECT_EQ(store.cursors().at("user"), 7u);  // saved when the session ended

  // A second connection object from the same store: only what is new.
  ASSERT_EQ(publish_ok(user, "m8", "p8"), 8u);
  client::connection c2{loop, sdk_config(user, "phone-1", &store, log)};
  c2.start();
  ASSERT_TRUE(run_until(loop, [&] { return log.count("user") >= 8; })) << log.count("user");
  ASSERT_EQ(publish_ok(user, "m9", "p9"), 9u);
  ASSERT_TRUE(run_until(loop, [&] { return log.count("user") >= 9; })) << log.count("user");
  // An explicit re-sync from the saved key returns nothing new: still exactly once.
  int user_pages_done = 0;  // last pages of `user` the session received
  c2.on_frame([&](const protocol::frame& f) {
    v1::SyncData data;
    if (f.type == v1::FRAME_TYPE_SYNC_DATA && data.ParseFromString(f.payload)
        && data.bucket() == "user" && !data.more()) {
      ++user_pages_done;
    }
  });
  ASSERT_TRUE(c2.request_sync());
  ASSERT_TRUE(run_until(loop, [&] { return user_pages_done >= 1; }));
  EXPECT_EQ(log.versions("user"), one_to(9));
  EXPECT_EQ(log.ops["user"][8].payload(), "p9");
  EXPECT_EQ(c2.sync()->counters().resets, 0u);
  c2.stop();
}

TEST_F(IngressE2eTest, PushReachesTheOnceStreamAndIsGoneAfterTheAck) {
  const std::string user = "bob";
  client::sync_store store;
  delivered_log log;
  client::event_loop loop;
  client::connection c{loop, sdk_config(user, "phone-1", &store, log)};
  c.start();
  ASSERT_TRUE(run_until(loop, [&] { return c.state() == client::connection_state::ready; }));

  json push{{"target", {{"user", user}}},  {"title", "Payment received"}, {"body", "12.00 EUR"},
            {"action", "wallet://tx/991"}, {"ttl_ms", 3'600'000},         {"msg_id", "push-991"}};
  auto res = post("/v1/push", push.dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body), (json{{"version", 1}, {"duplicated", false}}));

  ASSERT_TRUE(run_until(loop, [&] { return log.count("once") >= 1; }));
  ASSERT_EQ(log.count("once"), 1u);
  const auto& op = log.ops["once"][0];
  EXPECT_EQ(op.version(), 1u);
  EXPECT_EQ(op.business(), "push");
  EXPECT_EQ(op.push().title(), "Payment received");
  EXPECT_EQ(op.push().body(), "12.00 EUR");
  EXPECT_EQ(op.push().action(), "wallet://tx/991");
  // The SDK acks the once stream; wait until that SYNC_ACK went out.
  ASSERT_TRUE(
      run_until(loop, [&] { return c.sync()->counters().acks >= 1 && !c.sync()->ack_pending(); }));
  c.stop();

  // A fresh sync of `once` from cursor 0 (raw client, its own session) finds nothing once the
  // server processed the ack; the delete is asynchronous, so poll with a bound.
  auto once_from_zero = [&]() -> std::optional<size_t> {
    raw_client rc{node_->client_port()};
    if (!rc.hello("phone-2", test_app, 10'000)
        || !rc.auth(token_for(test_secret, test_app, user))) {
      return std::nullopt;
    }
    v1::SyncRequest req;
    auto* cursor = req.add_cursors();
    cursor->set_bucket("once");
    cursor->set_version(0);
    rc.send(v1::FRAME_TYPE_SYNC_REQ, req);
    size_t ops = 0;
    while (auto f = rc.next(5s)) {
      if (f->type != v1::FRAME_TYPE_SYNC_DATA) {
        continue;
      }
      rc.ack(f->seq);
      v1::SyncData data;
      if (!data.ParseFromString(f->payload) || data.bucket() != "once") {
        continue;
      }
      ops += static_cast<size_t>(data.ops_size());
      if (!data.more()) {
        return ops;
      }
    }
    return std::nullopt;
  };
  std::optional<size_t> left;
  for (int i = 0; i < 100; ++i) {
    left = once_from_zero();
    if (left && *left == 0) {
      break;
    }
    std::this_thread::sleep_for(20ms);  // bounded polling of an asynchronous delete
  }
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, 0u);

  // The repeat of the same msg_id after the delete: still the original version, not a new op.
  auto repeat = post("/v1/push", push.dump());
  ASSERT_TRUE(repeat);
  EXPECT_EQ(repeat->status, 200) << repeat->body;
  auto next = json{{"target", {{"user", user}}},
                   {"title", "t"},
                   {"body", ""},
                   {"ttl_ms", 0},
                   {"msg_id", "push-992"}};
  auto res2 = post("/v1/push", next.dump());
  ASSERT_TRUE(res2);
  ASSERT_EQ(res2->status, 200) << res2->body;
  EXPECT_EQ(json::parse(res2->body).value("version", 0u), 2u);  // versions never reused
}

}  // namespace
}  // namespace tidegate::test
