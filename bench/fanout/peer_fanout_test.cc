#include "bench/fanout/peer_fanout.h"

#include <gtest/gtest.h>

#include "bench/fanout/fanout_report.h"
#include "bench/peers/peer_server.h"

namespace tidegate::bench {
namespace {

fanout_options small(uint32_t subscribers, double seconds) {
  fanout_options o;
  o.subscribers = subscribers;
  o.window = 100;
  o.warmup_s = 0.2;
  o.duration_s = seconds;
  o.setup_timeout_s = 20;
  o.drain_timeout_s = 5;
  return o;
}

void expect_every_message_everywhere(const fanout_result& r) {
  EXPECT_EQ(r.first_error, "");
  EXPECT_TRUE(r.ok()) << fanout_json(r).dump(2);
  EXPECT_EQ(r.subscribers_ready, r.options.subscribers);
  EXPECT_GT(r.published, 0u);
  EXPECT_EQ(r.completed, r.published);
  EXPECT_EQ(r.deliveries, r.published * r.options.subscribers);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.out_of_order, 0u);
  EXPECT_EQ(r.gaps, 0u);
  EXPECT_GT(r.deliveries_per_s, 0);
  EXPECT_GT(r.latency_samples, 0u);
  EXPECT_GT(r.latency_p99_ms, 0);
  EXPECT_GE(r.latency_p99_ms, r.latency_p50_ms);
}

TEST(PeerFanoutTest, NatsCoreDeliversEveryMessageToEverySubscriber) {
  if (find_program("nats-server").empty()) {
    GTEST_SKIP() << "nats-server is not installed";
  }
  auto r = run_peer_fanout(fanout_peer::nats_core, small(50, 1));
  EXPECT_EQ(r.system, "nats_core");
  expect_every_message_everywhere(r);
}

TEST(PeerFanoutTest, MosquittoAndRedisDeliverEveryMessageToEverySubscriber) {
  for (auto peer :
       {fanout_peer::mosquitto_qos0, fanout_peer::mosquitto_qos1, fanout_peer::redis_pubsub}) {
    SCOPED_TRACE(std::string{fanout_peer_name(peer)});
    auto r = run_peer_fanout(peer, small(20, 0.3));
    if (!r.skipped.empty()) {
      continue;
    }
    expect_every_message_everywhere(r);
    EXPECT_EQ(r.publish_accepted, peer == fanout_peer::mosquitto_qos0 ? 0 : r.published);
  }
}

TEST(PeerFanoutTest, MoreSubscribersThanOneProcessCanHoldIsAnError) {
  auto r = run_peer_fanout(fanout_peer::nats_core, small(max_fanout_subscribers + 1, 1));
  EXPECT_NE(r.first_error.find("subscribers must be 1..19000"), std::string::npos) << r.first_error;
  EXPECT_FALSE(r.ok());
}

TEST(PeerFanoutTest, PeersHaveReportNames) {
  for (auto peer : {fanout_peer::nats_core, fanout_peer::mosquitto_qos0,
                    fanout_peer::mosquitto_qos1, fanout_peer::redis_pubsub}) {
    EXPECT_EQ(fanout_peer_from_name(fanout_peer_name(peer)), peer);
  }
  EXPECT_FALSE(fanout_peer_from_name("kafka"));
}

}  // namespace
}  // namespace tidegate::bench
