#include "bench/peers/nats_protocol.h"

#include <cctype>
#include <charconv>
#include <utility>
#include <vector>

namespace tidegate::bench {
namespace {

// The server's own defaults are 4 KiB per control line and 1 MiB per payload; INFO lines can
// be longer with many cluster URLs, and a payload limit above the server's catches garbage.
constexpr size_t max_control_line = 64 * 1024;
constexpr size_t max_payload = size_t{64} << 20;

bool equals_upper(std::string_view word, std::string_view upper) {
  if (word.size() != upper.size()) {
    return false;
  }
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(word[i])) != upper[i]) {
      return false;
    }
  }
  return true;
}

std::vector<std::string_view> split_args(std::string_view line) {
  std::vector<std::string_view> args;
  size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) {
      ++at;
    }
    auto start = at;
    while (at < line.size() && line[at] != ' ' && line[at] != '\t') {
      ++at;
    }
    if (at > start) {
      args.push_back(line.substr(start, at - start));
    }
  }
  return args;
}

bool parse_size(std::string_view text, size_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

void nats_parser::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {  // keep the buffer from growing without bound
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

nats_parse nats_parser::fail(std::string why) {
  error_ = std::move(why);
  return nats_parse::malformed;
}

nats_parse nats_parser::next(nats_message& out) {
  if (!error_.empty()) {
    return nats_parse::malformed;
  }
  std::string_view rest{buffer_};
  rest.remove_prefix(pos_);
  auto eol = rest.find("\r\n");
  if (eol == std::string_view::npos) {
    return rest.size() > max_control_line ? fail("control line longer than 64 KiB")
                                          : nats_parse::need_more;
  }
  auto line = rest.substr(0, eol);
  auto space = line.find_first_of(" \t");
  auto word = line.substr(0, space);
  auto args = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
  size_t consumed = eol + 2;

  out = nats_message{};
  if (equals_upper(word, "PING")) {
    out.op = nats_op::ping;
  } else if (equals_upper(word, "PONG")) {
    out.op = nats_op::pong;
  } else if (equals_upper(word, "+OK")) {
    out.op = nats_op::ok;
  } else if (equals_upper(word, "-ERR")) {
    out.op = nats_op::err;
    auto text = args;
    if (text.size() >= 2 && text.front() == '\'' && text.back() == '\'') {
      text = text.substr(1, text.size() - 2);
    }
    out.payload = std::string{text};
  } else if (equals_upper(word, "INFO")) {
    out.op = nats_op::info;
    out.payload = std::string{args};
  } else if (equals_upper(word, "MSG") || equals_upper(word, "HMSG")) {
    // MSG subject sid [reply] size | HMSG subject sid [reply] header_size total_size
    bool headers = word.size() == 4;
    auto a = split_args(args);
    size_t fixed = headers ? 4 : 3;
    if (a.size() != fixed && a.size() != fixed + 1) {
      return fail("bad " + std::string{word} + " line: " + std::string{line.substr(0, 200)});
    }
    size_t total = 0;
    if (!parse_size(a.back(), total) || total > max_payload) {
      return fail("bad payload size: " + std::string{line.substr(0, 200)});
    }
    if (headers && (!parse_size(a[a.size() - 2], out.header_bytes) || out.header_bytes > total)) {
      return fail("bad header size: " + std::string{line.substr(0, 200)});
    }
    if (rest.size() < consumed + total + 2) {
      return nats_parse::need_more;
    }
    if (rest.substr(consumed + total, 2) != "\r\n") {
      return fail("payload not followed by CRLF");
    }
    out.op = nats_op::msg;
    out.subject = std::string{a[0]};
    out.sid = std::string{a[1]};
    if (a.size() == fixed + 1) {
      out.reply = std::string{a[2]};
    }
    out.payload = std::string{rest.substr(consumed, total)};
    consumed += total + 2;
  } else {
    return fail("unknown operation: " + std::string{line.substr(0, 200)});
  }
  pos_ += consumed;
  return nats_parse::message;
}

std::string nats_connect() {
  return "CONNECT {\"verbose\":false,\"pedantic\":false}\r\n";
}

void append_nats_sub(std::string& out, std::string_view subject, std::string_view sid) {
  out.append("SUB ").append(subject).append(" ").append(sid).append("\r\n");
}

void append_nats_pub(std::string& out, std::string_view subject, std::string_view reply,
                     std::string_view payload) {
  out.append("PUB ").append(subject).append(" ");
  if (!reply.empty()) {
    out.append(reply).append(" ");
  }
  out.append(std::to_string(payload.size())).append("\r\n").append(payload).append("\r\n");
}

nats_pub_ack parse_nats_pub_ack(std::string_view payload) {
  nats_pub_ack ack;
  if (auto err = payload.find("\"error\""); err != std::string_view::npos) {
    constexpr std::string_view key = "\"description\":\"";
    auto d = payload.find(key, err);
    auto end = d == std::string_view::npos ? d : payload.find('"', d + key.size());
    ack.error = end == std::string_view::npos
                    ? std::string{payload.substr(0, 200)}
                    : std::string{payload.substr(d + key.size(), end - d - key.size())};
    return ack;
  }
  constexpr std::string_view key = "\"seq\":";
  auto s = payload.find(key);
  if (s == std::string_view::npos) {
    ack.error = "not a publish ack: " + std::string{payload.substr(0, 200)};
    return ack;
  }
  auto digits = payload.substr(s + key.size());
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ack.seq);
  if (ec != std::errc{} || end == digits.data()) {
    ack.error = "bad seq: " + std::string{payload.substr(0, 200)};
    return ack;
  }
  ack.ok = true;
  return ack;
}

}  // namespace tidegate::bench
