#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// A Tidegate follower for the fan-out harness, speaking MMTP (docs/protocol.md): HELLO in
/// the foreground, AUTH as its user, and a SYNC_REQ; then every SyncData page of `topic`
/// reports its messages' sequence numbers. It acks every 16 frames, as the SDK does by default
/// (the SDK also acks 200 ms after the last frame; this codec has no timer, which is fine for
/// a run that keeps messages flowing, shorter than the 60 s ack deadline). Ready once
/// AUTH_OK arrived: the session registered with the node's relay before answering the sync,
/// so later messages reach it live and earlier ones from the log. Subscriber side only.
std::unique_ptr<fanout_codec> make_mmtp_fanout_codec(std::string app_id, std::string device,
                                                     std::string token, std::string topic);

}  // namespace tidegate::bench
