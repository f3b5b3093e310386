// Topics through the backend ingress: real HTTP into an in-process node with LMDB in a temp
// dir, and the client SDK (real sockets) following the topics (DESIGN §6, §14 inv. 2, 4).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

#include "client/connection.h"
#include "client/event_loop.h"
#include "client/sync_store.h"
#include "storage/temp_dir.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"

#include <nlohmann/json.hpp>

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string bearer = std::string{"Bearer "} + test_app + ":" + test_secret;

class TopicIngressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfg = test_node_config();
    cfg.storage.data_dir = dir_.path();
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
    http_ = std::make_unique<httplib::Client>("127.0.0.1", node_->http_port());
    http_->set_connection_timeout(5s);
    http_->set_read_timeout(15s);
  }

  httplib::Result post(const std::string& path, const std::string& body,
                       const std::string& type = "application/json", bool with_auth = true) {
    httplib::Headers headers;
    if (with_auth) {
      headers.emplace("Authorization", bearer);
    }
    return http_->Post(path, headers, body, type.c_str());
  }

  json post_ok(const std::string& path, const json& body) {
    auto res = post(path, body.dump());
    EXPECT_TRUE(res);
    if (!res) {
      return {};
    }
    EXPECT_EQ(res->status, 200) << path << ": " << res->body;
    return json::parse(res->body, nullptr, false);
  }

  json info(const std::string& topic) {
    auto res = http_->Get("/v1/topics/info?topic=" + topic, {{"Authorization", bearer}});
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    return json::parse(res->body, nullptr, false);
  }

  static std::string error_code(const httplib::Result& res) {
    auto j = json::parse(res->body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return "<not json: " + res->body + ">";
    }
    return j.value("code", "<no code>");
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(TopicIngressTest, TheSdkGetsEveryMessageOnceInOrderAcrossReconnects) {
  auto followed = post_ok("/v1/topics/follow", {{"topic", "shop:42"}, {"users", {"alice"}}});
  ASSERT_EQ(followed["results"][0]["following"], true);
  ASSERT_EQ(followed["results"][0]["since_version"], 0);
  auto publish = [&](int i) {
    auto r = post_ok("/v1/topics/messages", {{"topic", "shop:42"},
                                             {"msg_id", "m" + std::to_string(i)},
                                             {"payload", "p" + std::to_string(i)}});
    EXPECT_EQ(r["version"], i);
  };
  for (int i = 1; i <= 3; ++i) {
    publish(i);
  }
  client::sync_store store;
  std::vector<uint64_t> versions;
  std::vector<std::string> streams;
  client::event_loop loop;
  client::connection_config cc;
  cc.addresses.push_back("127.0.0.1:" + std::to_string(node_->client_port()));
  cc.device_id = "phone-1";
  cc.app_id = test_app;
  cc.token = token_for(test_secret, test_app, "alice");
  cc.heartbeat = client::heartbeat_config::fixed(1s);
  cc.reconnect = false;
  cc.sync.enabled = true;
  cc.sync.store = &store;
  cc.sync.ack_delay = 20ms;
  cc.sync.on_ops = [&](const std::string& stream, const std::vector<v1::Op>& ops) {
    for (const auto& op : ops) {
      streams.push_back(stream);
      versions.push_back(op.version());
    }
  };
  auto until = [&](const std::function<bool()>& done) {
    return loop.run_until(done, std::chrono::steady_clock::now() + 10s);
  };
  client::connection c{loop, cc};
  c.start();
  ASSERT_TRUE(until([&] { return versions.size() >= 3; }));
  for (int i = 4; i <= 6; ++i) {
    publish(i);  // live
  }
  ASSERT_TRUE(until([&] { return versions.size() >= 6; }));
  c.stop();
  publish(7);
  // A batch of three, one of them bad: the good ones are published, the bad one refused.
  auto batch =
      post_ok("/v1/topics/messages:batch", {{"topic", "shop:42"},
                                            {"messages",
                                             {{{"msg_id", "m8"}, {"payload", "p8"}},
                                              {{"msg_id", "m9"}, {"payload_base64", "not base64!"}},
                                              {{"msg_id", "m9b"}, {"payload", "p9"}}}}});
  EXPECT_EQ(batch["results"][0]["version"], 8);
  EXPECT_EQ(batch["results"][1]["error"]["code"], "bad_base64");
  EXPECT_EQ(batch["results"][2]["version"], 9);
  c.start();
  ASSERT_TRUE(until([&] { return versions.size() >= 9; }));
  ASSERT_TRUE(until([&] { return c.sync()->cursor("topic:shop:42") == 9; }));
  std::vector<uint64_t> expected{1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(versions, expected);
  EXPECT_EQ(streams.front(), "topic:shop:42");
  c.stop();
  EXPECT_EQ(store.cursors().at("topic:shop:42"), 9u);

  auto t = info("shop:42");
  EXPECT_EQ(t["head"], 9);
  EXPECT_EQ(t["followers"], 1);
  // A repeated msg_id: the original version, nothing stored.
  auto again = post_ok("/v1/topics/messages",
                       {{"topic", "shop:42"}, {"msg_id", "m1"}, {"payload", "other"}});
  EXPECT_EQ(again["version"], 1);
  EXPECT_EQ(again["duplicated"], true);
  EXPECT_EQ(info("shop:42")["head"], 9);
}

TEST_F(TopicIngressTest, FollowAndUnfollowAreIdempotentAndCountFollowers) {
  auto a = post_ok("/v1/topics/follow", {{"topic", "club"}, {"users", {"u1", "u2", "u1"}}});
  ASSERT_EQ(a["results"].size(), 3u);
  EXPECT_EQ(a["results"][0]["changed"], true);
  EXPECT_EQ(a["results"][2]["changed"], false);  // the same user twice: one follow
  EXPECT_EQ(info("club")["followers"], 2);
  auto b = post_ok("/v1/topics/unfollow", {{"topic", "club"}, {"users", {"u1", "nobody"}}});
  EXPECT_EQ(b["results"][0]["following"], false);
  EXPECT_EQ(b["results"][0]["changed"], true);
  EXPECT_EQ(b["results"][1]["changed"], false);
  EXPECT_EQ(info("club")["followers"], 1);
}

TEST_F(TopicIngressTest, EveryKindOfBadBodyGetsA4xxNamingTheProblemAndStoresNothing) {
  struct bad_case {
    std::string path;
    std::string body;
    int status;
    std::string code;
  };
  std::string big(70 * 1024, 'x');
  std::vector<std::string> many_users;
  for (int i = 0; i < 1001; ++i) {
    many_users.push_back("u" + std::to_string(i));
  }
  std::vector<bad_case> cases{
      {"/v1/topics/messages", "{\"topic\":", 400, "bad_json"},
      {"/v1/topics/messages", "[]", 400, "wrong_type"},
      {"/v1/topics/messages", json{{"msg_id", "m"}, {"payload", "p"}}.dump(), 400, "missing_field"},
      {"/v1/topics/messages", json{{"topic", "a b"}, {"msg_id", "m"}, {"payload", "p"}}.dump(), 400,
       "bad_topic"},
      {"/v1/topics/messages", json{{"topic", ""}, {"msg_id", "m"}, {"payload", "p"}}.dump(), 400,
       "bad_topic"},
      {"/v1/topics/messages", json{{"topic", "t"}, {"payload", "p"}}.dump(), 400, "missing_field"},
      {"/v1/topics/messages", json{{"topic", "t"}, {"msg_id", "m"}}.dump(), 400, "missing_field"},
      {"/v1/topics/messages",
       json{{"topic", "t"}, {"msg_id", "m"}, {"payload", "p"}, {"extra", 1}}.dump(), 400,
       "unknown_field"},
      {"/v1/topics/messages",
       json{{"topic", "t"}, {"msg_id", "m"}, {"payload_base64", "@@"}}.dump(), 400, "bad_base64"},
      {"/v1/topics/messages", json{{"topic", "t"}, {"msg_id", "m"}, {"payload", big}}.dump(), 413,
       "payload_too_large"},
      {"/v1/topics/messages",
       json{{"topic", "t"}, {"msg_id", "m"}, {"payload", "p"}, {"ttl_ms", -1}}.dump(), 400,
       "invalid_value"},
      {"/v1/topics/messages:batch", json{{"topic", "t"}, {"messages", json::array()}}.dump(), 400,
       "invalid_value"},
      {"/v1/topics/messages:batch", json{{"topic", "t"}, {"messages", "x"}}.dump(), 400,
       "wrong_type"},
      {"/v1/topics/follow", json{{"topic", "t"}}.dump(), 400, "missing_field"},
      {"/v1/topics/follow", json{{"topic", "t"}, {"users", "u1"}}.dump(), 400, "wrong_type"},
      {"/v1/topics/follow", json{{"topic", "t"}, {"users", {""}}}.dump(), 400, "bad_user"},
      {"/v1/topics/follow", json{{"topic", "t"}, {"users", {1}}}.dump(), 400, "wrong_type"},
      {"/v1/topics/follow", json{{"topic", "t"}, {"users", many_users}}.dump(), 400,
       "invalid_value"},
      {"/v1/topics/unfollow", json{{"topic", "t/x"}, {"users", {"u"}}}.dump(), 400, "bad_topic"},
  };
  for (const auto& c : cases) {
    auto res = post(c.path, c.body);
    ASSERT_TRUE(res) << c.path;
    EXPECT_EQ(res->status, c.status) << c.path << " " << c.body.substr(0, 80) << ": " << res->body;
    EXPECT_EQ(error_code(res), c.code) << c.path << " " << c.body.substr(0, 80);
  }
  auto no_auth =
      post("/v1/topics/messages", json{{"topic", "t"}, {"msg_id", "m"}, {"payload", "p"}}.dump(),
           "application/json", false);
  EXPECT_EQ(no_auth->status, 401);
  auto text = post("/v1/topics/messages",
                   json{{"topic", "t"}, {"msg_id", "m"}, {"payload", "p"}}.dump(), "text/plain");
  EXPECT_EQ(text->status, 415);
  auto bad_info = http_->Get("/v1/topics/info?topic=a%20b", {{"Authorization", bearer}});
  EXPECT_EQ(bad_info->status, 400);
  auto missing_info = http_->Get("/v1/topics/info", {{"Authorization", bearer}});
  EXPECT_EQ(missing_info->status, 400);
  // Nothing of the above was stored.
  EXPECT_EQ(info("t")["head"], 0);
  EXPECT_EQ(info("t")["followers"], 0);
}

}  // namespace
}  // namespace tidegate::test
