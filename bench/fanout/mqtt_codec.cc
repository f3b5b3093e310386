#include "bench/fanout/mqtt_codec.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "bench/fanout/fanout_payload.h"
#include "bench/fanout/mqtt_protocol.h"

namespace tidegate::bench {
namespace {

// The longest keepalive MQTT allows (about 18 h): no run lasts that long, so no connection
// needs PINGREQs to stay open.
constexpr uint16_t keepalive_s = 65535;
constexpr uint16_t subscribe_packet_id = 1;
constexpr uint64_t packet_ids = 65535;  // 1..65535; 0 is not a packet id

class mqtt_codec final : public stream_codec {
 public:
  mqtt_codec(std::string topic, uint8_t qos, uint32_t index)
      : topic_(std::move(topic)),
        qos_(qos),
        client_id_("tidegate-fanout-" + std::to_string(index)) {}

  void append_handshake(std::string& out) override {
    append_mqtt_connect(out, {client_id_, keepalive_s});
    append_mqtt_subscribe(out, {subscribe_packet_id, topic_, qos_});
    subscriber_ = true;
  }

  void append_publisher_handshake(std::string& out) override {
    append_mqtt_connect(out, {client_id_, keepalive_s});
  }

  void append_publish(std::string& out, uint64_t seq, std::string_view payload) override {
    auto id = static_cast<uint16_t>(qos_ > 0 ? seq % packet_ids + 1 : 0);
    append_mqtt_publish(out, {qos_, false, false, topic_, id, payload});
  }

  bool answers_publishes() const override { return qos_ > 0; }
  // Half the id space: an id is reused only long after its PUBACK came.
  uint64_t max_unanswered_publishes() const override { return qos_ > 0 ? 32768 : 0; }

 private:
  std::optional<size_t> parse(std::string_view data, fanout_sink& sink, std::string& out) override {
    size_t used = 0;
    std::string why;
    while (used < data.size()) {
      mqtt_packet p;
      size_t size = 0;
      auto r = next_mqtt_packet(data.substr(used), p, size, why);
      if (r == mqtt_frame::need_more) {
        return used;
      }
      if (r == mqtt_frame::malformed || !on_packet(p, sink, out, why)) {
        return fail(why);
      }
      used += size;
    }
    return used;
  }

  bool on_packet(const mqtt_packet& p, fanout_sink& sink, std::string& out, std::string& why) {
    switch (p.type) {
      case mqtt_type::publish: {
        mqtt_publish pub;
        uint64_t seq = 0;
        if (!decode_mqtt_publish(p, pub, why)) {
          return false;
        }
        if (!read_fanout_seq(pub.payload, seq)) {
          why = "PUBLISH payload without a sequence number";
          return false;
        }
        if (pub.qos == 1) {
          append_mqtt_puback(out, pub.packet_id);
        } else if (pub.qos == 2) {
          why = "PUBLISH at QoS 2, which was not asked for";
          return false;
        }
        sink.on_message(seq);
        return true;
      }
      case mqtt_type::puback: {
        uint16_t id = 0;
        if (!decode_mqtt_puback(p, id, why)) {
          return false;
        }
        sink.on_publish_reply(true, {});
        return true;
      }
      case mqtt_type::connack: {
        mqtt_connack ack;
        if (!decode_mqtt_connack(p, ack, why)) {
          return false;
        }
        if (ack.return_code != 0) {
          why = "CONNACK refused the connection, return code " + std::to_string(ack.return_code);
          return false;
        }
        if (!subscriber_) {
          sink.on_ready();
        }
        return true;
      }
      case mqtt_type::suback: {
        mqtt_subscription ack;
        if (!decode_mqtt_suback(p, ack, why)) {
          return false;
        }
        if (ack.qos == 0x80 || ack.packet_id != subscribe_packet_id) {
          why = "SUBACK refused the subscription to " + topic_;
          return false;
        }
        sink.on_ready();
        return true;
      }
      case mqtt_type::pingresp:
        return true;
      default:
        why = "unexpected MQTT packet type " + std::to_string(static_cast<int>(p.type));
        return false;
    }
  }

  std::string topic_;
  uint8_t qos_;
  std::string client_id_;
  bool subscriber_ = false;
};

}  // namespace

std::unique_ptr<fanout_codec> make_mqtt_codec(std::string topic, uint8_t qos, uint32_t index) {
  return std::make_unique<mqtt_codec>(std::move(topic), qos, index);
}

}  // namespace tidegate::bench
