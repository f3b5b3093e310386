#include "bench/fanout/mqtt_protocol.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace tidegate::bench {
namespace {

mqtt_packet frame(const std::string& wire) {
  mqtt_packet p;
  size_t used = 0;
  std::string why;
  EXPECT_EQ(next_mqtt_packet(wire, p, used, why), mqtt_frame::packet) << why;
  EXPECT_EQ(used, wire.size());
  return p;
}

TEST(MqttProtocolTest, ConnectIsMqtt311WithACleanSession) {
  std::string out;
  append_mqtt_connect(out, {"tidegate-probe", 60});
  EXPECT_EQ(out, std::string("\x10\x1a\x00\x04MQTT\x04\x02\x00\x3c\x00\x0etidegate-probe", 28));
  mqtt_connect c;
  std::string why;
  ASSERT_TRUE(decode_mqtt_connect(frame(out), c, why)) << why;
  EXPECT_EQ(c.client_id, "tidegate-probe");
  EXPECT_EQ(c.keepalive_s, 60);
}

TEST(MqttProtocolTest, SmallPacketsHaveTheirFixedBytes) {
  std::string out;
  append_mqtt_subscribe(out, {1, "a/b", 1});
  EXPECT_EQ(out, std::string("\x82\x08\x00\x01\x00\x03"
                             "a/b\x01",
                             10));
  out.clear();
  append_mqtt_puback(out, 0x1234);
  EXPECT_EQ(out, std::string("\x40\x02\x12\x34", 4));
  out.clear();
  append_mqtt_pingreq(out);
  EXPECT_EQ(out, std::string("\xc0\x00", 2));
  out.clear();
  append_mqtt_connack(out, {false, 5});
  EXPECT_EQ(out, std::string("\x20\x02\x00\x05", 4));
}

TEST(MqttProtocolTest, EveryPacketDecodesToWhatWasEncoded) {
  std::string why;
  std::string out;
  append_mqtt_subscribe(out, {7, "bench/fanout", 1});
  mqtt_subscription sub;
  ASSERT_TRUE(decode_mqtt_subscribe(frame(out), sub, why)) << why;
  EXPECT_EQ(sub.packet_id, 7);
  EXPECT_EQ(sub.topic, "bench/fanout");
  EXPECT_EQ(sub.qos, 1);

  out.clear();
  append_mqtt_suback(out, {7, {}, 0x80});
  ASSERT_TRUE(decode_mqtt_suback(frame(out), sub, why)) << why;
  EXPECT_EQ(sub.packet_id, 7);
  EXPECT_EQ(sub.qos, 0x80);

  out.clear();
  append_mqtt_connack(out, {true, 0});
  mqtt_connack ack;
  ASSERT_TRUE(decode_mqtt_connack(frame(out), ack, why)) << why;
  EXPECT_TRUE(ack.session_present);
  EXPECT_EQ(ack.return_code, 0);

  out.clear();
  append_mqtt_puback(out, 65535);
  uint16_t id = 0;
  ASSERT_TRUE(decode_mqtt_puback(frame(out), id, why)) << why;
  EXPECT_EQ(id, 65535);

  const std::string payload(300, 'p');  // remaining length in 2 bytes
  for (uint8_t qos : {0, 1, 2}) {
    out.clear();
    append_mqtt_publish(out, {qos, qos == 1, qos == 2, "t", 42, payload});
    mqtt_publish pub;
    ASSERT_TRUE(decode_mqtt_publish(frame(out), pub, why)) << why;
    EXPECT_EQ(pub.qos, qos);
    EXPECT_EQ(pub.dup, qos == 1);
    EXPECT_EQ(pub.retain, qos == 2);
    EXPECT_EQ(pub.topic, "t");
    EXPECT_EQ(pub.packet_id, qos > 0 ? 42 : 0);
    EXPECT_EQ(pub.payload, payload);
  }
}

TEST(MqttProtocolTest, AStreamSplitAtEveryByteFramesTheSamePackets) {
  std::string wire;
  append_mqtt_connack(wire, {false, 0});
  append_mqtt_suback(wire, {1, {}, 1});
  append_mqtt_publish(wire, {1, false, false, "bench/fanout", 9, std::string(200, 'x')});
  append_mqtt_pingreq(wire);
  append_mqtt_publish(wire, {0, false, false, "bench/fanout", 0, "hi"});
  const std::vector<mqtt_type> types{mqtt_type::connack, mqtt_type::suback, mqtt_type::publish,
                                     mqtt_type::pingreq, mqtt_type::publish};
  for (size_t split = 0; split <= wire.size(); ++split) {
    std::string buffer;
    std::vector<mqtt_type> got;
    for (auto chunk : {wire.substr(0, split), wire.substr(split)}) {
      buffer += chunk;
      for (;;) {
        mqtt_packet p;
        size_t used = 0;
        std::string why;
        auto r = next_mqtt_packet(buffer, p, used, why);
        ASSERT_NE(r, mqtt_frame::malformed) << why;
        if (r == mqtt_frame::need_more) {
          break;
        }
        got.push_back(p.type);
        buffer.erase(0, used);
      }
    }
    EXPECT_EQ(got, types) << "split at " << split;
    EXPECT_TRUE(buffer.empty());
  }
}

TEST(MqttProtocolTest, BadFramesAndBodiesAreErrors) {
  mqtt_packet p;
  size_t used = 0;
  std::string why;
  EXPECT_EQ(next_mqtt_packet(std::string("\x00\x00", 2), p, used, why), mqtt_frame::malformed);
  EXPECT_EQ(next_mqtt_packet(std::string("\xf0\x00", 2), p, used, why), mqtt_frame::malformed);
  EXPECT_EQ(next_mqtt_packet("\x30\xff\xff\xff\xff\x01", p, used, why), mqtt_frame::malformed);
  EXPECT_EQ(why, "MQTT remaining length longer than 4 bytes");
  EXPECT_EQ(next_mqtt_packet("\x30\xff\xff\xff\x7f", p, used, why), mqtt_frame::malformed);
  EXPECT_EQ(why, "MQTT packet of 268435455 bytes, more than 1 MiB");
  EXPECT_EQ(next_mqtt_packet("\x30\xff", p, used, why), mqtt_frame::need_more);

  auto body = [](const std::string& wire) { return frame(wire); };
  mqtt_connack ack;
  EXPECT_FALSE(decode_mqtt_connack(body(std::string("\x20\x01\x00", 3)), ack, why));
  EXPECT_FALSE(decode_mqtt_connack(body(std::string("\x90\x03\x00\x01\x00", 5)), ack, why));
  EXPECT_EQ(why, "expected packet type 2, got 9");
  mqtt_publish pub;
  EXPECT_FALSE(decode_mqtt_publish(body(std::string("\x36\x02\x00\x00", 4)), pub, why));
  EXPECT_EQ(why, "PUBLISH with QoS 3");
  EXPECT_FALSE(decode_mqtt_publish(body(std::string("\x32\x03\x00\x01t", 5)), pub, why));
  EXPECT_EQ(why, "PUBLISH too short");
  mqtt_subscription sub;
  EXPECT_FALSE(decode_mqtt_suback(body(std::string("\x90\x03\x00\x01\x07", 5)), sub, why));
  uint16_t id = 0;
  EXPECT_FALSE(decode_mqtt_puback(body(std::string("\x40\x03\x00\x01\x00", 5)), id, why));
}

}  // namespace
}  // namespace tidegate::bench
