#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// MQTT 3.1.1 control packet types (the fixed header's high nibble).
enum class mqtt_type : uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  subscribe = 8,
  suback = 9,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
};

/// Larger packets are refused as malformed: ours are far smaller.
constexpr size_t max_mqtt_packet = size_t{1} << 20;

/// One control packet: the fixed header's type and flags, and the rest (variable header and
/// payload) as a view into the caller's buffer, valid while that buffer is.
struct mqtt_packet {
  mqtt_type type = mqtt_type::pingresp;
  uint8_t flags = 0;  ///< The fixed header's low nibble.
  std::string_view body;
};

/// What next_mqtt_packet() found.
enum class mqtt_frame : uint8_t {
  packet,     ///< A whole packet at the front; `used` is its size.
  need_more,  ///< The data ends inside the packet.
  malformed,  ///< Bad remaining length, a reserved type or a packet over max_mqtt_packet.
};

/// Frames the packet at the front of `data`; `why` says what was wrong when malformed.
mqtt_frame next_mqtt_packet(std::string_view data, mqtt_packet& out, size_t& used,
                            std::string& why);

/// CONNECT, protocol level 4 (3.1.1), clean session, no will, no credentials.
struct mqtt_connect {
  std::string_view client_id;
  uint16_t keepalive_s = 0;
};
/// CONNACK: return code 0 is accepted.
struct mqtt_connack {
  bool session_present = false;
  uint8_t return_code = 0;
};
/// SUBSCRIBE or SUBACK of one topic filter: `qos` asked or granted (0x80: refused).
struct mqtt_subscription {
  uint16_t packet_id = 0;
  std::string_view topic;  ///< SUBSCRIBE only.
  uint8_t qos = 0;
};
/// PUBLISH; `packet_id` only for QoS 1 and 2.
struct mqtt_publish {
  uint8_t qos = 0;
  bool dup = false;
  bool retain = false;
  std::string_view topic;
  uint16_t packet_id = 0;
  std::string_view payload;
};

void append_mqtt_connect(std::string& out, const mqtt_connect& connect);
void append_mqtt_connack(std::string& out, const mqtt_connack& connack);
void append_mqtt_subscribe(std::string& out, const mqtt_subscription& subscription);
void append_mqtt_suback(std::string& out, const mqtt_subscription& subscription);
void append_mqtt_publish(std::string& out, const mqtt_publish& publish);
void append_mqtt_puback(std::string& out, uint16_t packet_id);
void append_mqtt_pingreq(std::string& out);

/// Decoders of a framed packet's body: false, with `why` set, if it is not a valid packet of
/// that type. Views point into the packet's body.
bool decode_mqtt_connect(const mqtt_packet& p, mqtt_connect& out, std::string& why);
bool decode_mqtt_connack(const mqtt_packet& p, mqtt_connack& out, std::string& why);
bool decode_mqtt_subscribe(const mqtt_packet& p, mqtt_subscription& out, std::string& why);
bool decode_mqtt_suback(const mqtt_packet& p, mqtt_subscription& out, std::string& why);
bool decode_mqtt_publish(const mqtt_packet& p, mqtt_publish& out, std::string& why);
bool decode_mqtt_puback(const mqtt_packet& p, uint16_t& packet_id, std::string& why);

}  // namespace tidegate::bench
