#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "bench/peers/loopback_socket.h"
#include "bench/peers/pipeline.h"

namespace tidegate::bench {

/// Creates the JetStream stream "bench" (file storage, subjects "bench.>") on the nats-server at
/// 127.0.0.1:`port`, asking again each second until `deadline` while JetStream starts up.
/// Returns "" once created, else why not.
std::string nats_create_stream(uint16_t port, std::chrono::steady_clock::time_point deadline);

/// Connects publisher `index`: CONNECT, SUB to its reply inbox, then PING and waits for the
/// PONG, so the server holds the subscription before the first publish. nullopt, with `error`
/// set, if that did not happen by `deadline`.
std::optional<loopback_socket> nats_connect_publisher(
    uint16_t port, uint32_t index, std::chrono::steady_clock::time_point deadline,
    std::string& error);

/// Publisher `index`'s framing: `PUB bench.u<owner> <inbox> <n>` with a payload of
/// `shape.payload_bytes`; each JetStream PubAck on the inbox is one acked op, an error ack one
/// failed op.
std::unique_ptr<pipeline_codec> make_nats_codec(uint32_t index, const publish_shape& shape);

}  // namespace tidegate::bench
