#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// The server-to-client operations of the NATS text protocol.
enum class nats_op : uint8_t {
  info,  ///< INFO {json}: `payload` holds the JSON.
  msg,   ///< MSG or HMSG: subject, sid, reply, payload (headers first for HMSG).
  ping,  ///< PING: the client owes a PONG.
  pong,  ///< PONG: the answer to our PING.
  ok,    ///< +OK (verbose mode only).
  err,   ///< -ERR 'text': `payload` holds the text; the server usually closes next.
};

/// One operation from the server.
struct nats_message {
  nats_op op = nats_op::ping;
  std::string subject;      ///< MSG/HMSG only.
  std::string sid;          ///< MSG/HMSG only.
  std::string reply;        ///< MSG/HMSG with a reply subject, else empty.
  size_t header_bytes = 0;  ///< HMSG: the first `header_bytes` of `payload` are headers.
  std::string payload;
};

/// What nats_parser::next() found.
enum class nats_parse : uint8_t {
  message,    ///< One complete operation was taken out of the buffer.
  need_more,  ///< The buffer ends inside an operation: feed more bytes.
  malformed,  ///< Not the NATS protocol; error() says why. The stream is unusable after it.
};

/// Incremental parser of what a NATS server sends. Bytes go in as they arrive, in any chunks;
/// operations come out whole. Not thread-safe; one connection owns it.
class nats_parser {
 public:
  /// Appends bytes read from the socket.
  void feed(std::string_view bytes);
  /// Moves the next complete operation into `out`; `out` is unspecified unless `message`.
  nats_parse next(nats_message& out);
  /// Why the last `malformed` was returned.
  const std::string& error() const { return error_; }

 private:
  nats_parse fail(std::string why);

  std::string buffer_;
  size_t pos_ = 0;  // bytes of buffer_ already parsed
  std::string error_;
};

/// The CONNECT line: no +OK per operation, no pedantic checks, no headers.
std::string nats_connect();
/// Appends `SUB subject sid`.
void append_nats_sub(std::string& out, std::string_view subject, std::string_view sid);
/// Appends `PUB subject reply len` and the payload; `reply` may be empty.
void append_nats_pub(std::string& out, std::string_view subject, std::string_view reply,
                     std::string_view payload);

/// A JetStream publish acknowledgement, read from the payload of the reply to a PUB.
struct nats_pub_ack {
  bool ok = false;
  uint64_t seq = 0;   ///< The stream sequence when ok.
  std::string error;  ///< The error's description (or the reply itself) when not ok.
};

/// Reads `{"stream":"S","seq":N}` (ok) or `{"error":{"code":C,"description":"D"},...}`.
nats_pub_ack parse_nats_pub_ack(std::string_view payload);

}  // namespace tidegate::bench
