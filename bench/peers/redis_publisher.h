#pragma once

#include <cstdint>
#include <memory>

#include "bench/peers/pipeline.h"

namespace tidegate::bench {

/// Publisher `index`'s framing: `XADD bench:u<owner> * p <payload>` with a payload of
/// `shape.payload_bytes`; each bulk-string reply (the entry id) is one acked op, an error reply
/// one failed op.
std::unique_ptr<pipeline_codec> make_redis_codec(uint32_t index, const publish_shape& shape);

}  // namespace tidegate::bench
