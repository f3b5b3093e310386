#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// MQTT 3.1.1 on `topic` at QoS `qos` (0 or 1), clean sessions, client ids
/// "tidegate-fanout-<index>". A subscriber sends CONNECT and SUBSCRIBE and is ready at a
/// granting SUBACK; it answers each QoS 1 PUBLISH with PUBACK. The publisher sends CONNECT, is
/// ready at CONNACK, then PUBLISHes; at QoS 1 each is answered by PUBACK, and packet ids limit
/// the unanswered ones to 32,768.
std::unique_ptr<fanout_codec> make_mqtt_codec(std::string topic, uint8_t qos, uint32_t index);

}  // namespace tidegate::bench
