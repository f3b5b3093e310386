#include "bench/fanout/mqtt_protocol.h"

namespace tidegate::bench {
namespace {

constexpr uint8_t clean_session = 0x02;
constexpr uint8_t protocol_level = 4;  // 3.1.1

void append_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

void append_str(std::string& out, std::string_view s) {
  append_u16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

void append_fixed_header(std::string& out, uint8_t first, size_t remaining) {
  out.push_back(static_cast<char>(first));
  do {
    auto byte = static_cast<uint8_t>(remaining & 0x7f);
    remaining >>= 7;
    if (remaining > 0) {
      byte |= 0x80;
    }
    out.push_back(static_cast<char>(byte));
  } while (remaining > 0);
}

uint8_t first_byte(mqtt_type type, uint8_t flags) {
  return static_cast<uint8_t>(static_cast<uint8_t>(type) << 4 | flags);
}

/// Reads a body front to back; every read fails once it would pass the end.
class reader {
 public:
  explicit reader(std::string_view body) : rest_(body) {}
  bool u8(uint8_t& v) {
    if (rest_.empty()) {
      return false;
    }
    v = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }
  bool u16(uint16_t& v) {
    uint8_t hi = 0;
    uint8_t lo = 0;
    if (rest_.size() < 2 || !u8(hi) || !u8(lo)) {
      return false;
    }
    v = static_cast<uint16_t>(hi << 8 | lo);
    return true;
  }
  bool str(std::string_view& v) {
    uint16_t n = 0;
    if (!u16(n) || rest_.size() < n) {
      return false;
    }
    v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

bool expect(const mqtt_packet& p, mqtt_type type, std::string& why) {
  if (p.type != type) {
    why = "expected packet type " + std::to_string(static_cast<int>(type)) + ", got "
          + std::to_string(static_cast<int>(p.type));
    return false;
  }
  return true;
}

bool bad(std::string& why, const char* what) {
  why = what;
  return false;
}

}  // namespace

mqtt_frame next_mqtt_packet(std::string_view data, mqtt_packet& out, size_t& used,
                            std::string& why) {
  if (data.empty()) {
    return mqtt_frame::need_more;
  }
  auto first = static_cast<uint8_t>(data[0]);
  auto type = first >> 4;
  if (type == 0 || type == 15) {
    why = "reserved MQTT packet type " + std::to_string(type);
    return mqtt_frame::malformed;
  }
  size_t remaining = 0;
  size_t at = 1;
  for (int shift = 0;; shift += 7) {
    if (at >= data.size()) {
      return mqtt_frame::need_more;
    }
    auto byte = static_cast<uint8_t>(data[at++]);
    remaining |= static_cast<size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      break;
    }
    if (at == 5) {
      why = "MQTT remaining length longer than 4 bytes";
      return mqtt_frame::malformed;
    }
  }
  if (remaining > max_mqtt_packet) {
    why = "MQTT packet of " + std::to_string(remaining) + " bytes, more than 1 MiB";
    return mqtt_frame::malformed;
  }
  if (data.size() - at < remaining) {
    return mqtt_frame::need_more;
  }
  out.type = static_cast<mqtt_type>(type);
  out.flags = first & 0x0f;
  out.body = data.substr(at, remaining);
  used = at + remaining;
  return mqtt_frame::packet;
}

void append_mqtt_connect(std::string& out, const mqtt_connect& connect) {
  append_fixed_header(out, first_byte(mqtt_type::connect, 0), 10 + 2 + connect.client_id.size());
  append_str(out, "MQTT");
  out.push_back(static_cast<char>(protocol_level));
  out.push_back(static_cast<char>(clean_session));
  append_u16(out, connect.keepalive_s);
  append_str(out, connect.client_id);
}

void append_mqtt_connack(std::string& out, const mqtt_connack& connack) {
  append_fixed_header(out, first_byte(mqtt_type::connack, 0), 2);
  out.push_back(static_cast<char>(connack.session_present ? 1 : 0));
  out.push_back(static_cast<char>(connack.return_code));
}

void append_mqtt_subscribe(std::string& out, const mqtt_subscription& subscription) {
  append_fixed_header(out, first_byte(mqtt_type::subscribe, 0x02),
                      2 + 2 + subscription.topic.size() + 1);
  append_u16(out, subscription.packet_id);
  append_str(out, subscription.topic);
  out.push_back(static_cast<char>(subscription.qos));
}

void append_mqtt_suback(std::string& out, const mqtt_subscription& subscription) {
  append_fixed_header(out, first_byte(mqtt_type::suback, 0), 3);
  append_u16(out, subscription.packet_id);
  out.push_back(static_cast<char>(subscription.qos));
}

void append_mqtt_publish(std::string& out, const mqtt_publish& publish) {
  auto flags = static_cast<uint8_t>((publish.dup ? 0x08 : 0) | (publish.qos & 0x03) << 1
                                    | (publish.retain ? 0x01 : 0));
  append_fixed_header(
      out, first_byte(mqtt_type::publish, flags),
      2 + publish.topic.size() + (publish.qos > 0 ? 2 : 0) + publish.payload.size());
  append_str(out, publish.topic);
  if (publish.qos > 0) {
    append_u16(out, publish.packet_id);
  }
  out.append(publish.payload);
}

void append_mqtt_puback(std::string& out, uint16_t packet_id) {
  append_fixed_header(out, first_byte(mqtt_type::puback, 0), 2);
  append_u16(out, packet_id);
}

void append_mqtt_pingreq(std::string& out) {
  append_fixed_header(out, first_byte(mqtt_type::pingreq, 0), 0);
}

bool decode_mqtt_connect(const mqtt_packet& p, mqtt_connect& out, std::string& why) {
  if (!expect(p, mqtt_type::connect, why)) {
    return false;
  }
  reader r{p.body};
  std::string_view name;
  uint8_t level = 0;
  uint8_t flags = 0;
  if (!r.str(name) || !r.u8(level) || !r.u8(flags) || !r.u16(out.keepalive_s)
      || !r.str(out.client_id)) {
    return bad(why, "CONNECT too short");
  }
  if (name != "MQTT" || level != protocol_level) {
    return bad(why, "CONNECT is not MQTT 3.1.1");
  }
  if ((flags & ~clean_session) != 0 || !r.rest().empty()) {
    return bad(why, "CONNECT with a will, credentials or reserved flags");
  }
  return true;
}

bool decode_mqtt_connack(const mqtt_packet& p, mqtt_connack& out, std::string& why) {
  if (!expect(p, mqtt_type::connack, why)) {
    return false;
  }
  if (p.body.size() != 2 || (static_cast<uint8_t>(p.body[0]) & 0xfe) != 0) {
    return bad(why, "CONNACK is not 2 bytes with flags 0 or 1");
  }
  out.session_present = p.body[0] == 1;
  out.return_code = static_cast<uint8_t>(p.body[1]);
  return true;
}

bool decode_mqtt_subscribe(const mqtt_packet& p, mqtt_subscription& out, std::string& why) {
  if (!expect(p, mqtt_type::subscribe, why)) {
    return false;
  }
  reader r{p.body};
  if (p.flags != 0x02 || !r.u16(out.packet_id) || !r.str(out.topic) || !r.u8(out.qos)
      || !r.rest().empty()) {
    return bad(why, "SUBSCRIBE is not one topic filter with flags 2");
  }
  return true;
}

bool decode_mqtt_suback(const mqtt_packet& p, mqtt_subscription& out, std::string& why) {
  if (!expect(p, mqtt_type::suback, why)) {
    return false;
  }
  reader r{p.body};
  if (!r.u16(out.packet_id) || !r.u8(out.qos) || !r.rest().empty()) {
    return bad(why, "SUBACK is not one return code");
  }
  if (out.qos > 2 && out.qos != 0x80) {
    return bad(why, "SUBACK with a bad return code");
  }
  return true;
}

bool decode_mqtt_publish(const mqtt_packet& p, mqtt_publish& out, std::string& why) {
  if (!expect(p, mqtt_type::publish, why)) {
    return false;
  }
  out.dup = (p.flags & 0x08) != 0;
  out.qos = (p.flags >> 1) & 0x03;
  out.retain = (p.flags & 0x01) != 0;
  if (out.qos == 3) {
    return bad(why, "PUBLISH with QoS 3");
  }
  reader r{p.body};
  if (!r.str(out.topic) || (out.qos > 0 && !r.u16(out.packet_id))) {
    return bad(why, "PUBLISH too short");
  }
  out.payload = r.rest();
  return true;
}

bool decode_mqtt_puback(const mqtt_packet& p, uint16_t& packet_id, std::string& why) {
  if (!expect(p, mqtt_type::puback, why)) {
    return false;
  }
  reader r{p.body};
  if (!r.u16(packet_id) || !r.rest().empty()) {
    return bad(why, "PUBACK is not 2 bytes");
  }
  return true;
}

}  // namespace tidegate::bench
