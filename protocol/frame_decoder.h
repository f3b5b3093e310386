#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "protocol/frame.h"
#include "protocol/protocol_errc.h"

namespace tidegate::protocol {

class zstd_dictionary;

/// Bounds the decoder enforces on untrusted input.
struct decoder_limits {
  /// Largest payload accepted, on the wire and after decompression.
  size_t max_frame_size = size_t{256} << 10;
};

/// Turns a byte stream into frames. Never allocates more than what was appended plus one
/// bounded frame: a declared length over `max_frame_size` fails before any payload is read.
/// After an error it stays failed (the connection is closed). Not thread-safe; one session
/// owns it. An idle decoder holds no buffer.
class frame_decoder {
 public:
  enum class status : uint8_t { frame, need_more, error };

  explicit frame_decoder(decoder_limits limits = {}) : limits_(limits) {}

  /// Uses `dict` (which must outlive this decoder) for compressed frames that name its id.
  void set_dictionary(const zstd_dictionary* dict) { dict_ = dict; }

  /// Copies `size` bytes into the decoder's buffer.
  void append(const char* data, size_t size);

  /// Decodes the next complete frame into `out`; `need_more` if none is complete yet.
  status next(frame& out);

  /// The error after `next` returned `status::error`.
  const protocol_error& error() const { return error_; }

  /// For an ended stream: `malformed_frame` ("truncated") if a partial frame is buffered.
  protocol_error finish() const;

  /// Bytes buffered and not yet returned as frames.
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  status fail(protocol_errc code, std::string reason);
  void compact();

  decoder_limits limits_;
  const zstd_dictionary* dict_ = nullptr;
  std::string buffer_;
  size_t pos_ = 0;  // start of the first unreturned byte in buffer_
  protocol_error error_;
};

/// Decodes exactly one frame that must fill all of `bytes` (fuzzing, tests, datagrams).
protocol_error decode_single_frame(const char* bytes, size_t size, decoder_limits limits,
                                   frame& out);

}  // namespace tidegate::protocol
