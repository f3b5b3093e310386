// Per-device delivery state with a real node, real sockets and real HTTP (DESIGN §5, §7):
// multi_device cursors per device, the retry budget and dead letters, and push receipts,
// read back through the ingress.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

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

class DeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = test_node_config();
    cfg.storage.data_dir = dir_.path();
    cfg.sync.businesses["feed"] = "multi_device";
    for (auto& b : cfg.sync.buckets) {
      if (b.name == "user") {
        b.retry_budget = 2;
      }
    }
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", node_->http_port());
    http_->set_read_timeout(15s);
  }

  json post(const std::string& path, const json& body) {
    auto res = http_->Post(path, {{"Authorization", bearer}}, body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) {
      return json{};
    }
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body, nullptr, false);
  }

  // GET with auth; the status and the parsed body.
  std::pair<int, json> get(const std::string& path) {
    auto res = http_->Get(path, {{"Authorization", bearer}});
    EXPECT_TRUE(res);
    if (!res) {
      return {0, json{}};
    }
    return {res->status, json::parse(res->body, nullptr, false)};
  }

  void publish(const std::string& business, const std::string& owner, const std::string& msg_id) {
    auto r = post("/v1/sync/ops",
                  {{"business", business}, {"owner", owner}, {"msg_id", msg_id}, {"payload", "p"}});
    EXPECT_EQ(r.value("duplicated", true), false) << r;
  }

  std::unique_ptr<raw_client> login(const std::string& device, const std::string& user) {
    auto c = std::make_unique<raw_client>(node_->client_port());
    EXPECT_TRUE(c->hello(device, test_app, 10'000));
    EXPECT_TRUE(c->auth(token_for(test_secret, test_app, user)));
    return c;
  }

  // SYNC_REQ with one cursor; the ops of `bucket` until its last page (frames are acked at the
  // transport level, never with SYNC_ACK).
  static std::vector<v1::Op> sync(raw_client& c, const std::string& bucket, uint64_t after) {
    v1::SyncRequest req;
    auto* cursor = req.add_cursors();
    cursor->set_bucket(bucket);
    cursor->set_version(after);
    EXPECT_TRUE(c.send(v1::FRAME_TYPE_SYNC_REQ, req));
    return read_until_done(c, bucket);
  }

  static std::vector<v1::Op> read_until_done(raw_client& c, const std::string& bucket) {
    std::vector<v1::Op> ops;
    while (auto f = c.next(5s)) {
      if (f->type != v1::FRAME_TYPE_SYNC_DATA) {
        continue;
      }
      c.ack(f->seq);
      v1::SyncData data;
      EXPECT_TRUE(data.ParseFromString(f->payload));
      if (data.bucket() != bucket) {
        continue;
      }
      ops.insert(ops.end(), data.ops().begin(), data.ops().end());
      if (!data.more()) {
        break;
      }
    }
    return ops;
  }

  static void sync_ack(raw_client& c, const std::string& bucket, uint64_t version) {
    v1::SyncAck ack;
    auto* cursor = ack.add_cursors();
    cursor->set_bucket(bucket);
    cursor->set_version(version);
    EXPECT_TRUE(c.send(v1::FRAME_TYPE_SYNC_ACK, ack));
  }

  // Polls `path` until `done(body)` (acks are applied asynchronously); the last body.
  json wait_for(const std::string& path, const std::function<bool(const json&)>& done) {
    json body;
    for (int i = 0; i < 250; ++i) {  // bounded: 5 s
      auto [status, got] = get(path);
      body = got;
      if (status == 200 && done(body)) {
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    return body;
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
  std::unique_ptr<httplib::Client> http_;
};

uint64_t acked_of(const json& body, const std::string& device) {
  for (const auto& d : body.value("devices", json::array())) {
    if (d.value("device", "") == device) {
      return d.value("acked", uint64_t{0});
    }
  }
  return 0;
}

TEST_F(DeliveryTest, MultiDeviceKeepsACursorPerDevice) {
  for (int i = 1; i <= 3; ++i) {
    publish("feed", "alice", "f" + std::to_string(i));
  }
  auto phone = login("phone-1", "alice");
  auto tablet = login("tablet-1", "alice");
  EXPECT_EQ(sync(*phone, "multi_device", 0).size(), 3u);
  EXPECT_EQ(sync(*tablet, "multi_device", 0).size(), 3u);  // every device gets every op
  sync_ack(*phone, "multi_device", 3);
  sync_ack(*tablet, "multi_device", 1);
  auto body = wait_for("/v1/sync/cursors?business=feed&owner=alice", [](const json& b) {
    return acked_of(b, "phone-1") == 3 && acked_of(b, "tablet-1") == 1;
  });
  EXPECT_EQ(body["bucket"], "multi_device");
  EXPECT_EQ(body["head"], 3);
  EXPECT_EQ(acked_of(body, "phone-1"), 3u) << body;
  EXPECT_EQ(acked_of(body, "tablet-1"), 1u) << body;
  // The tablet resumes from its own cursor: versions 2 and 3 only.
  auto rest = sync(*tablet, "multi_device", 1);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].version(), 2u);

  auto [status, bad] = get("/v1/sync/cursors?business=feed");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(bad["code"], "missing_field");
}

TEST_F(DeliveryTest, UnackedOpsPastTheRetryBudgetAreDeadLetteredForThatDeviceOnly) {
  publish("chat", "bob", "poison");
  auto phone = login("phone-1", "bob");
  // Budget 2: the first sync delivers, two more retry, the fourth dead-letters.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto ops = sync(*phone, "user", 0);
    ASSERT_EQ(ops.size(), 1u) << attempt;
    EXPECT_FALSE(ops[0].skipped()) << attempt;
    EXPECT_EQ(ops[0].payload(), "p");
  }
  auto dead = sync(*phone, "user", 0);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].version(), 1u);
  EXPECT_TRUE(dead[0].skipped());  // the stream stays contiguous; the content is gone for it
  EXPECT_EQ(dead[0].payload(), "");

  auto body = wait_for("/v1/sync/dead_letters?business=chat", [](const json& b) {
    return b.contains("dead_letters") && b["dead_letters"].size() == 1;
  });
  ASSERT_EQ(body["dead_letters"].size(), 1u) << body;
  const auto& letter = body["dead_letters"][0];
  EXPECT_EQ(letter["owner"], "bob");
  EXPECT_EQ(letter["device"], "phone-1");
  EXPECT_EQ(letter["version"], 1);
  EXPECT_EQ(letter["msg_id"], "poison");
  EXPECT_EQ(letter["attempts"], 3);
  EXPECT_EQ(letter["payload_base64"], "cA==");
  EXPECT_TRUE(body["next"].is_null());

  // Another device of the user still gets the op itself.
  auto other = login("phone-2", "bob");
  auto ops = sync(*other, "user", 0);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_FALSE(ops[0].skipped());

  // A device that acks never reaches the budget.
  publish("chat", "dora", "fine");
  auto good = login("phone-3", "dora");
  for (int attempt = 1; attempt <= 4; ++attempt) {
    auto got = sync(*good, "user", 0);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(got[0].skipped()) << attempt;
    sync_ack(*good, "user", 1);
    wait_for("/v1/sync/cursors?business=chat&owner=dora",
             [](const json& b) { return acked_of(b, "phone-3") == 1; });
  }
  auto [status, page] = get("/v1/sync/dead_letters?business=chat&limit=0");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(page["code"], "invalid_value");

  // A second dead letter: pages of one follow each other through `next`.
  publish("chat", "erin", "poison-2");
  auto erin = login("phone-4", "erin");
  for (int attempt = 1; attempt <= 4; ++attempt) {
    sync(*erin, "user", 0);
  }
  wait_for("/v1/sync/dead_letters?business=chat", [](const json& b) {
    return b.contains("dead_letters") && b["dead_letters"].size() == 2;
  });
  auto [s1, first] = get("/v1/sync/dead_letters?business=chat&limit=1");
  ASSERT_EQ(s1, 200);
  ASSERT_EQ(first["dead_letters"].size(), 1u);
  EXPECT_EQ(first["dead_letters"][0]["owner"], "bob");
  ASSERT_TRUE(first["next"].is_string()) << first;
  auto [s2, second] =
      get("/v1/sync/dead_letters?business=chat&limit=1&after=" + first["next"].get<std::string>());
  ASSERT_EQ(s2, 200) << second;
  ASSERT_EQ(second["dead_letters"].size(), 1u);
  EXPECT_EQ(second["dead_letters"][0]["owner"], "erin");
  auto [s3, bad_after] = get("/v1/sync/dead_letters?business=chat&after=zz");
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(bad_after["code"], "invalid_value");
}

TEST_F(DeliveryTest, PushReceiptsShowDeliveredAndAckedPerDevice) {
  auto phone = login("phone-1", "carol");
  auto tablet = login("tablet-1", "carol");
  EXPECT_TRUE(sync(*phone, "once", 0).empty());  // online and caught up: pushes come live
  EXPECT_TRUE(sync(*tablet, "once", 0).empty());
  auto r = post("/v1/push", {{"target", {{"user", "carol"}}},
                             {"title", "Paid"},
                             {"body", "12.00 EUR"},
                             {"ttl_ms", 0},
                             {"msg_id", "p1"}});
  ASSERT_EQ(r.value("version", 0), 1) << r;
  EXPECT_EQ(read_until_done(*phone, "once").size(), 1u);
  EXPECT_EQ(read_until_done(*tablet, "once").size(), 1u);
  sync_ack(*phone, "once", 1);

  auto body = wait_for("/v1/push/receipts?owner=carol&msg_id=p1", [](const json& b) {
    int delivered = 0;
    int acked = 0;
    for (const auto& d : b.value("receipts", json::array())) {
      delivered += d.value("delivered", false) ? 1 : 0;
      acked += d.value("acked", false) ? 1 : 0;
    }
    return delivered == 2 && acked == 1;
  });
  EXPECT_EQ(body["version"], 1);
  ASSERT_EQ(body["receipts"].size(), 2u) << body;
  for (const auto& d : body["receipts"]) {
    EXPECT_TRUE(d["delivered"].get<bool>()) << d;
    EXPECT_GT(d["delivered_at_ms"].get<uint64_t>(), 0u);
    EXPECT_EQ(d["acked"].get<bool>(), d["device"] == "phone-1") << d;
  }

  auto [status, unknown] = get("/v1/push/receipts?owner=carol&msg_id=nope");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(unknown["code"], "unknown_op");

  // A new device of carol: push 1 was acked (and deleted) on the phone, push 2 is pending.
  post("/v1/push", {{"target", {{"user", "carol"}}},
                    {"title", "Paid"},
                    {"body", "3.00 EUR"},
                    {"ttl_ms", 0},
                    {"msg_id", "p2"}});
  auto watch = login("watch-1", "carol");
  v1::SyncRequest req;  // no sync key at all
  ASSERT_TRUE(watch->send(v1::FRAME_TYPE_SYNC_REQ, req));
  v1::SyncData once;
  while (auto f = watch->next(5s)) {
    if (f->type == v1::FRAME_TYPE_SYNC_DATA && once.ParseFromString(f->payload)
        && once.bucket() == "once") {
      break;
    }
  }
  EXPECT_EQ(once.gone_through(), 1u);  // not a gap to wait for: gone for good
  ASSERT_EQ(once.ops_size(), 1);
  EXPECT_EQ(once.ops(0).version(), 2u);
}

}  // namespace
}  // namespace tidegate::test
