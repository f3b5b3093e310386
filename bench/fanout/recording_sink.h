#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/fanout/fanout_codec.h"

namespace tidegate::bench {

/// For codec tests: a sink that records what it was told.
struct recording_sink final : fanout_sink {
  void on_ready() override { ++ready; }
  void on_message(uint64_t seq) override { messages.push_back(seq); }
  void on_publish_reply(bool accepted, std::string_view error) override {
    replies.push_back(accepted ? std::string{"ok"} : std::string{error});
  }

  int ready = 0;
  std::vector<uint64_t> messages;
  std::vector<std::string> replies;
};

/// What a codec made of a stream: the sink's records, what it owed the server, its error.
struct consumed {
  recording_sink sink;
  std::string out;
  std::string error;
};

/// Feeds `wire` to a fresh codec (after its handshake, `publisher` or not) in two chunks split
/// at `split`, or byte by byte when `split` is past the end.
inline consumed consume_split(const std::function<std::unique_ptr<fanout_codec>()>& make,
                              bool publisher, std::string_view wire, size_t split) {
  consumed c;
  auto codec = make();
  std::string hello;
  if (publisher) {
    codec->append_publisher_handshake(hello);
  } else {
    codec->append_handshake(hello);
  }
  auto feed = [&](std::string_view bytes) {
    if (c.error.empty() && !codec->consume(bytes, c.sink, c.out)) {
      c.error = codec->error();
    }
  };
  if (split > wire.size()) {
    for (char ch : wire) {
      feed(std::string_view{&ch, 1});
    }
  } else {
    feed(wire.substr(0, split));
    feed(wire.substr(split));
  }
  return c;
}

}  // namespace tidegate::bench
