// SYNC end to end: a real node with LMDB in a temp dir, publishes through the router, real
// sockets for the client side.
#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "storage/temp_dir.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

class SyncTest : public ::testing::Test {
 protected:
  void start() {
    auto cfg = test_node_config();
    cfg.storage.data_dir = dir_.path();
    cfg.sync.businesses["news"] = "global";
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
  }

  caf::expected<actors::publish_result> publish(const std::string& business,
                                                const std::string& owner, const std::string& msg_id,
                                                const std::string& payload) {
    actors::publish_request req;
    req.app_id = test_app;
    req.business = business;
    req.owner = owner;
    req.msg_id = msg_id;
    req.payload = payload;
    caf::scoped_actor self{node_->system()};
    caf::expected<actors::publish_result> result{caf::error{}};
    self->request(actors::sync_router_of(node_->system()), 10s, actors::publish_atom_v,
                  std::move(req))
        .receive([&](actors::publish_result& r) { result = r; },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  std::unique_ptr<raw_client> login(const std::string& device, const std::string& user) {
    auto c = std::make_unique<raw_client>(node_->client_port());
    EXPECT_TRUE(c->hello(device, test_app, 10'000));
    EXPECT_TRUE(c->auth(token_for(test_secret, test_app, user)));
    return c;
  }

  // Sends SYNC_REQ with `cursors` and collects SYNC_DATA pages until `bucket` is complete.
  std::vector<v1::Op> sync(raw_client& c, const std::string& bucket, uint64_t after,
                           v1::SyncData* last = nullptr) {
    v1::SyncRequest req;
    auto* cursor = req.add_cursors();
    cursor->set_bucket(bucket);
    cursor->set_version(after);
    c.send(v1::FRAME_TYPE_SYNC_REQ, req);
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
      for (const auto& op : data.ops()) {
        ops.push_back(op);
      }
      if (last != nullptr) {
        *last = data;
      }
      if (!data.more()) {
        break;
      }
    }
    return ops;
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
};

TEST_F(SyncTest, PublishedOpsAreSyncedInOrderWithContiguousVersions) {
  start();
  for (int i = 1; i <= 5; ++i) {
    auto r = publish("chat", "alice", "m" + std::to_string(i), "hello " + std::to_string(i));
    ASSERT_TRUE(r) << node_->system().render(r.error());
    EXPECT_EQ(r->version, static_cast<uint64_t>(i));
    EXPECT_FALSE(r->duplicated);
  }
  auto c = login("phone-1", "alice");
  auto ops = sync(*c, "user", 2);
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].version(), 3u);
  EXPECT_EQ(ops[2].version(), 5u);
  EXPECT_EQ(ops[2].payload(), "hello 5");
}

TEST_F(SyncTest, ARepeatedMsgIdReturnsTheOriginalVersion) {
  start();
  ASSERT_EQ(publish("chat", "bob", "same", "a")->version, 1u);
  auto again = publish("chat", "bob", "same", "a");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version, 1u);
  EXPECT_TRUE(again->duplicated);
  EXPECT_EQ(publish("chat", "bob", "other", "b")->version, 2u);
}

TEST_F(SyncTest, UnknownBusinessIsRefusedAndStoresNothing) {
  start();
  auto r = publish("no-such-business", "bob", "x", "a");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), caf::make_error(actors::sync_errc::unknown_business));
}

TEST_F(SyncTest, AnOnlineClientGetsNewOpsPushedAtOnce) {
  start();
  auto c = login("phone-1", "carol");
  EXPECT_TRUE(sync(*c, "user", 0).empty());
  ASSERT_TRUE(publish("chat", "carol", "m1", "live"));
  std::optional<v1::SyncData> pushed;
  while (auto f = c->next(5s)) {
    if (f->type == v1::FRAME_TYPE_SYNC_DATA) {
      v1::SyncData data;
      data.ParseFromString(f->payload);
      if (data.bucket() == "user") {  // pages of the other buckets may still come first
        pushed = data;
        break;
      }
    }
  }
  ASSERT_TRUE(pushed);
  EXPECT_EQ(pushed->bucket(), "user");
  ASSERT_EQ(pushed->ops_size(), 1);
  EXPECT_EQ(pushed->ops(0).payload(), "live");
}

TEST_F(SyncTest, GlobalOpsArePushedToEveryOnlineClientOfTheApp) {
  start();
  auto a = login("phone-a", "anna");
  auto b = login("phone-b", "ben");
  EXPECT_TRUE(sync(*a, "global", 0).empty());
  EXPECT_TRUE(sync(*b, "global", 0).empty());
  ASSERT_TRUE(publish("news", test_app, "n1", "to everyone"));  // owner of `global`: the app
  for (auto* c : {a.get(), b.get()}) {
    std::optional<v1::SyncData> pushed;
    while (auto f = c->next(5s)) {
      if (f->type == v1::FRAME_TYPE_SYNC_DATA) {
        v1::SyncData data;
        data.ParseFromString(f->payload);
        if (data.bucket() == "global" && data.ops_size() > 0) {
          pushed = data;
          break;
        }
      }
    }
    ASSERT_TRUE(pushed);
    EXPECT_EQ(pushed->ops(0).payload(), "to everyone");
  }
}

TEST_F(SyncTest, OnceOpsAreDeletedAfterTheAck) {
  start();
  ASSERT_TRUE(publish("push", "dave", "p1", "ding"));
  auto c = login("phone-1", "dave");
  auto ops = sync(*c, "once", 0);
  ASSERT_EQ(ops.size(), 1u);
  v1::SyncAck ack;
  auto* cursor = ack.add_cursors();
  cursor->set_bucket("once");
  cursor->set_version(1);
  c->send(v1::FRAME_TYPE_SYNC_ACK, ack);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {  // the delete is asynchronous; bounded wait
    gone = sync(*c, "once", 0).empty();
    if (!gone) {
      std::this_thread::sleep_for(10ms);
    }
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(publish("push", "dave", "p2", "dong")->version, 2u);  // versions never reused
}

TEST_F(SyncTest, VersionsContinueAfterARestartWithNoGapAndNoReuse) {
  start();
  ASSERT_EQ(publish("chat", "erin", "m1", "a")->version, 1u);
  ASSERT_EQ(publish("chat", "erin", "m2", "b")->version, 2u);
  node_.reset();
  start();
  EXPECT_EQ(publish("chat", "erin", "m3", "c")->version, 3u);
  EXPECT_TRUE(publish("chat", "erin", "m1", "a")->duplicated);
}

TEST_F(SyncTest, ACursorAheadOfTheServerGetsReset) {
  start();
  ASSERT_TRUE(publish("chat", "fay", "m1", "a"));
  auto c = login("phone-1", "fay");
  v1::SyncData last;
  auto ops = sync(*c, "user", 99, &last);
  EXPECT_TRUE(ops.empty());
  EXPECT_TRUE(last.reset());
  EXPECT_EQ(last.head_version(), 1u);
}

}  // namespace
}  // namespace tidegate::test
