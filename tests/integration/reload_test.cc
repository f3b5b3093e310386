// Runtime reload of SYNC settings: SIGHUP and POST /admin/reload re-read the config file;
// a business added at runtime is served at once, and a reload that would move a bucket is
// refused and changes nothing.
#include <signal.h>

#include <fstream>
#include <regex>

#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>
#include <httplib.h>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "storage/temp_dir.h"
#include "tests/support/child_process.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

caf::expected<actors::publish_result> publish(actors::node& n, const std::string& business,
                                              const std::string& msg_id) {
  actors::publish_request req;
  req.app_id = test_app;
  req.business = business;
  req.owner = "alice";
  req.msg_id = msg_id;
  req.payload = "x";
  caf::scoped_actor self{n.system()};
  caf::expected<actors::publish_result> result{caf::error{}};
  self->request(actors::sync_router_of(n.system()), 10s, actors::publish_atom_v, std::move(req))
      .receive([&](actors::publish_result& r) { result = r; },
               [&](caf::error& err) { result = std::move(err); });
  return result;
}

std::string config_text(const std::string& data_dir, bool with_news) {
  std::string text = "[node]\nid = \"reload\"\nscheduler_threads = 2\n"
                     "[gateway]\nlisten = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n"
                     "[storage]\ndata_dir = \""
                     + data_dir
                     + "\"\n[[apps]]\nid = \"wallet\"\nsecret = \"test-secret-0123456789abcdef\"\n"
                       "[[businesses]]\nname = \"chat\"\nbucket = \"user\"\n";
  if (with_news) {
    text += "[[businesses]]\nname = \"news\"\nbucket = \"user\"\n";
  }
  return text;
}

TEST(ReloadTest, AdminReloadAddsABusinessAndRefusesABadFile) {
  storage::temp_dir dir;
  auto path = dir.path() + "/node.toml";
  std::ofstream{path} << config_text(dir.path() + "/data", false);
  auto cfg = test_node_config();
  cfg.storage.data_dir = dir.path() + "/data";
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  n->set_config_path(path);
  EXPECT_EQ(publish(*n, "news", "n1").error(),
            caf::make_error(actors::sync_errc::unknown_business));

  httplib::Client http{"127.0.0.1", n->http_port()};
  std::ofstream{path} << "this is not toml = = =";
  auto bad = http.Post("/admin/reload", "", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("bad_config"), std::string::npos) << bad->body;
  EXPECT_FALSE(publish(*n, "news", "n1"));  // nothing changed

  std::ofstream{path, std::ios::trunc} << config_text(dir.path() + "/data", true);
  auto ok = http.Post("/admin/reload", "", "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  auto r = publish(*n, "news", "n1");
  ASSERT_TRUE(r) << n->system().render(r.error());
  EXPECT_EQ(r->version, 1u);
  EXPECT_EQ(publish(*n, "chat", "c1")->version, 2u);  // same bucket, versions continue
}

TEST(ReloadTest, MovingABucketIsRefusedAndNothingChanges) {
  storage::temp_dir dir;
  auto cfg = test_node_config();
  cfg.storage.data_dir = dir.path();
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  ASSERT_EQ(publish(*n, "chat", "c1")->version, 1u);
  auto moved = cfg;
  moved.sync.buckets[0].id = 42;  // "user" under another id would orphan its versions
  moved.sync.businesses["news"] = "user";
  auto why = n->reload(moved);
  EXPECT_NE(why.find("must keep its id"), std::string::npos) << why;
  EXPECT_NE(why.find("sync(reload_refused"), std::string::npos) << why;
  EXPECT_FALSE(publish(*n, "news", "n1"));
  EXPECT_EQ(publish(*n, "chat", "c2")->version, 2u);
}

TEST(ReloadTest, ABucketAddedAtRuntimeIsServedFirstByPriority) {
  storage::temp_dir dir;
  auto cfg = test_node_config();
  cfg.storage.data_dir = dir.path();
  auto n = start_test_node(cfg);
  ASSERT_TRUE(n);
  ASSERT_EQ(publish(*n, "chat", "c1")->version, 1u);
  auto next = cfg;
  actors::bucket_config alerts;
  alerts.name = "alerts";
  alerts.kind = actors::bucket_kind::user;
  alerts.id = 20;
  alerts.priority = 9;
  next.sync.buckets.push_back(alerts);
  next.sync.businesses["alert"] = "alerts";
  ASSERT_EQ(n->reload(next), "");
  ASSERT_EQ(publish(*n, "alert", "a1")->version, 1u);  // its own versions
  EXPECT_EQ(publish(*n, "chat", "c2")->version, 2u);   // the others' continue

  raw_client c{n->client_port()};
  ASSERT_TRUE(c.hello("phone-1", test_app, 10'000));
  ASSERT_TRUE(c.auth(token_for(test_secret, test_app, "alice")));
  ASSERT_TRUE(c.send(v1::FRAME_TYPE_SYNC_REQ, v1::SyncRequest{}));
  std::vector<std::string> order;  // buckets with ops, in the order their pages came
  while (auto f = c.next(2s)) {
    if (f->type != v1::FRAME_TYPE_SYNC_DATA) {
      continue;
    }
    c.ack(f->seq);
    v1::SyncData data;
    ASSERT_TRUE(data.ParseFromString(f->payload));
    if (data.ops_size() > 0) {
      order.push_back(data.bucket());
    }
    if (order.size() == 2) {
      break;
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"alerts", "user"}));
}

TEST(ReloadTest, SighupReloadsTheFile) {
  storage::temp_dir dir;
  auto path = dir.path() + "/node.toml";
  std::ofstream{path} << config_text(dir.path() + "/data", false);
  child_process p{{TIDEGATE_BINARY, "node", "--config", path}};
  ASSERT_TRUE(p.wait_for_line("clients on", 20s)) << p.err();
  std::ofstream{path, std::ios::trunc} << config_text(dir.path() + "/data", true);
  p.signal(SIGHUP);
  EXPECT_TRUE(p.wait_for_line("SIGHUP: reloaded", 20s)) << p.err();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(20s), std::optional<int>{0});
}

}  // namespace
}  // namespace tidegate::test
