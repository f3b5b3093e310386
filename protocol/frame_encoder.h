#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/message_lite.h>

#include "protocol/frame.h"

namespace tidegate::protocol {

class zstd_dictionary;

struct encoder_options {
  /// Payloads at least this large are zstd-compressed (when that makes them smaller).
  size_t compression_threshold = 1024;
  int compression_level = 1;
  /// Dictionary for compressed payloads, or null. Must outlive the encoder.
  const zstd_dictionary* dictionary = nullptr;
};

/// Builds wire frames. Not thread-safe; one session or client connection owns it.
class frame_encoder {
 public:
  explicit frame_encoder(encoder_options options = {}) : options_(options) {}

  encoder_options& options() { return options_; }

  /// Appends a frame carrying `message` to `out`, compressed above the threshold.
  void encode(v1::FrameType type, uint8_t channel, uint64_t seq, uint8_t flags,
              const google::protobuf::MessageLite& message, std::string& out);

  /// Appends a frame carrying `payload` (already serialized) to `out`.
  void encode_payload(v1::FrameType type, uint8_t channel, uint64_t seq, uint8_t flags,
                      std::string_view payload, std::string& out);

 private:
  encoder_options options_;
  std::string scratch_;  // serialized message; reused, released when large
};

}  // namespace tidegate::protocol
