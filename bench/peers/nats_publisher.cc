#include "bench/peers/nats_publisher.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "bench/peers/nats_protocol.h"

namespace tidegate::bench {
namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string stream_name = "bench";
// At most 4 GiB, then publishes fail: a run long enough to fill it fails instead of the disk.
const std::string stream_config =
    R"({"name":"bench","subjects":["bench.>"],"storage":"file","retention":"limits",)"
    R"("max_bytes":4294967296,"discard":"new","num_replicas":1})";

std::string inbox_of(uint32_t index) {
  return "_INBOX.tidegate." + std::to_string(index);
}

/// Reads operations from `sock` until `done` returns true or `deadline`; answers PINGs.
/// False, with `error` set, on timeout, -ERR or a broken stream.
bool read_until(loopback_socket& sock, nats_parser& parser, steady::time_point deadline,
                const std::function<bool(const nats_message&)>& done, std::string& error) {
  std::string in;
  while (steady::now() < deadline) {
    nats_message m;
    auto r = parser.next(m);
    if (r == nats_parse::malformed) {
      error = parser.error();
      return false;
    }
    if (r == nats_parse::message) {
      if (m.op == nats_op::ping && !sock.write_all("PONG\r\n", deadline)) {
        error = sock.error();
        return false;
      }
      if (m.op == nats_op::err) {
        error = "-ERR " + m.payload;
        return false;
      }
      if (done(m)) {
        return true;
      }
      continue;
    }
    sock.wait(false, deadline, milliseconds{100});
    in.clear();
    if (!sock.read_some(in)) {
      error = sock.error();
      return false;
    }
    parser.feed(in);
  }
  error = "timed out";
  return false;
}

std::optional<loopback_socket> handshake(uint16_t port, const std::string& inbox,
                                         steady::time_point deadline, nats_parser& parser,
                                         std::string& error) {
  auto sock = loopback_socket::connect(port, deadline, error);
  if (!sock) {
    return std::nullopt;
  }
  std::string hello = nats_connect();
  append_nats_sub(hello, inbox, "1");
  hello += "PING\r\n";
  if (!sock->write_all(hello, deadline)) {
    error = sock->error();
    return std::nullopt;
  }
  if (!read_until(
          *sock, parser, deadline, [](const auto& m) { return m.op == nats_op::pong; }, error)) {
    error = "no PONG after CONNECT: " + error;
    return std::nullopt;
  }
  return sock;
}

class nats_codec final : public pipeline_codec {
 public:
  nats_codec(uint32_t index, const publish_shape& shape)
      : index_(index),
        owners_(shape.owners),
        inbox_(inbox_of(index)),
        payload_(shape.payload_bytes, 'x') {}

  void append_publish(std::string& out, uint64_t seq) override {
    subject_ = "bench.u";
    subject_ += std::to_string(owner_of(index_, seq, owners_));
    append_nats_pub(out, subject_, inbox_, payload_);
  }

  bool consume(std::string_view bytes, pipeline_tally& tally, std::string& out) override {
    parser_.feed(bytes);
    nats_message m;
    for (;;) {
      auto r = parser_.next(m);
      if (r == nats_parse::need_more) {
        return true;
      }
      if (r == nats_parse::malformed) {
        tally.first_error = parser_.error();
        return false;
      }
      switch (m.op) {
        case nats_op::msg:
          if (auto ack = parse_nats_pub_ack(m.payload); ack.ok) {
            ++tally.acked;
          } else {
            ++tally.failed;
            if (tally.first_error.empty()) {
              tally.first_error = ack.error;
            }
          }
          break;
        case nats_op::ping:
          out += "PONG\r\n";
          break;
        case nats_op::err:
          tally.first_error = "-ERR " + m.payload;
          return false;
        default:  // INFO updates, PONG, +OK
          break;
      }
    }
  }

 private:
  uint32_t index_;
  uint32_t owners_;
  std::string inbox_;
  std::string payload_;
  std::string subject_;  // reused per publish
  nats_parser parser_;
};

}  // namespace

std::string nats_create_stream(uint16_t port, steady::time_point deadline) {
  nats_parser parser;
  std::string error;
  const std::string inbox = "_INBOX.tidegate.setup";
  auto sock = handshake(port, inbox, deadline, parser, error);
  if (!sock) {
    return "JetStream setup: " + error;
  }
  while (steady::now() < deadline) {
    std::string request;
    append_nats_pub(request, "$JS.API.STREAM.CREATE." + stream_name, inbox, stream_config);
    if (!sock->write_all(request, deadline)) {
      return "JetStream setup: " + sock->error();
    }
    nats_message reply;
    auto wait = std::min(deadline, steady::now() + seconds{1});
    if (!read_until(
            *sock, parser, wait,
            [&reply](const nats_message& m) {
              if (m.op != nats_op::msg) {
                return false;
              }
              reply = m;
              return true;
            },
            error)) {
      if (error == "timed out") {
        continue;  // JetStream may not be serving its API yet: ask again
      }
      return "JetStream setup: " + error;
    }
    if (reply.payload.find("\"error\"") != std::string::npos) {
      return "JetStream stream create: " + reply.payload.substr(0, 300);
    }
    return {};
  }
  return "JetStream setup: no answer to " + stream_name + " stream create";
}

std::optional<loopback_socket> nats_connect_publisher(uint16_t port, uint32_t index,
                                                      steady::time_point deadline,
                                                      std::string& error) {
  nats_parser parser;  // the codec starts with a fresh one: nothing is pending after the PONG
  return handshake(port, inbox_of(index), deadline, parser, error);
}

std::unique_ptr<pipeline_codec> make_nats_codec(uint32_t index, const publish_shape& shape) {
  return std::make_unique<nats_codec>(index, shape);
}

}  // namespace tidegate::bench
