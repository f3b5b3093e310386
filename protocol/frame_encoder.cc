#include "protocol/frame_encoder.h"

#include "protocol/zstd_codec.h"

namespace tidegate::protocol {

void frame_encoder::encode(v1::FrameType type, uint8_t channel, uint64_t seq, uint8_t flags,
                           const google::protobuf::MessageLite& message, std::string& out) {
  scratch_.clear();
  message.AppendToString(&scratch_);
  encode_payload(type, channel, seq, flags, scratch_, out);
  if (scratch_.capacity() > 4096) {
    std::string{}.swap(scratch_);  // do not keep a large buffer per connection
  }
}

void frame_encoder::encode_payload(v1::FrameType type, uint8_t channel, uint64_t seq, uint8_t flags,
                                   std::string_view payload, std::string& out) {
  flags &= static_cast<uint8_t>(~flag_compressed);
  if (payload.size() >= options_.compression_threshold && !payload.empty()) {
    std::string compressed;
    zstd_compress(payload, options_.compression_level, options_.dictionary, compressed);
    if (compressed.size() < payload.size()) {
      append_frame(type, flags | flag_compressed, channel, seq, compressed, out);
      return;
    }
  }
  append_frame(type, flags, channel, seq, payload, out);
}

}  // namespace tidegate::protocol
