#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace tidegate::bench {

/// What a fanout_codec reports while it reads its connection; the harness implements it.
class fanout_sink {
 public:
  virtual ~fanout_sink() = default;
  /// The connection is ready: a subscriber's subscription is confirmed by the server, or the
  /// publisher may publish. Called once per connection.
  virtual void on_ready() = 0;
  /// A subscriber received message `seq`, read from the payload (read_fanout_seq).
  virtual void on_message(uint64_t seq) = 0;
  /// The server answered one publish: accepted, or refused with `error`.
  virtual void on_publish_reply(bool accepted, std::string_view error) = 0;
};

/// One connection's wire protocol for the fan-out harness: a subscriber's or the publisher's
/// side, chosen by the handshake appended first. Not thread-safe; one connection owns it.
class fanout_codec {
 public:
  virtual ~fanout_codec() = default;
  /// Subscriber: appends what connects and subscribes to the benchmark's topic. The codec
  /// calls on_ready() once the server confirmed the subscription.
  virtual void append_handshake(std::string& out) = 0;
  /// Publisher: appends what connects; the codec calls on_ready() once it may publish.
  virtual void append_publisher_handshake(std::string& out) = 0;
  /// Publisher: appends the publish of message `seq` with `payload` to the topic.
  virtual void append_publish(std::string& out, uint64_t seq, std::string_view payload) = 0;
  /// True if the server answers every publish (on_publish_reply), false if it never does.
  virtual bool answers_publishes() const = 0;
  /// Publishes the protocol allows unanswered at once (MQTT packet ids); 0 for no limit.
  virtual uint64_t max_unanswered_publishes() const { return 0; }
  /// Reads `bytes` the server sent, in any chunks: reports to `sink` and appends to `out` what
  /// the protocol owes the server (PONG, PUBACK). False if the stream broke; error() says why,
  /// and every later call returns false.
  virtual bool consume(std::string_view bytes, fanout_sink& sink, std::string& out) = 0;
  virtual const std::string& error() const = 0;
};

/// Makes the codec of connection `index` (subscribers 0..S-1, then the publisher S).
using fanout_codec_factory = std::function<std::unique_ptr<fanout_codec>(uint32_t index)>;

/// For codecs: parses `bytes` after what the last call left in `pending`. `parse(data)`
/// returns how many bytes of `data` it used, whole frames only, or nullopt if the stream
/// broke; the rest waits in `pending` for more. Returns false if `parse` did.
template <class Parse>
bool parse_with_pending(std::string& pending, std::string_view bytes, const Parse& parse) {
  if (pending.empty()) {  // the common case: no copy
    std::optional<size_t> used = parse(bytes);
    if (!used) {
      return false;
    }
    pending.assign(bytes.substr(*used));
    return true;
  }
  pending.append(bytes);
  std::optional<size_t> used = parse(std::string_view{pending});
  if (!used) {
    return false;
  }
  pending.erase(0, *used);
  return true;
}

/// A codec of a byte-stream protocol: consume() keeps what a read left of a partial frame and
/// hands the rest to parse(); a failure is kept and every later call fails. The peers' codecs
/// derive from it and implement parse() only.
class stream_codec : public fanout_codec {
 public:
  bool consume(std::string_view bytes, fanout_sink& sink, std::string& out) final {
    if (!error_.empty()) {
      return false;
    }
    return parse_with_pending(pending_, bytes,
                              [&](std::string_view data) { return parse(data, sink, out); });
  }

  const std::string& error() const final { return error_; }

 protected:
  /// Takes every complete frame at the front of `data`, reporting to `sink` and appending
  /// what the protocol owes the server to `out`; returns the bytes it took, or fail(why).
  virtual std::optional<size_t> parse(std::string_view data, fanout_sink& sink,
                                      std::string& out) = 0;

  /// Records why the stream broke; returns what parse() returns then.
  std::optional<size_t> fail(std::string why) {
    error_ = std::move(why);
    return std::nullopt;
  }

 private:
  std::string pending_;
  std::string error_;
};

}  // namespace tidegate::bench
