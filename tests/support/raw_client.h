#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "protocol/frame.h"
#include "protocol/frame_decoder.h"
#include "tidegate/v1/handshake.pb.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace tidegate::test {

/// A blocking TCP client for integration tests that need to send exactly the bytes they
/// choose (bad frames included) and read what the server answers. Every read has a deadline,
/// so a test never hangs. Not thread-safe.
class raw_client {
 public:
  /// Connects to 127.0.0.1:`port`; check `connected()`.
  explicit raw_client(uint16_t port);
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const { return fd_ >= 0; }

  /// Writes all of `bytes`. False if the connection is gone.
  bool send_bytes(const std::string& bytes);

  /// Encodes and sends one frame.
  bool send(v1::FrameType type, const google::protobuf::MessageLite& msg, uint64_t seq = 0);

  /// The next frame, or nullopt when `timeout` passes or the server closed the connection.
  std::optional<protocol::frame> next(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// True once the server closed the connection (EOF or reset) within `timeout`; frames that
  /// arrive first are skipped.
  bool closed_within(std::chrono::milliseconds timeout);

  /// HELLO (with `heartbeat_ms` and `state`), expects WELCOME, acks it. False on anything else.
  bool hello(const std::string& device, const std::string& app, uint32_t heartbeat_ms,
             v1::AppState state = v1::APP_STATE_UNSPECIFIED);

  /// AUTH with `token`, expects AUTH_OK, acks it.
  bool auth(const std::string& token);

  /// Sends ACK{seq}.
  bool ack(uint64_t seq);

  /// Stops reading from the socket at the kernel level (shrinks SO_RCVBUF) — for tests.
  void shrink_receive_buffer();

  int fd() const { return fd_; }

 private:
  /// Waits until `deadline` for bytes and reads them (into the decoder if `keep`). False once
  /// the deadline has passed; sets eof_ when the server closed.
  bool read_some(std::chrono::steady_clock::time_point deadline, bool keep);

  int fd_ = -1;
  protocol::frame_decoder decoder_;
  bool eof_ = false;
};

/// A login token for `user` valid for an hour.
std::string token_for(const std::string& secret, const std::string& app, const std::string& user);

}  // namespace tidegate::test
