// libFuzzer target: the shard map state decoder (cluster/shard_map.h) reads a file from disk
// at start; whatever the bytes, it returns an error or a state, never crashes or over-allocates,
// and a state it accepts encodes back to bytes that decode the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cluster/shard_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tidegate::cluster;
  std::string error;
  auto decoded = decode_map_state({reinterpret_cast<const char*>(data), size}, error);
  if (!decoded) {
    if (error.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  auto again = decode_map_state(encode_map_state(*decoded), error);
  if (!again || again->promised_term != decoded->promised_term
      || again->accepted.version != decoded->accepted.version
      || again->committed.shards != decoded->committed.shards) {
    std::abort();
  }
  return 0;
}
