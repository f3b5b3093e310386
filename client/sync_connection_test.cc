// SYNC through a real client::connection, against a fake server on the test's event loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "client/connection.h"
#include "client/fake_gateway_for_tests.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

v1::SyncData page(const std::string& bucket, std::vector<uint64_t> versions, bool more = false) {
  v1::SyncData data;
  data.set_bucket(bucket);
  data.set_more(more);
  for (auto v : versions) {
    auto* op = data.add_ops();
    op->set_version(v);
    op->set_business("chat");
    op->set_msg_id("m" + std::to_string(v));
    op->set_payload("p" + std::to_string(v));
  }
  data.set_head_version(versions.empty() ? 0 : versions.back());
  return data;
}

using sync_server = fake_gateway;

class SyncConnectionTest : public ::testing::Test {
 public:
  using pairs = std::vector<std::pair<std::string, uint64_t>>;

  connection_config config(const sync_server& server) {
    auto c = test_connection_config({server.address()});
    c.sync.enabled = true;
    c.sync.store = &store_;
    c.sync.ack_delay = seconds{30};  // the tests see acks that are due, not timed ones
    c.sync.on_ops = [this](const std::string& bucket, const std::vector<v1::Op>& ops) {
      for (const auto& op : ops) {
        delivered_.emplace_back(bucket, op.version());
      }
    };
    c.sync.on_reset = [this](const std::string& bucket, uint64_t head) {
      resets_.emplace_back(bucket, head);
    };
    return c;
  }

  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds{1500}) {
    return loop_.run_until(done, event_loop::clock::now() + limit);
  }

  static pairs of(const google::protobuf::RepeatedPtrField<v1::BucketCursor>& cursors) {
    pairs out;
    for (const auto& c : cursors) {
      out.emplace_back(c.bucket(), c.version());
    }
    return out;
  }

  event_loop loop_;
  sync_store store_;
  pairs delivered_;
  pairs resets_;
};

TEST_F(SyncConnectionTest, TheFirstSyncRequestCarriesTheStoredCursorsAsLogin) {
  sync_server server{loop_};
  ASSERT_TRUE(store_.save({{"user", 5}, {"device", 2}}));
  connection conn{loop_, config(server)};
  conn.start();
  ASSERT_TRUE(run_until([&] { return !server.requests().empty(); }));
  auto req = server.requests()[0];
  EXPECT_EQ(req.reason(), v1::SYNC_REASON_LOGIN);
  EXPECT_EQ(of(req.cursors()), (pairs{{"device", 2}, {"user", 5}}));
  for (const auto& f : server.received) {
    if (f.type == v1::FRAME_TYPE_SYNC_REQ) {
      EXPECT_EQ(f.channel, v1::CHANNEL_SYNC);
      EXPECT_EQ(f.flags, 0);
    }
  }
  EXPECT_EQ(conn.counters().sync_requests, 1u);
}

TEST_F(SyncConnectionTest, PagesAreDeliveredInOrderOnceThenSavedAndAcked) {
  sync_server server{loop_};
  server.answer = [](const v1::SyncRequest&) {
    return std::vector<v1::SyncData>{page("user", {1, 2, 3}, true), page("user", {4, 5}),
                                     page("once", {1})};
  };
  connection conn{loop_, config(server)};
  conn.start();
  ASSERT_TRUE(
      run_until([&] { return !server.sync_acks().empty() && server.transport_acked() >= 5; }));
  EXPECT_EQ(delivered_,
            (pairs{{"user", 1}, {"user", 2}, {"user", 3}, {"user", 4}, {"user", 5}, {"once", 1}}));
  pairs acked;
  for (const auto& ack : server.sync_acks()) {
    for (const auto& c : ack.cursors()) {
      acked.emplace_back(c.bucket(), c.version());
    }
  }
  EXPECT_NE(std::find(acked.begin(), acked.end(), std::make_pair(std::string{"user"}, uint64_t{5})),
            acked.end());
  EXPECT_EQ(store_.cursors(), (sync_cursors{{"once", 1}, {"user", 5}}));  // saved before the ack
  EXPECT_EQ(server.transport_acked(), 5u);  // WELCOME, AUTH_OK and the three pages
}

TEST_F(SyncConnectionTest, AReconnectResumesFromTheCursorAndDropsReplays) {
  sync_server server{loop_};
  server.answer = [](const v1::SyncRequest& req) {
    // A server that replays from 2 whatever the cursor says: the client must dedupe.
    return req.reason() == v1::SYNC_REASON_LOGIN
               ? std::vector<v1::SyncData>{page("user", {1, 2, 3})}
               : std::vector<v1::SyncData>{page("user", {2, 3, 4})};
  };
  auto cfg = config(server);
  cfg.reconnect = true;
  connection conn{loop_, cfg};
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.sync_acks().size() == 1; }));
  server.close_all();
  ASSERT_TRUE(run_until([&] { return conn.counters().sessions == 2 && delivered_.size() == 4; }));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].reason(), v1::SYNC_REASON_CONNECT);
  EXPECT_EQ(of(reqs[1].cursors()), (pairs{{"user", 3}}));
  EXPECT_EQ(delivered_, (pairs{{"user", 1}, {"user", 2}, {"user", 3}, {"user", 4}}));
  EXPECT_EQ(conn.sync()->counters().duplicates, 2u);
}

TEST_F(SyncConnectionTest, ARestartResumesFromTheKeyFile) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string{tmp != nullptr ? tmp : "/tmp"} + "/tidegate-csync-XXXXXX";
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string path = dir + "/key";
  sync_server server{loop_};
  server.answer = [](const v1::SyncRequest& req) {
    uint64_t from = req.cursors().empty() ? 0 : req.cursors(0).version();
    return std::vector<v1::SyncData>{page("user", {from + 1, from + 2})};
  };
  {
    sync_store file{path};
    EXPECT_EQ(file.load(), sync_load_status::missing);
    auto cfg = config(server);
    cfg.sync.store = &file;
    connection conn{loop_, cfg};
    conn.start();
    ASSERT_TRUE(run_until([&] { return server.sync_acks().size() == 1; }));
  }
  sync_store file{path};
  ASSERT_EQ(file.load(), sync_load_status::loaded) << file.load_error();
  auto cfg = config(server);
  cfg.sync.store = &file;
  connection conn{loop_, cfg};
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.sync_acks().size() == 2; }));
  EXPECT_EQ(of(server.requests()[1].cursors()), (pairs{{"user", 2}}));
  EXPECT_EQ(delivered_, (pairs{{"user", 1}, {"user", 2}, {"user", 3}, {"user", 4}}));
  conn.stop();
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_F(SyncConnectionTest, AGapHoldsTheOpAndTriggersAResync) {
  sync_server server{loop_};
  server.answer = [](const v1::SyncRequest& req) {
    if (req.reason() == v1::SYNC_REASON_LOGIN) {
      return std::vector<v1::SyncData>{page("user", {1, 2})};
    }
    EXPECT_EQ(req.reason(), v1::SYNC_REASON_EXPLICIT);
    return std::vector<v1::SyncData>{page("user", {3, 4})};  // from the cursor: 2
  };
  connection conn{loop_, config(server)};
  conn.start();
  ASSERT_TRUE(run_until([&] { return delivered_.size() == 2; }));
  server.push({page("user", {4})});  // 3 was missed
  ASSERT_TRUE(run_until([&] { return delivered_.size() == 4; }));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(of(reqs[1].cursors()), (pairs{{"user", 2}}));
  EXPECT_EQ(delivered_, (pairs{{"user", 1}, {"user", 2}, {"user", 3}, {"user", 4}}));
  EXPECT_EQ(conn.sync()->counters().resyncs, 1u);
}

TEST_F(SyncConnectionTest, AResetReachesTheAppAndTheCursorJumpsToTheHead) {
  sync_server server{loop_};
  ASSERT_TRUE(store_.save({{"user", 3}}));
  server.answer = [](const v1::SyncRequest&) {
    auto reset = page("user", {});
    reset.set_reset(true);
    reset.set_head_version(40);
    return std::vector<v1::SyncData>{reset};
  };
  connection conn{loop_, config(server)};
  conn.start();
  ASSERT_TRUE(run_until([&] { return !server.sync_acks().empty(); }));
  EXPECT_EQ(resets_, (pairs{{"user", 40}}));
  EXPECT_EQ(of(server.sync_acks()[0].cursors()), (pairs{{"user", 40}}));
  EXPECT_EQ(store_.cursors(), (sync_cursors{{"user", 40}}));
}

TEST_F(SyncConnectionTest, ForegroundAndExplicitRequestsSync) {
  sync_server server{loop_};
  auto cfg = config(server);
  cfg.foreground = false;
  connection conn{loop_, cfg};
  EXPECT_FALSE(conn.request_sync());  // not ready
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.requests().size() == 1; }));
  conn.set_foreground(true);
  EXPECT_TRUE(conn.request_sync());
  ASSERT_TRUE(run_until([&] { return server.requests().size() == 3; }));
  auto reqs = server.requests();
  EXPECT_EQ(reqs[1].reason(), v1::SYNC_REASON_FOREGROUND);
  EXPECT_EQ(reqs[2].reason(), v1::SYNC_REASON_EXPLICIT);
}

TEST_F(SyncConnectionTest, WithSyncOffNothingIsRequestedAndPagesAreOnlyAcked) {
  sync_server server{loop_};
  server.answer = [](const v1::SyncRequest&) { return std::vector<v1::SyncData>{}; };
  auto cfg = config(server);
  cfg.sync.enabled = false;
  connection conn{loop_, cfg};
  EXPECT_EQ(conn.sync(), nullptr);
  conn.start();
  ASSERT_TRUE(run_until([&] { return server.transport_acked() == 2; }));
  server.push({page("user", {1})});
  ASSERT_TRUE(run_until([&] { return server.transport_acked() == 3; }, seconds{2}));
  EXPECT_TRUE(server.requests().empty());
  EXPECT_TRUE(delivered_.empty());
  EXPECT_FALSE(conn.request_sync());
}

}  // namespace
}  // namespace tidegate::client
