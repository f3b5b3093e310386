#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::storage {

// Key encodings of every DBI (docs/storage-layout.md). Integers are big-endian and strings are
// prefixed by a u16 length, so LMDB's bytewise order is (fields in order, numbers numerically)
// and one owner's keys never interleave with another's ("a" and "ab" are disjoint ranges).

/// Longest owner, business or msg_id: three of them plus headers fit LMDB's 511-byte keys.
inline constexpr size_t max_key_field_size = 160;

/// The position of one op: oplog key [u16 shard][u8 bucket][u16 len][owner][u64 version].
struct oplog_key {
  uint16_t shard = 0;
  uint8_t bucket = 0;
  std::string owner;
  uint64_t version = 0;
};

/// One owner's log: the oplog key prefix [u16 shard][u8 bucket][u16 len][owner].
std::string oplog_owner_prefix(uint16_t shard, uint8_t bucket, std::string_view owner);
std::string encode_oplog_key(const oplog_key& key);
/// Nullopt unless `bytes` is exactly one well-formed oplog key.
std::optional<oplog_key> decode_oplog_key(std::string_view bytes);

/// An idempotency key: [u8 bucket][u16 len][business][u16 len][owner][u16 len][msg_id].
struct dedupe_key {
  uint8_t bucket = 0;
  std::string business;
  std::string owner;
  std::string msg_id;
};

std::string encode_dedupe_key(const dedupe_key& key);
std::optional<dedupe_key> decode_dedupe_key(std::string_view bytes);

/// A dedupe value: [u64 version][u64 expires_at_ms] (0 = never expires).
struct dedupe_value {
  uint64_t version = 0;
  uint64_t expires_at_ms = 0;
};

std::string encode_dedupe_value(const dedupe_value& value);
std::optional<dedupe_value> decode_dedupe_value(std::string_view bytes);

/// The dedupe_exp index key: [u64 expires_at_ms][dedupe key bytes]; its value is empty.
std::string encode_expiry_key(uint64_t expires_at_ms, std::string_view dedupe_key_bytes);

/// Meta key tags (first byte of every meta key).
enum class meta_tag : uint8_t {
  layout = 0x00,       ///< [0x00]: value [u8 layout version].
  owner_state = 0x01,  ///< [0x01][u8 bucket][u16 shard][u16 len][owner]: an owner_state value.
};

/// The meta key holding the layout version.
std::string layout_meta_key();

/// Who an owner_state belongs to.
struct owner_id {
  uint16_t shard = 0;
  uint8_t bucket = 0;
  std::string owner;
};

/// [0x01][u8 bucket][u16 shard][u16 len][owner]: bucket first, so compaction walks a bucket.
std::string encode_owner_state_key(const owner_id& id);
/// [0x01][u8 bucket]: the prefix of every owner_state key of `bucket`.
std::string owner_state_bucket_prefix(uint8_t bucket);
/// [0x01][u8 bucket][u16 shard]: the prefix of every owner_state key of (bucket, shard).
std::string owner_state_shard_prefix(uint8_t bucket, uint16_t shard);
std::optional<owner_id> decode_owner_state_key(std::string_view bytes);

/// An owner's versions: head = newest assigned (0: none yet); low_watermark = oldest version
/// that may still be stored (every version below it was trimmed; 1 when nothing was).
struct owner_state {
  uint64_t head = 0;
  uint64_t low_watermark = 1;
};

/// [u8 1][u64 head][u64 low_watermark].
std::string encode_owner_state(const owner_state& state);
std::optional<owner_state> decode_owner_state(std::string_view bytes);

}  // namespace tidegate::storage
