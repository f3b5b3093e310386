#include "bench/fanout/mqtt_codec.h"

#include <string>

#include <gtest/gtest.h>

#include "bench/fanout/fanout_payload.h"
#include "bench/fanout/mqtt_protocol.h"
#include "bench/fanout/recording_sink.h"

namespace tidegate::bench {
namespace {

std::string publish(uint64_t seq, uint8_t qos, uint16_t id) {
  std::string payload;
  make_fanout_payload(seq, 100, payload);
  std::string out;
  append_mqtt_publish(out, {qos, false, false, "bench/fanout", id, payload});
  return out;
}

TEST(MqttCodecTest, SubscriberConnectsAndSubscribesInOneWrite) {
  auto codec = make_mqtt_codec("bench/fanout", 1, 12);
  std::string out;
  codec->append_handshake(out);
  std::string expected;
  append_mqtt_connect(expected, {"tidegate-fanout-12", 65535});
  append_mqtt_subscribe(expected, {1, "bench/fanout", 1});
  EXPECT_EQ(out, expected);
}

TEST(MqttCodecTest, Qos1SubscriberStreamSplitAtEveryByteAcksEveryMessage) {
  std::string wire;
  append_mqtt_connack(wire, {false, 0});
  append_mqtt_suback(wire, {1, {}, 1});
  wire += publish(5, 1, 300) + publish(6, 1, 301) + publish(7, 0, 0);
  std::string acks;
  append_mqtt_puback(acks, 300);
  append_mqtt_puback(acks, 301);
  auto make = [] { return make_mqtt_codec("bench/fanout", 1, 0); };
  for (size_t split = 0; split <= wire.size() + 1; ++split) {
    auto c = consume_split(make, false, wire, split);
    ASSERT_EQ(c.error, "") << "split at " << split;
    EXPECT_EQ(c.sink.ready, 1) << "split at " << split;  // at SUBACK, not CONNACK
    EXPECT_EQ(c.sink.messages, (std::vector<uint64_t>{5, 6, 7})) << "split at " << split;
    EXPECT_EQ(c.out, acks) << "split at " << split;
  }
}

TEST(MqttCodecTest, Qos1PublisherCountsPubacks) {
  auto codec = make_mqtt_codec("bench/fanout", 1, 1000);
  std::string out;
  codec->append_publish(out, 65535, "0000000000000000");  // ids wrap past 65535, skipping 0
  mqtt_packet p;
  size_t used = 0;
  std::string why;
  ASSERT_EQ(next_mqtt_packet(out, p, used, why), mqtt_frame::packet);
  mqtt_publish pub;
  ASSERT_TRUE(decode_mqtt_publish(p, pub, why));
  EXPECT_EQ(pub.packet_id, 1);
  EXPECT_TRUE(codec->answers_publishes());
  EXPECT_EQ(codec->max_unanswered_publishes(), 32768u);
  EXPECT_FALSE(make_mqtt_codec("t", 0, 0)->answers_publishes());

  std::string wire;
  append_mqtt_connack(wire, {false, 0});
  append_mqtt_puback(wire, 1);
  append_mqtt_puback(wire, 2);
  auto make = [] { return make_mqtt_codec("bench/fanout", 1, 1000); };
  for (size_t split = 0; split <= wire.size() + 1; ++split) {
    auto c = consume_split(make, true, wire, split);
    ASSERT_EQ(c.error, "") << "split at " << split;
    EXPECT_EQ(c.sink.ready, 1) << "split at " << split;  // at CONNACK
    EXPECT_EQ(c.sink.replies, (std::vector<std::string>{"ok", "ok"})) << "split at " << split;
  }
}

TEST(MqttCodecTest, RefusalsAndBadPacketsAreErrors) {
  auto feed = [](const std::string& wire) {
    auto codec = make_mqtt_codec("bench/fanout", 0, 0);
    std::string out;
    codec->append_handshake(out);
    recording_sink sink;
    EXPECT_FALSE(codec->consume(wire, sink, out));
    EXPECT_FALSE(codec->consume(std::string("\xd0\x00", 2), sink, out));  // stays broken
    return codec->error();
  };
  std::string refused;
  append_mqtt_connack(refused, {false, 5});
  EXPECT_EQ(feed(refused), "CONNACK refused the connection, return code 5");
  std::string denied;
  append_mqtt_suback(denied, {1, {}, 0x80});
  EXPECT_EQ(feed(denied), "SUBACK refused the subscription to bench/fanout");
  EXPECT_EQ(feed(publish(1, 2, 9)), "PUBLISH at QoS 2, which was not asked for");
  std::string no_seq;
  append_mqtt_publish(no_seq, {0, false, false, "bench/fanout", 0, "hello"});
  EXPECT_EQ(feed(no_seq), "PUBLISH payload without a sequence number");
  EXPECT_EQ(feed(std::string("\xb0\x02\x00\x01", 4)), "unexpected MQTT packet type 11");
  EXPECT_EQ(feed(std::string("\x00\x00", 2)), "reserved MQTT packet type 0");
}

}  // namespace
}  // namespace tidegate::bench
