#include "bench/fanout/redis_pubsub_codec.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <utility>

#include "bench/fanout/fanout_payload.h"
#include "bench/peers/resp_protocol.h"

namespace tidegate::bench {
namespace {

constexpr size_t max_line = 64 * 1024;
constexpr int64_t max_bulk = int64_t{64} << 20;
constexpr size_t max_elements = 4;  // pub/sub pushes have 3 (pmessage 4)

/// One RESP2 value that is not an array; `text` points into the parsed buffer.
struct resp_item {
  char type = 0;  // '+', '-', ':', '$' (nil bulk strings have type '$' and `nil` set)
  bool nil = false;
  std::string_view text;
  int64_t integer = 0;
};

enum class item_parse : uint8_t { item, need_more, malformed };

bool parse_int(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

/// Reads the line at `at` (without CRLF) into `line`; need_more if it is not complete yet.
item_parse read_line(std::string_view data, size_t& at, std::string_view& line, std::string& why) {
  auto eol = data.find("\r\n", at);
  if (eol == std::string_view::npos) {
    if (data.size() - at > max_line) {
      why = "reply line longer than 64 KiB";
      return item_parse::malformed;
    }
    return item_parse::need_more;
  }
  line = data.substr(at, eol - at);
  at = eol + 2;
  if (line.empty()) {
    why = "empty reply line";
    return item_parse::malformed;
  }
  return item_parse::item;
}

/// Reads one non-array value at `at`, moving `at` past it.
item_parse read_item(std::string_view data, size_t& at, resp_item& item, std::string& why) {
  std::string_view line;
  if (auto r = read_line(data, at, line, why); r != item_parse::item) {
    return r;
  }
  item = resp_item{};
  item.type = line[0];
  auto rest = line.substr(1);
  switch (item.type) {
    case '+':
    case '-':
      item.text = rest;
      return item_parse::item;
    case ':':
      if (!parse_int(rest, item.integer)) {
        why = "bad integer: " + std::string{rest.substr(0, 100)};
        return item_parse::malformed;
      }
      return item_parse::item;
    case '$': {
      int64_t size = 0;
      if (!parse_int(rest, size) || size < -1 || size > max_bulk) {
        why = "bad bulk length: " + std::string{rest.substr(0, 100)};
        return item_parse::malformed;
      }
      if (size == -1) {
        item.nil = true;
        return item_parse::item;
      }
      auto n = static_cast<size_t>(size);
      if (data.size() - at < n + 2) {
        return item_parse::need_more;
      }
      if (data.substr(at + n, 2) != "\r\n") {
        why = "bulk string not followed by CRLF";
        return item_parse::malformed;
      }
      item.text = data.substr(at, n);
      at += n + 2;
      return item_parse::item;
    }
    default:
      why = "unexpected reply type: " + std::string{line.substr(0, 100)};
      return item_parse::malformed;
  }
}

class redis_pubsub_codec final : public stream_codec {
 public:
  explicit redis_pubsub_codec(std::string channel) : channel_(std::move(channel)) {}

  void append_handshake(std::string& out) override {
    append_resp_command(out, {"SUBSCRIBE", channel_});
  }

  void append_publisher_handshake(std::string& out) override { append_resp_command(out, {"PING"}); }

  void append_publish(std::string& out, uint64_t /*seq*/, std::string_view payload) override {
    append_resp_command(out, {"PUBLISH", channel_, payload});
  }

  bool answers_publishes() const override { return true; }

 private:
  /// Takes every complete reply at the front of `data`; returns the bytes they took.
  std::optional<size_t> parse(std::string_view data, fanout_sink& sink,
                              std::string& /*out*/) override {
    size_t used = 0;
    std::string why;
    while (used < data.size()) {
      size_t at = used;
      if (data[at] != '*') {
        resp_item item;
        auto r = read_item(data, at, item, why);
        if (r == item_parse::need_more) {
          return used;
        }
        if (r == item_parse::malformed) {
          return fail(why);
        }
        if (!on_reply(item, sink)) {
          return std::nullopt;
        }
        used = at;
        continue;
      }
      std::string_view line;
      auto r = read_line(data, at, line, why);
      if (r == item_parse::need_more) {
        return used;
      }
      int64_t count = 0;
      if (r == item_parse::malformed || !parse_int(line.substr(1), count) || count < 1
          || static_cast<size_t>(count) > max_elements) {
        return fail(why.empty() ? "unexpected array: " + std::string{line.substr(0, 100)} : why);
      }
      std::array<resp_item, max_elements> items;
      for (int64_t i = 0; i < count; ++i) {
        r = read_item(data, at, items[static_cast<size_t>(i)], why);
        if (r == item_parse::need_more) {
          return used;
        }
        if (r == item_parse::malformed) {
          return fail(why);
        }
      }
      if (!on_push(items.data(), static_cast<size_t>(count), sink)) {
        return std::nullopt;
      }
      used = at;
    }
    return used;
  }

  /// A reply to PING or PUBLISH.
  bool on_reply(const resp_item& item, fanout_sink& sink) {
    if (item.type == ':' && ready_) {
      sink.on_publish_reply(true, {});
    } else if (item.type == '-' && ready_) {
      sink.on_publish_reply(false, item.text);
    } else if (item.type == '+' && item.text == "PONG" && !ready_) {
      ready_ = true;
      sink.on_ready();
    } else {
      fail(item.type == '-' ? std::string{item.text}
                            : "unexpected reply: " + std::string{item.text.substr(0, 100)});
      return false;
    }
    return true;
  }

  /// A push in subscribed mode: a subscribe confirmation or a message.
  bool on_push(const resp_item* items, size_t count, fanout_sink& sink) {
    auto kind = items[0].text;
    if (count == 3 && kind == "message" && items[2].type == '$' && !items[2].nil) {
      uint64_t seq = 0;
      if (!read_fanout_seq(items[2].text, seq)) {
        fail("message without a sequence number: " + std::string{items[2].text.substr(0, 40)});
        return false;
      }
      sink.on_message(seq);
      return true;
    }
    if (count == 3 && kind == "subscribe" && items[2].type == ':') {
      if (!ready_) {
        ready_ = true;
        sink.on_ready();
      }
      return true;
    }
    fail("unexpected push: " + std::string{kind.substr(0, 100)});
    return false;
  }

  std::string channel_;
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<fanout_codec> make_redis_pubsub_codec(std::string channel) {
  return std::make_unique<redis_pubsub_codec>(std::move(channel));
}

}  // namespace tidegate::bench
