#include "protocol/protocol_errc.h"

namespace tidegate::protocol {

v1::ErrorCode to_wire(protocol_errc code) {
  switch (code) {
    case protocol_errc::ok:
      return v1::ERROR_CODE_OK;
    case protocol_errc::frame_too_large:
      return v1::ERROR_CODE_FRAME_TOO_LARGE;
    case protocol_errc::malformed_frame:
      return v1::ERROR_CODE_MALFORMED_FRAME;
    case protocol_errc::unknown_frame_type:
      return v1::ERROR_CODE_UNKNOWN_FRAME_TYPE;
    case protocol_errc::bad_compression:
      return v1::ERROR_CODE_BAD_COMPRESSION;
    case protocol_errc::bad_payload:
      return v1::ERROR_CODE_BAD_PAYLOAD;
    case protocol_errc::unexpected_frame:
      return v1::ERROR_CODE_UNEXPECTED_FRAME;
    case protocol_errc::auth_failed:
      return v1::ERROR_CODE_AUTH_FAILED;
    case protocol_errc::bad_hello:
      return v1::ERROR_CODE_BAD_HELLO;
  }
  return v1::ERROR_CODE_INTERNAL;
}

const char* to_string(protocol_errc code) {
  switch (code) {
    case protocol_errc::ok:
      return "ok";
    case protocol_errc::frame_too_large:
      return "frame_too_large";
    case protocol_errc::malformed_frame:
      return "malformed_frame";
    case protocol_errc::unknown_frame_type:
      return "unknown_frame_type";
    case protocol_errc::bad_compression:
      return "bad_compression";
    case protocol_errc::bad_payload:
      return "bad_payload";
    case protocol_errc::unexpected_frame:
      return "unexpected_frame";
    case protocol_errc::auth_failed:
      return "auth_failed";
    case protocol_errc::bad_hello:
      return "bad_hello";
  }
  return "unknown";
}

}  // namespace tidegate::protocol
