#pragma once

#include <memory>
#include <string>

#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// Redis PUBLISH/SUBSCRIBE on `channel` (RESP2). A subscriber sends SUBSCRIBE and is ready at
/// the ["subscribe", channel, count] reply, then reads ["message", channel, payload] pushes; the
/// publisher sends PING, is ready at +PONG, then PUBLISH, each answered by an integer (the
/// receivers) or an error.
std::unique_ptr<fanout_codec> make_redis_pubsub_codec(std::string channel);

}  // namespace tidegate::bench
