#include "bench/fanout/nats_core_codec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "bench/fanout/fanout_payload.h"
#include "bench/peers/nats_protocol.h"

namespace tidegate::bench {
namespace {

// The server's defaults are 4 KiB per control line and 1 MiB per payload; INFO lines can be
// longer with many cluster URLs, and a payload limit above the server's catches garbage.
constexpr size_t max_control_line = 64 * 1024;
constexpr size_t max_payload = size_t{64} << 20;

/// True if `line` starts with the operation `op` (upper case), case-insensitively, followed by
/// the end of the line, a space or a tab.
bool is_op(std::string_view line, std::string_view op) {
  if (line.size() < op.size()) {
    return false;
  }
  for (size_t i = 0; i < op.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(line[i])) != op[i]) {
      return false;
    }
  }
  return line.size() == op.size() || line[op.size()] == ' ' || line[op.size()] == '\t';
}

/// Splits MSG's arguments (subject sid [reply] size) into `args`; how many there were, or 0 if
/// more than `args` holds.
size_t split_args(std::string_view line, std::array<std::string_view, 4>& args) {
  size_t count = 0;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) {
      ++at;
    }
    auto start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t') {
      ++at;
    }
    if (at == start) {
      break;
    }
    if (count == args.size()) {
      return 0;
    }
    args[count++] = line.substr(start, at - start);
  }
  return count;
}

class nats_core_codec final : public stream_codec {
 public:
  explicit nats_core_codec(std::string subject) : subject_(std::move(subject)) {}

  void append_handshake(std::string& out) override {
    out += nats_connect();
    append_nats_sub(out, subject_, "1");
    out += "PING\r\n";
  }

  void append_publisher_handshake(std::string& out) override {
    out += nats_connect();
    out += "PING\r\n";
  }

  void append_publish(std::string& out, uint64_t /*seq*/, std::string_view payload) override {
    append_nats_pub(out, subject_, {}, payload);
  }

  bool answers_publishes() const override { return false; }

 private:
  /// Takes every complete operation at the front of `data`; returns the bytes they took.
  std::optional<size_t> parse(std::string_view data, fanout_sink& sink, std::string& out) override {
    size_t used = 0;
    for (;;) {
      auto rest = data.substr(used);
      auto eol = rest.find("\r\n");
      if (eol == std::string_view::npos) {
        if (rest.size() > max_control_line) {
          return fail("control line longer than 64 KiB");
        }
        return used;
      }
      auto line = rest.substr(0, eol);
      if (is_op(line, "MSG")) {
        std::array<std::string_view, 4> args;
        auto n = split_args(line.substr(3), args);
        size_t size = 0;
        if (n != 3 && n != 4) {
          return fail("bad MSG line: " + std::string{line.substr(0, 200)});
        }
        auto s = args[n - 1];
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), size);
        if (ec != std::errc{} || end != s.data() + s.size() || size > max_payload) {
          return fail("bad MSG size: " + std::string{line.substr(0, 200)});
        }
        if (rest.size() < eol + 2 + size + 2) {
          return used;  // the payload is not all here yet
        }
        if (rest.substr(eol + 2 + size, 2) != "\r\n") {
          return fail("MSG payload not followed by CRLF");
        }
        uint64_t seq = 0;
        if (!read_fanout_seq(rest.substr(eol + 2, size), seq)) {
          return fail("MSG payload without a sequence number: "
                      + std::string{rest.substr(eol + 2, std::min<size_t>(size, 40))});
        }
        sink.on_message(seq);
        used += eol + 2 + size + 2;
        continue;
      }
      if (is_op(line, "PING")) {
        out += "PONG\r\n";
      } else if (is_op(line, "PONG")) {
        if (!ready_) {  // the answer to the handshake's PING
          ready_ = true;
          sink.on_ready();
        }
      } else if (is_op(line, "-ERR")) {
        return fail(std::string{line.substr(0, 200)});
      } else if (!is_op(line, "INFO") && !is_op(line, "+OK")) {
        return fail("unexpected operation: " + std::string{line.substr(0, 200)});
      }
      used += eol + 2;
    }
  }

  std::string subject_;
  bool ready_ = false;
};

}  // namespace

std::unique_ptr<fanout_codec> make_nats_core_codec(std::string subject) {
  return std::make_unique<nats_core_codec>(std::move(subject));
}

}  // namespace tidegate::bench
