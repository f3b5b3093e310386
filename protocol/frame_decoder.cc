#include "protocol/frame_decoder.h"

#include "protocol/varint.h"
#include "protocol/zstd_codec.h"

namespace tidegate::protocol {
namespace {

// Above this capacity an emptied buffer is released: an idle connection keeps no buffer.
constexpr size_t retained_capacity = 4096;

}  // namespace

void frame_decoder::append(const char* data, size_t size) {
  if (error_.code != protocol_errc::ok) {
    return;
  }
  buffer_.append(data, size);
}

frame_decoder::status frame_decoder::fail(protocol_errc code, std::string reason) {
  error_ = {code, std::move(reason)};
  buffer_.clear();
  buffer_.shrink_to_fit();
  pos_ = 0;
  return status::error;
}

void frame_decoder::compact() {
  if (pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
    if (buffer_.capacity() > retained_capacity) {
      buffer_.shrink_to_fit();
    }
  } else if (pos_ > buffer_.size() / 2) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

frame_decoder::status frame_decoder::next(frame& out) {
  if (error_.code != protocol_errc::ok) {
    return status::error;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(buffer_.data()) + pos_;
  size_t size = buffer_.size() - pos_;
  if (size == 0) {
    compact();
    return status::need_more;
  }
  // Validate the fixed bytes as soon as they arrive, so garbage fails without waiting.
  uint8_t version = data[0] >> 4;
  uint8_t flags = data[0] & 0x0f;
  if (version != mmtp_version) {
    return fail(protocol_errc::malformed_frame,
                "unsupported MMTP version " + std::to_string(version));
  }
  if ((flags & reserved_flags) != 0) {
    return fail(protocol_errc::malformed_frame, "reserved flag bits set");
  }
  if (size < 2) {
    return status::need_more;
  }
  if (!is_known_frame_type(data[1])) {
    return fail(protocol_errc::unknown_frame_type, "unknown frame type " + std::to_string(data[1]));
  }
  if (size < fixed_header_bytes) {
    return status::need_more;
  }
  size_t offset = fixed_header_bytes;
  auto seq = read_varint(data + offset, size - offset);
  if (seq.status == varint_status::malformed) {
    return fail(protocol_errc::malformed_frame, "bad sequence varint");
  }
  if (seq.status == varint_status::need_more) {
    return status::need_more;
  }
  offset += seq.consumed;
  auto length = read_varint(data + offset, size - offset);
  if (length.status == varint_status::malformed) {
    return fail(protocol_errc::malformed_frame, "bad length varint");
  }
  if (length.status == varint_status::need_more) {
    return status::need_more;
  }
  offset += length.consumed;
  if (length.value > limits_.max_frame_size) {
    return fail(protocol_errc::frame_too_large, "frame length " + std::to_string(length.value)
                                                    + " over the maximum "
                                                    + std::to_string(limits_.max_frame_size));
  }
  auto payload_size = static_cast<size_t>(length.value);
  if (size - offset < payload_size) {
    if (buffer_.capacity() < pos_ + offset + payload_size) {
      buffer_.reserve(pos_ + offset + payload_size);  // bounded by max_frame_size above
    }
    return status::need_more;
  }
  out.type = static_cast<v1::FrameType>(data[1]);
  out.flags = flags;
  out.channel = data[2];
  out.seq = seq.value;
  const char* payload = reinterpret_cast<const char*>(data + offset);
  if ((flags & flag_compressed) != 0) {
    auto err = zstd_decompress(std::string_view{payload, payload_size}, limits_.max_frame_size,
                               dict_, out.payload);
    if (err.code != protocol_errc::ok) {
      return fail(err.code, std::move(err.reason));
    }
  } else {
    out.payload.assign(payload, payload_size);
  }
  pos_ += offset + payload_size;
  compact();
  return status::frame;
}

protocol_error frame_decoder::finish() const {
  if (error_.code != protocol_errc::ok) {
    return error_;
  }
  if (buffered() > 0) {
    return {protocol_errc::malformed_frame,
            "stream ended inside a frame (" + std::to_string(buffered()) + " bytes truncated)"};
  }
  return {};
}

protocol_error decode_single_frame(const char* bytes, size_t size, decoder_limits limits,
                                   frame& out) {
  frame_decoder decoder{limits};
  decoder.append(bytes, size);
  switch (decoder.next(out)) {
    case frame_decoder::status::error:
      return decoder.error();
    case frame_decoder::status::need_more: {
      auto err = decoder.finish();
      if (err.code == protocol_errc::ok) {
        return {protocol_errc::malformed_frame, "no frame in empty input"};
      }
      return err;
    }
    case frame_decoder::status::frame:
      break;
  }
  if (decoder.buffered() > 0) {
    return {protocol_errc::malformed_frame, "bytes after the frame"};
  }
  return {};
}

}  // namespace tidegate::protocol
