// libFuzzer target: the oplog record decoder (storage/oplog_record.h) never crashes, never
// over-allocates, and whatever it accepts encodes back to a record that decodes the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "storage/oplog_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tidegate::storage;
  auto decoded = decode_record({reinterpret_cast<const char*>(data), size});
  if (!decoded) {
    return 0;
  }
  auto encoded = encode_record(*decoded);
  if (!encoded) {
    return 0;  // e.g. a field the encoder refuses as too long
  }
  auto again = decode_record(*encoded);
  if (!again || again->version != decoded->version || again->payload != decoded->payload
      || again->owner != decoded->owner || again->business != decoded->business) {
    std::abort();
  }
  return 0;
}
