#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/storage_errc.h"

namespace tidegate::storage {

/// Who may receive an op (DESIGN §5, `global` bucket); an empty or zero field does not filter.
struct op_filters {
  std::vector<std::string> os;    ///< e.g. "ios", "android"; empty: any OS.
  std::string app_version_min;    ///< Inclusive; empty: no lower bound.
  std::string app_version_max;    ///< Inclusive; empty: no upper bound.
  uint64_t valid_from_ms = 0;     ///< 0: no lower bound.
  uint64_t valid_to_ms = 0;       ///< 0: no upper bound.
  std::vector<std::string> uids;  ///< Explicit uid list; empty: any.
  uint64_t uid_min = 0;           ///< Numeric uid range, inclusive; both 0: any.
  uint64_t uid_max = 0;

  friend bool operator==(const op_filters& a, const op_filters& b);
};

/// How a push (a `once` op, DESIGN §7) is shown by the OS.
struct push_display {
  std::string title;
  std::string body;
  std::string action;

  friend bool operator==(const push_display& a, const push_display& b);
};

/// One SYNC op as stored (DESIGN §5). The version is assigned by the owner's sync_bucket.
struct oplog_record {
  uint8_t bucket = 0;
  std::string owner;
  uint64_t version = 0;
  std::string business;
  std::string payload;
  std::string msg_id;
  uint64_t created_at_ms = 0;
  uint64_t expires_at_ms = 0;  ///< 0: never.
  std::optional<op_filters> filters;
  std::optional<push_display> push;

  friend bool operator==(const oplog_record& a, const oplog_record& b);
};

/// The record format version written by encode_record (first byte).
inline constexpr uint8_t record_format_v1 = 1;

/// Largest payload a record may carry (a u32 length on disk; far below it in practice).
inline constexpr size_t max_payload_size = size_t{16} << 20;

/// The record's bytes (docs/storage-layout.md); `bad_record` if a field is too long
/// (strings over 65535 bytes, lists over 255 entries, a payload over max_payload_size).
storage_result<std::string> encode_record(const oplog_record& record);

/// Parses untrusted bytes: any malformed input is a `bad_record` error, never a crash, and
/// never allocates more than `bytes.size()` plus constant overhead per field. Pure.
storage_result<oplog_record> decode_record(std::string_view bytes);

}  // namespace tidegate::storage
