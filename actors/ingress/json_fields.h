#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/ingress/ingress_parse.h"

#include <nlohmann/json.hpp>

namespace tidegate::actors::ingress_detail {

// Reading JSON request bodies field by field, with errors that name the field: shared by the
// ingress parsers (ingress_parse.cc, topic_parse.cc). Not part of the module's API.

using json = nlohmann::json;
using maybe_error = std::optional<ingress_error>;

inline constexpr uint64_t max_ttl_ms = uint64_t{365} * 24 * 3600 * 1000;  // no expiry overflows
inline constexpr size_t max_list_entries = 255;  // a list in an oplog record (oplog_record.h)

/// A 400 with `code` and `message`.
ingress_error bad(std::string code, std::string message);
/// A JSON text of untrusted `text`, cut to 64 bytes, safe to put in a message.
std::string json_quoted(std::string_view text);
/// "an object", "a string", ...: what `v` is, for messages.
const char* type_name(const json& v);
ingress_error wrong_type(const std::string& field, const char* expected, const json& got);
maybe_error missing(const std::string& field);

// The fields of one JSON object: reads known ones by name, then refuses any other, so a typo
// ("filter" for "filters") is an error instead of a silently dropped field.
class object_reader {
 public:
  object_reader(const json& object, std::string prefix)
      : object_(object), prefix_(std::move(prefix)) {}

  const json* get(const char* key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
      known_.emplace_back(key);
    }
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  std::string name(const char* key) const { return prefix_ + key; }

  maybe_error unknown_fields() const;

 private:
  const json& object_;
  std::string prefix_;
  std::vector<std::string> known_;
};

/// A string field of `min`..`max` bytes; `code` names the error of a bad length.
maybe_error read_string(object_reader& r, const char* key, bool required, size_t min, size_t max,
                        const char* code, std::string& out);
/// An integer field in 0..`max`.
maybe_error read_u64(object_reader& r, const char* key, bool required, uint64_t max, uint64_t& out);
/// An array of at most max_list_entries strings of 1..max_key_bytes bytes.
maybe_error read_string_list(object_reader& r, const char* key, std::vector<std::string>& out);
/// "payload" (the string's UTF-8 bytes) or "payload_base64", at most one.
maybe_error read_payload(object_reader& r, bool required, const parse_limits& limits,
                         std::string& out);

}  // namespace tidegate::actors::ingress_detail
