#include "bench/peers/resp_protocol.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace tidegate::bench {
namespace {

constexpr size_t max_line = 64 * 1024;
constexpr int64_t max_bulk = int64_t{64} << 20;  // Redis allows 512 MiB; we never ask for more
constexpr int64_t max_elements = 1 << 20;
constexpr int max_depth = 8;

bool parse_int(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

void resp_parser::feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {  // keep the buffer from growing without bound
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  buffer_.append(bytes);
}

resp_parse resp_parser::fail(std::string why) {
  error_ = std::move(why);
  return resp_parse::malformed;
}

resp_parse resp_parser::next(resp_value& out) {
  if (!error_.empty()) {
    return resp_parse::malformed;
  }
  size_t at = pos_;
  auto result = parse(at, out, 0);
  if (result == resp_parse::value) {
    pos_ = at;  // an incomplete reply is parsed again from its start once more bytes came
  }
  return result;
}

resp_parse resp_parser::parse(size_t& at, resp_value& out, int depth) {
  std::string_view rest{buffer_};
  rest.remove_prefix(at);
  auto eol = rest.find("\r\n");
  if (eol == std::string_view::npos) {
    return rest.size() > max_line ? fail("reply line longer than 64 KiB") : resp_parse::need_more;
  }
  if (eol == 0) {
    return fail("empty reply line");
  }
  auto kind = rest[0];
  auto line = rest.substr(1, eol - 1);
  at += eol + 2;
  out = resp_value{};
  switch (kind) {
    case '+':
      out.type = resp_type::simple;
      out.text = std::string{line};
      return resp_parse::value;
    case '-':
      out.type = resp_type::error;
      out.text = std::string{line};
      return resp_parse::value;
    case ':':
      out.type = resp_type::integer;
      return parse_int(line, out.integer)
                 ? resp_parse::value
                 : fail("bad integer: " + std::string{line.substr(0, 100)});
    case '$': {
      int64_t size = 0;
      if (!parse_int(line, size) || size < -1 || size > max_bulk) {
        return fail("bad bulk length: " + std::string{line.substr(0, 100)});
      }
      if (size == -1) {
        out.type = resp_type::nil;
        return resp_parse::value;
      }
      auto n = static_cast<size_t>(size);
      if (buffer_.size() - at < n + 2) {
        return resp_parse::need_more;
      }
      if (buffer_.compare(at + n, 2, "\r\n") != 0) {
        return fail("bulk string not followed by CRLF");
      }
      out.type = resp_type::bulk;
      out.text = buffer_.substr(at, n);
      at += n + 2;
      return resp_parse::value;
    }
    case '*': {
      int64_t count = 0;
      if (!parse_int(line, count) || count < -1 || count > max_elements) {
        return fail("bad array length: " + std::string{line.substr(0, 100)});
      }
      if (count == -1) {
        out.type = resp_type::nil;
        return resp_parse::value;
      }
      if (depth >= max_depth) {
        return fail("arrays nested deeper than 8");
      }
      out.type = resp_type::array;
      out.elements.reserve(std::min<size_t>(static_cast<size_t>(count), 1024));
      for (int64_t i = 0; i < count; ++i) {
        resp_value element;
        if (auto r = parse(at, element, depth + 1); r != resp_parse::value) {
          return r;
        }
        out.elements.push_back(std::move(element));
      }
      return resp_parse::value;
    }
    default:
      return fail("unknown reply type: " + std::string{rest.substr(0, std::min<size_t>(eol, 100))});
  }
}

void append_resp_command(std::string& out, std::initializer_list<std::string_view> args) {
  out.append("*").append(std::to_string(args.size())).append("\r\n");
  for (auto arg : args) {
    out.append("$").append(std::to_string(arg.size())).append("\r\n").append(arg).append("\r\n");
  }
}

}  // namespace tidegate::bench
