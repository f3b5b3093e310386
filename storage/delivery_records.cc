#include "storage/delivery_records.h"

#include "storage/byte_io.h"
#include "storage/keys.h"

namespace tidegate::storage {
namespace {

constexpr uint8_t cursor_format = 1;
constexpr uint8_t receipt_format = 1;
constexpr uint8_t dead_letter_format = 1;

}  // namespace

std::string cursor_owner_prefix(uint16_t shard, uint8_t bucket, std::string_view owner) {
  return oplog_owner_prefix(shard, bucket, owner);
}

std::string encode_cursor_key(uint16_t shard, uint8_t bucket, std::string_view owner,
                              std::string_view device) {
  auto out = cursor_owner_prefix(shard, bucket, owner);
  put_str16(device, out);
  return out;
}

std::optional<std::string> device_after(std::string_view key, std::string_view prefix) {
  if (key.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  byte_reader in(key.substr(prefix.size()));
  auto device = in.str16();
  if (!in.done()) {
    return std::nullopt;
  }
  return device;
}

std::string encode_cursor(const device_cursor& c) {
  std::string out;
  put_u8(cursor_format, out);
  put_u64(c.acked, out);
  put_u64(c.delivered_through, out);
  put_u32(c.attempts, out);
  put_u64(c.dead_through, out);
  put_u64(c.updated_at_ms, out);
  return out;
}

std::optional<device_cursor> decode_cursor(std::string_view bytes) {
  byte_reader in(bytes);
  if (in.u8() != cursor_format) {
    return std::nullopt;
  }
  device_cursor c;
  c.acked = in.u64();
  c.delivered_through = in.u64();
  c.attempts = in.u32();
  c.dead_through = in.u64();
  c.updated_at_ms = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return c;
}

std::string receipt_op_prefix(uint16_t shard, uint8_t bucket, std::string_view owner,
                              uint64_t version) {
  auto out = oplog_owner_prefix(shard, bucket, owner);
  put_u64(version, out);
  return out;
}

std::string encode_receipt_key(uint16_t shard, uint8_t bucket, std::string_view owner,
                               uint64_t version, std::string_view device) {
  auto out = receipt_op_prefix(shard, bucket, owner, version);
  put_str16(device, out);
  return out;
}

std::string encode_receipt(const receipt& r) {
  std::string out;
  put_u8(receipt_format, out);
  put_u64(r.delivered_at_ms, out);
  put_u64(r.acked_at_ms, out);
  return out;
}

std::optional<receipt> decode_receipt(std::string_view bytes) {
  byte_reader in(bytes);
  if (in.u8() != receipt_format) {
    return std::nullopt;
  }
  receipt r;
  r.delivered_at_ms = in.u64();
  r.acked_at_ms = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return r;
}

std::string dead_letter_business_prefix(std::string_view business) {
  std::string out;
  put_str16(business, out);
  return out;
}

std::string encode_dead_letter_key(const dead_letter& d) {
  auto out = dead_letter_business_prefix(d.business);
  put_u64(d.dead_at_ms, out);
  put_u8(d.bucket, out);
  put_str16(d.owner, out);
  put_u64(d.version, out);
  put_str16(d.device, out);
  return out;
}

std::string encode_dead_letter_value(const dead_letter& d) {
  std::string out;
  put_u8(dead_letter_format, out);
  put_str16(d.msg_id, out);
  put_u32(d.attempts, out);
  put_u64(d.created_at_ms, out);
  put_u32(static_cast<uint32_t>(d.payload.size()), out);
  out += d.payload;
  return out;
}

std::optional<dead_letter> decode_dead_letter(std::string_view key, std::string_view value) {
  dead_letter d;
  byte_reader k(key);
  d.business = k.str16();
  d.dead_at_ms = k.u64();
  d.bucket = k.u8();
  d.owner = k.str16();
  d.version = k.u64();
  d.device = k.str16();
  byte_reader v(value);
  if (!k.done() || v.u8() != dead_letter_format) {
    return std::nullopt;
  }
  d.msg_id = v.str16();
  d.attempts = v.u32();
  d.created_at_ms = v.u64();
  d.payload = v.str32();
  if (!v.done()) {
    return std::nullopt;
  }
  return d;
}

}  // namespace tidegate::storage
