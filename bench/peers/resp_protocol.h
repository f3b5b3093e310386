#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace tidegate::bench {

/// The RESP2 reply types a Redis server sends.
enum class resp_type : uint8_t {
  simple,   ///< +text
  error,    ///< -text
  integer,  ///< :N
  bulk,     ///< $N then N bytes
  nil,      ///< $-1 or *-1
  array,    ///< *N then N values
};

/// One reply. `text` holds simple, error and bulk strings; `elements` an array's values.
struct resp_value {
  resp_type type = resp_type::nil;
  std::string text;
  int64_t integer = 0;
  std::vector<resp_value> elements;
};

/// What resp_parser::next() found.
enum class resp_parse : uint8_t {
  value,      ///< One complete reply was taken out of the buffer.
  need_more,  ///< The buffer ends inside a reply: feed more bytes.
  malformed,  ///< Not RESP; error() says why. The stream is unusable after it.
};

/// Incremental parser of Redis replies (RESP2). Bytes go in as they arrive, in any chunks;
/// replies come out whole. Not thread-safe; one connection owns it.
class resp_parser {
 public:
  /// Appends bytes read from the socket.
  void feed(std::string_view bytes);
  /// Moves the next complete reply into `out`; `out` is unspecified unless `value`.
  resp_parse next(resp_value& out);
  /// Why the last `malformed` was returned.
  const std::string& error() const { return error_; }

 private:
  resp_parse parse(size_t& at, resp_value& out, int depth);
  resp_parse fail(std::string why);

  std::string buffer_;
  size_t pos_ = 0;  // bytes of buffer_ already parsed
  std::string error_;
};

/// Appends a command as a RESP array of bulk strings, e.g. {"XADD", key, "*", "p", payload}.
void append_resp_command(std::string& out, std::initializer_list<std::string_view> args);

}  // namespace tidegate::bench
