#pragma once

#include <cstdint>
#include <memory>

#include "bench/fanout/fanout_codec.h"
#include "bench/fanout/fanout_publisher.h"

namespace tidegate::bench {

/// A fanout_publisher over one TCP connection to 127.0.0.1:`port` that speaks the publisher
/// side of `codec`: its handshake in start(), then its publishes and their answers.
std::unique_ptr<fanout_publisher> make_socket_publisher(uint16_t port,
                                                        std::unique_ptr<fanout_codec> codec);

}  // namespace tidegate::bench
