#include "client/frame_text.h"

#include <cstdio>
#include <memory>

#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/error.pb.h"
#include "tidegate/v1/handshake.pb.h"

namespace tidegate::client {

namespace {

std::unique_ptr<google::protobuf::Message> message_for(v1::FrameType type) {
  switch (type) {
    case v1::FRAME_TYPE_HELLO:
      return std::make_unique<v1::Hello>();
    case v1::FRAME_TYPE_WELCOME:
      return std::make_unique<v1::Welcome>();
    case v1::FRAME_TYPE_AUTH:
      return std::make_unique<v1::Auth>();
    case v1::FRAME_TYPE_AUTH_OK:
      return std::make_unique<v1::AuthOk>();
    case v1::FRAME_TYPE_PING:
      return std::make_unique<v1::Ping>();
    case v1::FRAME_TYPE_PONG:
      return std::make_unique<v1::Pong>();
    case v1::FRAME_TYPE_ACK:
      return std::make_unique<v1::Ack>();
    case v1::FRAME_TYPE_GOAWAY:
      return std::make_unique<v1::GoAway>();
    case v1::FRAME_TYPE_ERROR:
      return std::make_unique<v1::Error>();
    default:
      return nullptr;
  }
}

}  // namespace

std::string describe_frame(const protocol::frame& frame) {
  char head[96];
  std::snprintf(head, sizeof(head), " seq=%llu flags=0x%x channel=%u ",
                static_cast<unsigned long long>(frame.seq), frame.flags, frame.channel);
  std::string line = protocol::frame_type_name(frame.type) + head;
  auto message = message_for(frame.type);
  if (message && message->ParseFromString(frame.payload)) {
    line += "{" + message->ShortDebugString() + "}";
  } else if (message) {
    line += "<unparsable " + std::to_string(frame.payload.size()) + " bytes>";
  } else {
    line += "<" + std::to_string(frame.payload.size()) + " bytes>";
  }
  return line;
}

}  // namespace tidegate::client
