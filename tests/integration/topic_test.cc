// Topics end to end (DESIGN §6): a real node with LMDB in a temp dir, topics published and
// followed through the topic directory, real client sockets that follow them.
#include <map>
#include <thread>

#include <caf/scoped_actor.hpp>
#include <gtest/gtest.h>

#include "actors/atoms.h"
#include "actors/names.h"
#include "actors/sync/sync_messages.h"
#include "actors/topics/topic_messages.h"
#include "storage/temp_dir.h"
#include "tests/support/raw_client.h"
#include "tests/support/test_node.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/sync.pb.h"
#include "tidegate/v1/topic.pb.h"

namespace tidegate::test {
namespace {

using namespace std::chrono_literals;

// What one client saw of one topic: versions in arrival order, and the last page's state.
struct topic_view {
  std::vector<uint64_t> versions;
  std::vector<std::string> payloads;
  uint64_t gone_through = 0;
  uint64_t head = 0;
  bool reset = false;
  std::vector<uint64_t> notices;
  std::vector<size_t> frame_sizes;  // messages per SYNC_DATA frame, in arrival order
};

class TopicTest : public ::testing::Test {
 protected:
  void start(actors::node_config cfg = test_node_config()) {
    cfg.storage.data_dir = dir_.path();
    node_ = start_test_node(cfg);
    ASSERT_TRUE(node_);
  }

  caf::actor directory() { return actors::topic_directory_of(node_->system()); }

  caf::expected<actors::publish_result> publish(const std::string& topic, const std::string& msg_id,
                                                const std::string& payload) {
    caf::scoped_actor self{node_->system()};
    caf::expected<actors::publish_result> result{caf::error{}};
    self->request(directory(), 10s, actors::publish_atom_v,
                  actors::topic_publish{topic, payload, msg_id, 0})
        .receive([&](actors::publish_result& r) { result = r; },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  void publish_n(const std::string& topic, int from, int to) {
    for (int i = from; i <= to; ++i) {
      auto r = publish(topic, "m" + std::to_string(i), "message " + std::to_string(i));
      ASSERT_TRUE(r) << node_->system().render(r.error());
    }
  }

  actors::follow_outcomes follow(const std::string& topic, std::vector<std::string> users,
                                 bool on = true) {
    caf::scoped_actor self{node_->system()};
    actors::follow_outcomes out;
    auto handle = on ? self->request(directory(), 10s, actors::follow_atom_v, topic, users)
                     : self->request(directory(), 10s, actors::unfollow_atom_v, topic, users);
    handle.receive([&](actors::follow_outcomes& o) { out = std::move(o); },
                   [&](caf::error& err) { ADD_FAILURE() << node_->system().render(err); });
    return out;
  }

  template <class T, class... Ts>
  T ask(Ts&&... xs) {
    caf::scoped_actor self{node_->system()};
    T out{};
    self->request(directory(), 10s, std::forward<Ts>(xs)...)
        .receive([&](T& v) { out = std::move(v); },
                 [&](caf::error& err) { ADD_FAILURE() << node_->system().render(err); });
    return out;
  }

  std::unique_ptr<raw_client> login(const std::string& device, const std::string& user,
                                    v1::AppState state = v1::APP_STATE_FOREGROUND) {
    auto c = std::make_unique<raw_client>(node_->client_port());
    EXPECT_TRUE(c->hello(device, test_app, 10'000, state));
    EXPECT_TRUE(c->auth(token_for(test_secret, test_app, user)));
    return c;
  }

  static void sync_request(raw_client& c, const std::map<std::string, uint64_t>& cursors,
                           v1::SyncReason reason = v1::SYNC_REASON_CONNECT) {
    v1::SyncRequest req;
    req.set_reason(reason);
    for (const auto& [topic, version] : cursors) {
      auto* t = req.add_topics();
      t->set_topic(topic);
      t->set_version(version);
    }
    c.send(v1::FRAME_TYPE_SYNC_REQ, req);
  }

  // Reads frames for up to `wait` (acking each when `ack`) until `topic` reached `head`.
  static void read_topic(raw_client& c, const std::string& topic, topic_view& view,
                         uint64_t until_version, std::chrono::milliseconds wait = 5s,
                         bool ack = true) {
    auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!view.versions.empty() && view.versions.back() >= until_version) {
        return;
      }
      auto f = c.next(50ms);
      if (!f) {
        continue;
      }
      if (ack && f->ack_requested()) {
        c.ack(f->seq);
      }
      if (f->type == v1::FRAME_TYPE_TOPIC_NOTICE) {
        v1::TopicNotice n;
        ASSERT_TRUE(n.ParseFromString(f->payload));
        if (n.topic() == topic) {
          view.notices.push_back(n.head_version());
        }
        continue;
      }
      if (f->type != v1::FRAME_TYPE_SYNC_DATA) {
        continue;
      }
      v1::SyncData data;
      ASSERT_TRUE(data.ParseFromString(f->payload));
      if (data.topic() != topic) {
        continue;
      }
      view.gone_through = std::max(view.gone_through, data.gone_through());
      view.head = data.head_version();
      view.reset = view.reset || data.reset();
      view.frame_sizes.push_back(static_cast<size_t>(data.ops_size()));
      for (const auto& op : data.ops()) {
        view.versions.push_back(op.version());
        view.payloads.push_back(op.payload());
      }
    }
  }

  static std::vector<uint64_t> range(uint64_t from, uint64_t to) {
    std::vector<uint64_t> out;
    for (auto v = from; v <= to; ++v) {
      out.push_back(v);
    }
    return out;
  }

  storage::temp_dir dir_;
  std::unique_ptr<actors::node> node_;
};

TEST_F(TopicTest, AFollowerReceivesEveryMessageOnceInOrderLiveAndFromItsCursor) {
  start();
  publish_n("deals", 1, 3);  // before the follow: not for this follower
  auto outcomes = follow("deals", {"alice"});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].following);
  EXPECT_TRUE(outcomes[0].changed);
  EXPECT_EQ(outcomes[0].since_version, 3u);
  publish_n("deals", 4, 6);  // while offline
  auto c = login("phone-1", "alice");
  sync_request(*c, {});
  topic_view view;
  read_topic(*c, "deals", view, 6);
  EXPECT_EQ(view.gone_through, 3u);  // the follow's start
  std::thread live([&] { publish_n("deals", 7, 40); });
  read_topic(*c, "deals", view, 40);
  live.join();
  EXPECT_EQ(view.versions, range(4, 40));
  EXPECT_EQ(view.payloads.back(), "message 40");
}

TEST_F(TopicTest, ABigTopicsCommitsWithinTheLingerReachFollowersAsOneBatchInOrder) {
  auto cfg = test_node_config();
  cfg.sync.topics.fanout_linger_followers = 1;  // this one follower makes the topic "big"
  cfg.sync.topics.fanout_linger_ms = 1000;      // far longer than five local commits take
  start(cfg);
  follow("news", {"alice"});
  auto c = login("phone-1", "alice");
  sync_request(*c, {});
  topic_view view;
  read_topic(*c, "news", view, 0, 300ms);  // the (empty) catch-up
  publish_n("news", 1, 1);
  read_topic(*c, "news", view, 1);
  ASSERT_EQ(view.versions, range(1, 1));  // after a quiet spell: sent at once
  publish_n("news", 2, 6);
  read_topic(*c, "news", view, 6);
  EXPECT_EQ(view.versions, range(1, 6));
  EXPECT_EQ(view.payloads.back(), "message 6");
  // Commits 2-6 came while the linger ran: at most one fan-out per linger carried them.
  EXPECT_LE(view.frame_sizes.size(), 3u);
}

TEST_F(TopicTest, AReconnectingFollowerCatchesUpFromItsCursorInPages) {
  auto cfg = test_node_config();
  cfg.sync.page_max_ops = 5;
  start(cfg);
  follow("news", {"bob"});
  {
    auto c = login("phone-1", "bob");
    sync_request(*c, {});
    publish_n("news", 1, 3);
    topic_view view;
    read_topic(*c, "news", view, 3);
    EXPECT_EQ(view.versions, range(1, 3));
  }
  publish_n("news", 4, 17);  // offline: 14 messages, three pages
  auto c = login("phone-1", "bob");
  sync_request(*c, {{"news", 3}});
  topic_view view;
  read_topic(*c, "news", view, 17);
  EXPECT_EQ(view.versions, range(4, 17));
}

TEST_F(TopicTest, ACursorOlderThanRetentionIsAnsweredWithReset) {
  auto cfg = test_node_config();
  cfg.sync.topics.retention.keep_count = 3;
  start(cfg);
  follow("flash", {"carol"});
  publish_n("flash", 1, 10);
  // Retention runs on the writer's maintenance tick; wait until the old ones are gone.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto page = node_->store()->read_range(actors::shard_of("flash", cfg.sync.shards),
                                           actors::topic_bucket_id, "flash", 0, 100, 1 << 20);
    if (page && page->reset) {
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  auto c = login("phone-1", "carol");
  sync_request(*c, {{"flash", 1}});
  topic_view view;
  read_topic(*c, "flash", view, 10, 2s);
  EXPECT_TRUE(view.reset);
  EXPECT_EQ(view.head, 10u);
}

TEST_F(TopicTest, APassiveFollowerGetsOneNoticeThenTheMessagesInTheForeground) {
  start();
  follow("promo", {"dave"});
  auto c = login("phone-1", "dave", v1::APP_STATE_BACKGROUND);
  sync_request(*c, {});
  topic_view view;
  read_topic(*c, "promo", view, 0, 300ms);
  publish_n("promo", 1, 5);
  read_topic(*c, "promo", view, 5, 1s);
  EXPECT_TRUE(view.versions.empty());  // passive: no messages
  ASSERT_EQ(view.notices.size(), 1u);  // one notice, not one per message
  EXPECT_EQ(view.notices[0], 1u);
  v1::Ping ping;
  ping.set_app_state(v1::APP_STATE_FOREGROUND);
  c->send(v1::FRAME_TYPE_PING, ping);
  read_topic(*c, "promo", view, 5);
  EXPECT_EQ(view.versions, range(1, 5));
  publish_n("promo", 6, 8);  // active now: live
  read_topic(*c, "promo", view, 8);
  EXPECT_EQ(view.versions, range(1, 8));
}

TEST_F(TopicTest, ASlowFollowerNeverHoldsUpTheOthersAndResyncsFromTheLog) {
  auto cfg = test_node_config();
  cfg.gateway.topic_backlog_frames = 4;
  start(cfg);
  follow("ticker", {"fast", "slow"});
  auto fast = login("phone-f", "fast");
  auto slow = login("phone-s", "slow");
  sync_request(*fast, {});
  sync_request(*slow, {});
  topic_view fast_view;
  topic_view slow_view;
  read_topic(*fast, "ticker", fast_view, 0, 200ms);
  read_topic(*slow, "ticker", slow_view, 0, 200ms);
  // The slow client reads nothing and acks nothing while 60 messages go out.
  std::thread pub([&] { publish_n("ticker", 1, 60); });
  read_topic(*fast, "ticker", fast_view, 60);
  pub.join();
  EXPECT_EQ(fast_view.versions, range(1, 60));
  // Now it reads and acks: it gets everything, in order, without a gap or a repeat.
  read_topic(*slow, "ticker", slow_view, 60);
  EXPECT_EQ(slow_view.versions, range(1, 60));
}

TEST_F(TopicTest, FollowAndUnfollowFramesChangeWhatTheClientReceives) {
  start();
  auto c = login("phone-1", "erin");
  sync_request(*c, {});
  v1::FollowRequest req;
  req.set_request_id(7);
  req.set_topic("club");
  c->send(v1::FRAME_TYPE_FOLLOW, req);
  std::optional<v1::FollowResult> result;
  for (int i = 0; i < 20 && !result; ++i) {
    auto f = c->next(1s);
    ASSERT_TRUE(f);
    c->ack(f->seq);
    if (f->type == v1::FRAME_TYPE_FOLLOW_RESULT) {
      result.emplace();
      ASSERT_TRUE(result->ParseFromString(f->payload));
    }
  }
  ASSERT_TRUE(result);
  EXPECT_EQ(result->request_id(), 7u);
  EXPECT_TRUE(result->ok());
  EXPECT_TRUE(result->following());
  publish_n("club", 1, 3);
  topic_view view;
  read_topic(*c, "club", view, 3);
  EXPECT_EQ(view.versions, range(1, 3));

  req.set_request_id(8);
  c->send(v1::FRAME_TYPE_UNFOLLOW, req);
  topic_view after;
  read_topic(*c, "club", after, 0, 300ms);
  publish_n("club", 4, 5);
  read_topic(*c, "club", after, 5, 500ms);
  EXPECT_TRUE(after.versions.empty());
  auto info = ask<actors::topic_info>(actors::info_atom_v, std::string{"club"});
  EXPECT_EQ(info.followers, 0u);
  EXPECT_EQ(info.head, 5u);

  req.set_topic("bad topic!");
  c->send(v1::FRAME_TYPE_FOLLOW, req);
  result.reset();
  for (int i = 0; i < 20 && !result; ++i) {
    auto f = c->next(1s);
    ASSERT_TRUE(f);
    c->ack(f->seq);
    if (f->type == v1::FRAME_TYPE_FOLLOW_RESULT) {
      result.emplace();
      ASSERT_TRUE(result->ParseFromString(f->payload));
    }
  }
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(result->error_code(), static_cast<uint32_t>(v1::ERROR_CODE_BAD_TOPIC));
}

TEST_F(TopicTest, ARepeatedMsgIdReturnsTheOriginalVersionAndStoresNothing) {
  start();
  ASSERT_EQ(publish("t1", "same", "a")->version, 1u);
  auto again = publish("t1", "same", "a");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->version, 1u);
  EXPECT_TRUE(again->duplicated);
  EXPECT_EQ(publish("t1", "other", "b")->version, 2u);
  EXPECT_EQ(ask<actors::topic_info>(actors::info_atom_v, std::string{"t1"}).head, 2u);
}

TEST_F(TopicTest, AnIdleTopicPassivatesAndComesBackFromStorage) {
  auto cfg = test_node_config();
  cfg.sync.topics.idle_passivate_ms = 50;
  start(cfg);
  follow("quiet", {"frank", "gina"});
  publish_n("quiet", 1, 2);
  EXPECT_EQ(ask<uint64_t>(actors::count_atom_v), 1u);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ask<uint64_t>(actors::count_atom_v) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(ask<uint64_t>(actors::count_atom_v), 0u);
  // Back on demand: versions continue, the follower count is the stored one, msg_ids are kept.
  EXPECT_EQ(publish("quiet", "m3", "x")->version, 3u);
  EXPECT_TRUE(publish("quiet", "m1", "again")->duplicated);
  auto info = ask<actors::topic_info>(actors::info_atom_v, std::string{"quiet"});
  EXPECT_EQ(info.followers, 2u);
  EXPECT_EQ(info.head, 3u);
}

TEST_F(TopicTest, TopicInfoCountsOnlineFollowersAndInterestedNodes) {
  start();
  follow("live", {"h1", "h2", "h3"});
  auto a = login("phone-a", "h1");
  auto b = login("phone-b", "h2", v1::APP_STATE_BACKGROUND);
  sync_request(*a, {});
  sync_request(*b, {});
  topic_view view;
  read_topic(*a, "live", view, 0, 300ms);
  auto info = ask<actors::topic_info>(actors::info_atom_v, std::string{"live"});
  EXPECT_EQ(info.followers, 3u);
  EXPECT_EQ(info.online_followers, 2u);
  ASSERT_EQ(info.interested_nodes.size(), 1u);
  EXPECT_EQ(info.interested_nodes[0], "test");
}

}  // namespace
}  // namespace tidegate::test
