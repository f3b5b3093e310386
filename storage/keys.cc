#include "storage/keys.h"

#include "storage/byte_io.h"

namespace tidegate::storage {
namespace {

constexpr uint8_t owner_state_format = 1;

}  // namespace

std::string oplog_owner_prefix(uint16_t shard, uint8_t bucket, std::string_view owner) {
  std::string out;
  out.reserve(5 + owner.size() + 8);
  put_u16(shard, out);
  put_u8(bucket, out);
  put_str16(owner, out);
  return out;
}

std::string encode_oplog_key(const oplog_key& key) {
  auto out = oplog_owner_prefix(key.shard, key.bucket, key.owner);
  put_u64(key.version, out);
  return out;
}

std::optional<oplog_key> decode_oplog_key(std::string_view bytes) {
  byte_reader in(bytes);
  oplog_key key;
  key.shard = in.u16();
  key.bucket = in.u8();
  key.owner = in.str16();
  key.version = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return key;
}

std::string encode_dedupe_key(const dedupe_key& key) {
  std::string out;
  put_u8(key.bucket, out);
  put_str16(key.business, out);
  put_str16(key.owner, out);
  put_str16(key.msg_id, out);
  return out;
}

std::optional<dedupe_key> decode_dedupe_key(std::string_view bytes) {
  byte_reader in(bytes);
  dedupe_key key;
  key.bucket = in.u8();
  key.business = in.str16();
  key.owner = in.str16();
  key.msg_id = in.str16();
  if (!in.done()) {
    return std::nullopt;
  }
  return key;
}

std::string encode_dedupe_value(const dedupe_value& value) {
  std::string out;
  put_u64(value.version, out);
  put_u64(value.expires_at_ms, out);
  return out;
}

std::optional<dedupe_value> decode_dedupe_value(std::string_view bytes) {
  byte_reader in(bytes);
  dedupe_value value;
  value.version = in.u64();
  value.expires_at_ms = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return value;
}

std::string encode_expiry_key(uint64_t expires_at_ms, std::string_view dedupe_key_bytes) {
  std::string out;
  put_u64(expires_at_ms, out);
  out.append(dedupe_key_bytes);
  return out;
}

std::string layout_meta_key() {
  std::string out;
  put_u8(static_cast<uint8_t>(meta_tag::layout), out);
  return out;
}

std::string encode_owner_state_key(const owner_id& id) {
  auto out = owner_state_shard_prefix(id.bucket, id.shard);
  put_str16(id.owner, out);
  return out;
}

std::string owner_state_bucket_prefix(uint8_t bucket) {
  std::string out;
  put_u8(static_cast<uint8_t>(meta_tag::owner_state), out);
  put_u8(bucket, out);
  return out;
}

std::string owner_state_shard_prefix(uint8_t bucket, uint16_t shard) {
  auto out = owner_state_bucket_prefix(bucket);
  put_u16(shard, out);
  return out;
}

std::optional<owner_id> decode_owner_state_key(std::string_view bytes) {
  byte_reader in(bytes);
  owner_id id;
  if (in.u8() != static_cast<uint8_t>(meta_tag::owner_state)) {
    return std::nullopt;
  }
  id.bucket = in.u8();
  id.shard = in.u16();
  id.owner = in.str16();
  if (!in.done()) {
    return std::nullopt;
  }
  return id;
}

std::string encode_owner_state(const owner_state& state) {
  std::string out;
  put_u8(owner_state_format, out);
  put_u64(state.head, out);
  put_u64(state.low_watermark, out);
  return out;
}

std::optional<owner_state> decode_owner_state(std::string_view bytes) {
  byte_reader in(bytes);
  if (in.u8() != owner_state_format) {
    return std::nullopt;
  }
  owner_state state;
  state.head = in.u64();
  state.low_watermark = in.u64();
  if (!in.done() || state.low_watermark == 0 || state.low_watermark - 1 > state.head) {
    return std::nullopt;
  }
  return state;
}

}  // namespace tidegate::storage
