#pragma once

#include <memory>
#include <string>

#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// NATS core publish/subscribe on `subject` (no JetStream). A subscriber sends CONNECT, SUB and
/// PING and is ready at the PONG, when the server holds its subscription; the publisher sends
/// CONNECT and PING, then PUB without a reply subject, which the server never answers. Server
/// PINGs are answered; -ERR breaks the stream.
std::unique_ptr<fanout_codec> make_nats_core_codec(std::string subject);

}  // namespace tidegate::bench
