#include "actors/gateway/session_machine.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "actors/gateway/read_retry.h"
#include "protocol/auth_token.h"
#include "protocol/frame_decoder.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"
#include "tidegate/v1/topic.pb.h"

namespace tidegate::actors {
namespace {

constexpr uint64_t wall0 = 1'700'000'000'000;

class SessionMachineTest : public ::testing::Test {
 protected:
  SessionMachineTest() {
    ctx_.node_id = "n1";
    ctx_.config.handshake_timeout_ms = 1000;
    ctx_.config.heartbeat_min_ms = 100;
    ctx_.config.heartbeat_max_ms = 10'000;
    ctx_.config.idle_margin = 2.0;
    ctx_.config.ack_deadline_ms = 500;
    ctx_.config.soft_disconnect_grace_ms = 300;
    ctx_.apps["wallet"].secret = "0123456789abcdef";
    machine_.emplace(ctx_, 7, at(0));
  }

  session_time at(uint64_t ms) const { return {ms, wall0 + ms}; }

  session_effects feed(v1::FrameType type, const google::protobuf::MessageLite& msg, uint64_t ms) {
    std::string bytes;
    protocol::frame_encoder{}.encode(type, 0, 0, 0, msg, bytes);
    return feed_bytes(bytes, ms);
  }

  session_effects feed_bytes(const std::string& bytes, uint64_t ms) {
    session_effects fx;
    machine_->on_bytes(bytes.data(), bytes.size(), at(ms), fx);
    return fx;
  }

  static std::vector<protocol::frame> frames_of(const std::string& out) {
    protocol::frame_decoder d;
    d.append(out.data(), out.size());
    std::vector<protocol::frame> frames;
    protocol::frame f;
    while (d.next(f) == protocol::frame_decoder::status::frame) {
      frames.push_back(f);
    }
    EXPECT_EQ(d.buffered(), 0u);
    return frames;
  }

  static v1::Error error_of(const session_effects& fx) {
    auto frames = frames_of(fx.out);
    EXPECT_FALSE(frames.empty());
    EXPECT_EQ(frames.back().type, v1::FRAME_TYPE_ERROR);
    v1::Error e;
    e.ParseFromString(frames.back().payload);
    return e;
  }

  v1::Hello hello(uint32_t heartbeat = 1000) {
    v1::Hello h;
    h.set_protocol_version(1);
    h.set_device_id("dev-1");
    h.set_app_id("wallet");
    h.set_heartbeat_interval_ms(heartbeat);
    return h;
  }

  v1::Auth auth(uint64_t expires_s = wall0 / 1000 + 3600) {
    v1::Auth a;
    a.set_token(protocol::sign_token("0123456789abcdef", "wallet", "alice", expires_s));
    return a;
  }

  void login() {
    auto fx = feed(v1::FRAME_TYPE_HELLO, hello(), 0);
    ASSERT_TRUE(fx.hello_accepted);
    fx = feed(v1::FRAME_TYPE_AUTH, auth(), 1);
    ASSERT_TRUE(fx.authenticated);
    v1::Ack ack;
    ack.set_seq(2);
    fx = feed(v1::FRAME_TYPE_ACK, ack, 2);
    ASSERT_FALSE(fx.close);
    ASSERT_EQ(machine_->unacked(), 0u);
  }

  gateway_context ctx_;
  std::optional<session_machine> machine_;
};

TEST_F(SessionMachineTest, HelloGetsWelcomeAndAuthGetsAuthOk) {
  auto fx = feed(v1::FRAME_TYPE_HELLO, hello(), 0);
  auto frames = frames_of(fx.out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, v1::FRAME_TYPE_WELCOME);
  EXPECT_EQ(frames[0].seq, 1u);
  EXPECT_TRUE(frames[0].ack_requested());
  v1::Welcome w;
  ASSERT_TRUE(w.ParseFromString(frames[0].payload));
  EXPECT_EQ(w.session_id(), "n1-7");
  EXPECT_EQ(w.heartbeat_interval_ms(), 1000u);
  EXPECT_EQ(w.idle_timeout_ms(), 2000u);
  EXPECT_EQ(machine_->device_id(), "dev-1");

  fx = feed(v1::FRAME_TYPE_AUTH, auth(), 5);
  frames = frames_of(fx.out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, v1::FRAME_TYPE_AUTH_OK);
  EXPECT_EQ(frames[0].seq, 2u);
  EXPECT_EQ(machine_->user_id(), "alice");
  EXPECT_EQ(machine_->current_phase(), session_machine::phase::ready);
}

TEST_F(SessionMachineTest, FrameBeforeHelloIsUnexpected) {
  auto fx = feed(v1::FRAME_TYPE_PING, v1::Ping{}, 0);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_UNEXPECTED_FRAME);
  EXPECT_EQ(fx.close, gateway_errc::protocol_error);
}

TEST_F(SessionMachineTest, SecondHelloIsUnexpected) {
  feed(v1::FRAME_TYPE_HELLO, hello(), 0);
  auto fx = feed(v1::FRAME_TYPE_HELLO, hello(), 1);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_UNEXPECTED_FRAME);
}

TEST_F(SessionMachineTest, UndecodablePayloadIsBadPayload) {
  std::string bytes;
  protocol::append_frame(v1::FRAME_TYPE_HELLO, 0, 0, 0, "\xff\xff\xff", bytes);
  auto fx = feed_bytes(bytes, 0);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_BAD_PAYLOAD);
}

TEST_F(SessionMachineTest, HelloWithoutDeviceOrWrongVersionIsBadHello) {
  auto h = hello();
  h.clear_device_id();
  EXPECT_EQ(error_of(feed(v1::FRAME_TYPE_HELLO, h, 0)).code(), v1::ERROR_CODE_BAD_HELLO);
}

TEST_F(SessionMachineTest, UnknownAppFailsAuth) {
  auto h = hello();
  h.set_app_id("nope");
  auto fx = feed(v1::FRAME_TYPE_HELLO, h, 0);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_AUTH_FAILED);
  EXPECT_EQ(fx.close, gateway_errc::auth_failed);
}

TEST_F(SessionMachineTest, ExpiredOrForgedTokenFailsAuth) {
  feed(v1::FRAME_TYPE_HELLO, hello(), 0);
  auto fx = feed(v1::FRAME_TYPE_AUTH, auth(wall0 / 1000 - 1), 1);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_AUTH_FAILED);
  EXPECT_NE(fx.close_detail.find("expired"), std::string::npos);
}

TEST_F(SessionMachineTest, HeartbeatIsClampedAndPingMovesIt) {
  feed(v1::FRAME_TYPE_HELLO, hello(1), 0);
  EXPECT_EQ(machine_->idle_timeout_ms(), 200u);  // min 100 x margin 2
  feed(v1::FRAME_TYPE_AUTH, auth(), 1);
  v1::Ping ping;
  ping.set_heartbeat_interval_ms(1'000'000);
  auto fx = feed(v1::FRAME_TYPE_PING, ping, 2);
  auto frames = frames_of(fx.out);
  ASSERT_EQ(frames.size(), 1u);
  v1::Pong pong;
  ASSERT_TRUE(pong.ParseFromString(frames[0].payload));
  EXPECT_EQ(pong.heartbeat_interval_ms(), 10'000u);
  EXPECT_EQ(pong.idle_timeout_ms(), 20'000u);
  EXPECT_EQ(frames[0].seq, 0u);
}

TEST_F(SessionMachineTest, HandshakeTimeout) {
  session_effects fx;
  machine_->on_tick(at(999), fx);
  EXPECT_FALSE(fx.close);
  EXPECT_EQ(machine_->next_deadline(), 1000u);
  machine_->on_tick(at(1000), fx);
  EXPECT_EQ(fx.close, gateway_errc::handshake_timeout);
}

TEST_F(SessionMachineTest, IdleTimeoutFollowsTheLastFrame) {
  login();
  v1::Ping ping;
  feed(v1::FRAME_TYPE_PING, ping, 1500);
  EXPECT_EQ(machine_->next_deadline(), 3500u);
  session_effects fx;
  machine_->on_tick(at(3499), fx);
  EXPECT_FALSE(fx.close);
  machine_->on_tick(at(3500), fx);
  EXPECT_EQ(fx.close, gateway_errc::idle_timeout);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_IDLE_TIMEOUT);
}

TEST_F(SessionMachineTest, UnackedFramesPastTheDeadlineMeanADeadConnection) {
  feed(v1::FRAME_TYPE_HELLO, hello(), 0);  // WELCOME seq 1 never acked
  feed(v1::FRAME_TYPE_AUTH, auth(), 100);
  v1::Ping ping;
  feed(v1::FRAME_TYPE_PING, ping, 400);  // pings alone keep it from idling
  EXPECT_EQ(machine_->next_deadline(), 500u);
  session_effects fx;
  machine_->on_tick(at(500), fx);
  EXPECT_EQ(fx.close, gateway_errc::dead_connection);
  EXPECT_EQ(error_of(fx).code(), v1::ERROR_CODE_DEAD_CONNECTION);
}

TEST_F(SessionMachineTest, AckForAnUnsentSeqIsUnexpected) {
  feed(v1::FRAME_TYPE_HELLO, hello(), 0);
  v1::Ack ack;
  ack.set_seq(9);
  EXPECT_EQ(error_of(feed(v1::FRAME_TYPE_ACK, ack, 1)).code(), v1::ERROR_CODE_UNEXPECTED_FRAME);
}

TEST_F(SessionMachineTest, ReplacedSendsGoAwayThenClosesAfterGrace) {
  login();
  session_effects fx;
  machine_->on_replaced(at(10), fx);
  auto frames = frames_of(fx.out);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].type, v1::FRAME_TYPE_GOAWAY);
  v1::GoAway g;
  ASSERT_TRUE(g.ParseFromString(frames[0].payload));
  EXPECT_EQ(g.reason(), v1::GO_AWAY_REASON_REPLACED);
  EXPECT_FALSE(fx.close);
  // Still served during the grace period.
  auto pong = feed(v1::FRAME_TYPE_PING, v1::Ping{}, 100);
  EXPECT_EQ(frames_of(pong.out).at(0).type, v1::FRAME_TYPE_PONG);
  session_effects later;
  machine_->on_tick(at(310), later);
  EXPECT_EQ(later.close, gateway_errc::replaced);
  EXPECT_TRUE(later.out.empty());
}

TEST_F(SessionMachineTest, AUserOfAnotherZoneIsRedirectedInsteadOfLoggedIn) {
  std::vector<std::string> asked;
  ctx_.zone_redirect = [&asked](const std::string& user) {
    asked.push_back(user);
    return std::vector<std::string>{"127.0.0.3:7100", "127.0.0.4:7100"};
  };
  ctx_.set_sync(std::make_shared<const sync_config>(default_sync_config()));
  feed(v1::FRAME_TYPE_HELLO, hello(), 0);
  auto fx = feed(v1::FRAME_TYPE_AUTH, auth(), 1);
  EXPECT_EQ(asked, std::vector<std::string>{"alice"});
  EXPECT_FALSE(fx.authenticated);
  auto frames = frames_of(fx.out);
  ASSERT_EQ(frames.size(), 1u);
  ASSERT_EQ(frames[0].type, v1::FRAME_TYPE_GOAWAY);
  v1::GoAway g;
  ASSERT_TRUE(g.ParseFromString(frames[0].payload));
  EXPECT_EQ(g.reason(), v1::GO_AWAY_REASON_REDIRECT);
  EXPECT_EQ(std::vector<std::string>(g.addresses().begin(), g.addresses().end()),
            (std::vector<std::string>{"127.0.0.3:7100", "127.0.0.4:7100"}));
  EXPECT_EQ(g.reconnect_after_ms(), 0u);
  // Nothing of the user's is served meanwhile (no read, no cursor, no follow for a user that
  // never logged in here); the connection closes after the grace period.
  v1::SyncRequest req;
  req.add_cursors()->set_bucket("user");
  v1::SyncAck ack;
  auto* cursor = ack.add_cursors();
  cursor->set_bucket("user");
  cursor->set_version(1);
  v1::FollowRequest follow;
  follow.set_topic("news");
  for (auto [type, message] :
       std::vector<std::pair<v1::FrameType, const google::protobuf::MessageLite*>>{
           {v1::FRAME_TYPE_SYNC_REQ, &req},
           {v1::FRAME_TYPE_SYNC_ACK, &ack},
           {v1::FRAME_TYPE_FOLLOW, &follow}}) {
    auto ignored = feed(type, *message, 5);
    EXPECT_TRUE(ignored.out.empty()) << type;
    EXPECT_TRUE(ignored.fetches.empty()) << type;
    EXPECT_TRUE(ignored.sync_acks.empty()) << type;
    EXPECT_TRUE(ignored.follow_requests.empty()) << type;
    EXPECT_FALSE(ignored.close) << type;
  }
  session_effects later;
  machine_->on_tick(at(400), later);
  EXPECT_EQ(later.close, gateway_errc::redirected);
}

TEST_F(SessionMachineTest, AUserOfThisZoneLogsIn) {
  ctx_.zone_redirect = [](const std::string&) { return std::vector<std::string>{}; };
  login();
}

TEST_F(SessionMachineTest, ReservedFrameTypesAreNotServedYet) {
  login();
  std::string bytes;
  protocol::append_frame(v1::FRAME_TYPE_RPC_REQ, 0, 1, 0, "", bytes);
  EXPECT_EQ(error_of(feed_bytes(bytes, 5)).code(), v1::ERROR_CODE_UNEXPECTED_FRAME);
}

// The buckets of fetches, sorted, for comparing a level regardless of order.
std::vector<std::string> buckets_of(const std::vector<sync_fetch>& fetches) {
  std::vector<std::string> out;
  for (const auto& f : fetches) {
    out.push_back(f.bucket);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A SYNC_REQ whose only cursor is `bucket` at `version`.
v1::SyncRequest sync_request_at(const std::string& bucket, uint64_t version) {
  v1::SyncRequest req;
  auto* cursor = req.add_cursors();
  cursor->set_bucket(bucket);
  cursor->set_version(version);
  return req;
}

// A page of `bucket` holding only `version`, with more to read after it.
sync_page full_page(const std::string& bucket, uint64_t version) {
  sync_page page;
  page.bucket = bucket;
  page.more = true;
  page.records.resize(1);
  page.records[0].version = version;
  return page;
}

TEST_F(SessionMachineTest, SyncReadsBucketsByPriorityHighestFirst) {
  auto sync = default_sync_config();
  for (auto& b : sync.buckets) {
    b.priority = b.name == "once" ? 10 : b.name == "user" || b.name == "device" ? 5 : 0;
  }
  ctx_.set_sync(std::make_shared<const sync_config>(sync));
  login();
  auto req = sync_request_at("user", 7);
  auto fx = feed(v1::FRAME_TYPE_SYNC_REQ, req, 10);
  ASSERT_EQ(buckets_of(fx.fetches), (std::vector<std::string>{"once"}));
  auto once = fx.fetches[0];
  EXPECT_EQ(once.owner, "alice");

  // A full page: the next page of the same bucket, nothing of the lower levels yet.
  auto page = full_page("once", 3);
  session_effects next;
  machine_->on_fetched(once, page, at(11), next);
  ASSERT_EQ(next.fetches.size(), 1u);
  EXPECT_EQ(next.fetches[0].after, 3u);
  EXPECT_EQ(frames_of(next.out).at(0).type, v1::FRAME_TYPE_SYNC_DATA);

  // Caught up: the priority-5 level starts, with the client's cursor.
  page.more = false;
  session_effects level2;
  machine_->on_fetched(next.fetches[0], page, at(12), level2);
  ASSERT_EQ(buckets_of(level2.fetches), (std::vector<std::string>{"device", "user"}));
  for (const auto& f : level2.fetches) {
    EXPECT_EQ(f.after, f.bucket == "user" ? 7u : 0u);
    EXPECT_EQ(f.owner, f.bucket == "user" ? "alice" : "dev-1");
  }
  // One of the level fails, the other answers: the rest (priority 0) starts after both.
  session_effects failed;
  machine_->on_fetch_failed(level2.fetches[0], at(12), failed);
  EXPECT_TRUE(failed.fetches.empty());
  page.bucket = level2.fetches[1].bucket;
  session_effects level3;
  machine_->on_fetched(level2.fetches[1], page, at(13), level3);
  EXPECT_EQ(buckets_of(level3.fetches),
            (std::vector<std::string>{"global", "multi_device", "once_device"}));

  // A newer SYNC_REQ supersedes: answers of the old round send data but start nothing.
  auto again = feed(v1::FRAME_TYPE_SYNC_REQ, req, 20);
  ASSERT_EQ(buckets_of(again.fetches), (std::vector<std::string>{"once"}));
  session_effects stale;
  page.bucket = level3.fetches[0].bucket;
  page.more = true;
  machine_->on_fetched(level3.fetches[0], page, at(21), stale);
  EXPECT_TRUE(stale.fetches.empty());
  EXPECT_FALSE(stale.out.empty());
}

// A read that fails (its shard failing over, its replica unable to vouch for the head) is
// made again after a backoff, not dropped: an op acknowledged meanwhile, whose online push
// the session missed while it connected, would otherwise wait for the client's next SYNC_REQ.
TEST_F(SessionMachineTest, AFailedReadIsMadeAgainAfterABackoffUntilANewerSyncReqTakesOver) {
  ctx_.set_sync(std::make_shared<const sync_config>(default_sync_config()));
  login();
  auto req = sync_request_at("user", 7);
  auto fx = feed(v1::FRAME_TYPE_SYNC_REQ, req, 10);
  auto user = std::find_if(fx.fetches.begin(), fx.fetches.end(),
                           [](const auto& f) { return f.bucket == "user"; });
  ASSERT_NE(user, fx.fetches.end());

  session_effects failed;
  machine_->on_fetch_failed(*user, at(11), failed);
  EXPECT_TRUE(failed.fetches.empty());
  EXPECT_EQ(machine_->next_deadline(), 11 + read_retry_min_ms);
  session_effects early;
  machine_->on_tick(at(210), early);
  EXPECT_TRUE(early.fetches.empty());
  session_effects due;
  machine_->on_tick(at(211), due);
  ASSERT_EQ(due.fetches.size(), 1u);
  EXPECT_EQ(due.fetches[0].bucket, "user");
  EXPECT_EQ(due.fetches[0].after, 7u);  // the same read: the client's cursor did not move
  EXPECT_TRUE(due.fetches[0].retry);

  // It fails again: the backoff doubles.
  session_effects again;
  machine_->on_fetch_failed(due.fetches[0], at(215), again);
  EXPECT_EQ(machine_->next_deadline(), 215 + 2 * read_retry_min_ms);
  session_effects second;
  machine_->on_tick(at(615), second);
  ASSERT_EQ(second.fetches.size(), 1u);
  EXPECT_EQ(second.fetches[0].failures, 2u);

  // It succeeds: a SYNC_DATA frame; a full page is followed by the next, still a retry.
  auto page = full_page("user", 8);
  session_effects answered;
  machine_->on_fetched(second.fetches[0], page, at(620), answered);
  EXPECT_EQ(frames_of(answered.out).at(0).type, v1::FRAME_TYPE_SYNC_DATA);
  ASSERT_EQ(answered.fetches.size(), 1u);
  EXPECT_EQ(answered.fetches[0].after, 8u);
  EXPECT_TRUE(answered.fetches[0].retry);

  // A retry still waiting when a newer SYNC_REQ arrives is dropped: that round reads anew.
  session_effects third;
  machine_->on_fetch_failed(answered.fetches[0], at(630), third);
  auto newer = feed(v1::FRAME_TYPE_SYNC_REQ, req, 640);
  EXPECT_FALSE(newer.fetches.empty());
  session_effects late;
  machine_->on_tick(at(5'000), late);
  EXPECT_TRUE(late.fetches.empty());
}

}  // namespace
}  // namespace tidegate::actors
