#include "protocol/frame.h"

#include "protocol/varint.h"

namespace tidegate::protocol {

bool is_known_frame_type(uint8_t type) {
  return type != v1::FRAME_TYPE_UNSPECIFIED && v1::FrameType_IsValid(type);
}

void append_frame_header(v1::FrameType type, uint8_t flags, uint8_t channel, uint64_t seq,
                         size_t payload_size, std::string& out) {
  out.push_back(static_cast<char>((mmtp_version << 4) | (flags & 0x0f)));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(channel));
  append_varint(seq, out);
  append_varint(payload_size, out);
}

void append_frame(v1::FrameType type, uint8_t flags, uint8_t channel, uint64_t seq,
                  std::string_view payload, std::string& out) {
  append_frame_header(type, flags, channel, seq, payload.size(), out);
  out.append(payload.data(), payload.size());
}

std::string frame_type_name(v1::FrameType type) {
  if (!is_known_frame_type(static_cast<uint8_t>(type))) {
    return "UNKNOWN";
  }
  constexpr std::string_view prefix = "FRAME_TYPE_";
  const std::string& full = v1::FrameType_Name(type);
  return full.substr(prefix.size());
}

}  // namespace tidegate::protocol
