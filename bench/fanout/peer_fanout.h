#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "bench/fanout/fanout_harness.h"

namespace tidegate::bench {

/// The systems `tidegate bench fanout` compares with, each started from its Debian package.
enum class fanout_peer : uint8_t {
  nats_core,       ///< nats-server, core publish/subscribe (no JetStream).
  mosquitto_qos0,  ///< mosquitto, MQTT 3.1.1 at QoS 0.
  mosquitto_qos1,  ///< mosquitto, MQTT 3.1.1 at QoS 1 (PUBACK both ways).
  redis_pubsub,    ///< redis-server PUBLISH/SUBSCRIBE, no persistence.
};

/// The report key: "nats_core", "mosquitto_qos0", "mosquitto_qos1", "redis_pubsub".
std::string_view fanout_peer_name(fanout_peer peer);
/// The peer a report key names, if any.
std::optional<fanout_peer> fanout_peer_from_name(std::string_view name);

/// Starts the peer's server on a free loopback port, runs run_fanout() against it with the
/// peer's codec and a socket publisher, and stops the server. When its program is missing,
/// returns a result with `skipped` set. Call from the thread that owns the benchmark's child
/// processes (see peer_server).
fanout_result run_peer_fanout(fanout_peer peer, const fanout_options& options);

}  // namespace tidegate::bench
