#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::storage {

// What the node knows about delivering an owner's ops to each of the owner's devices
// (docs/storage-layout.md): a cursor per device, receipts of `once` ops, and dead letters.
// Keys follow keys.h: big-endian integers, u16-length-prefixed strings.

/// One device's position in one owner's log (DESIGN §5: multi_device keeps one per device).
struct device_cursor {
  uint64_t acked = 0;              ///< The device has every version <= acked.
  uint64_t delivered_through = 0;  ///< The newest version sent to the device.
  uint32_t attempts = 0;           ///< Syncs that sent (acked, delivered_through] again.
  uint64_t dead_through = 0;       ///< Versions in (acked, dead_through] were dead-lettered for it.
  uint64_t updated_at_ms = 0;

  bool operator==(const device_cursor& o) const {
    return acked == o.acked && delivered_through == o.delivered_through && attempts == o.attempts
           && dead_through == o.dead_through && updated_at_ms == o.updated_at_ms;
  }
};

/// cursors key: [u16 shard][u8 bucket][u16 len][owner][u16 len][device].
std::string encode_cursor_key(uint16_t shard, uint8_t bucket, std::string_view owner,
                              std::string_view device);
/// The prefix of every cursor of (shard, bucket, owner): the oplog owner prefix.
std::string cursor_owner_prefix(uint16_t shard, uint8_t bucket, std::string_view owner);
/// The device of a cursor or receipt key: its [str16 device] after `prefix`; nullopt if the
/// key does not start with `prefix` or has anything else after it.
std::optional<std::string> device_after(std::string_view key, std::string_view prefix);
/// [u8 format][u64 acked][u64 delivered_through][u32 attempts][u64 dead_through][u64 updated].
std::string encode_cursor(const device_cursor& c);
std::optional<device_cursor> decode_cursor(std::string_view bytes);

/// When one op reached one device and when the device acked it (0 = not yet).
struct receipt {
  uint64_t delivered_at_ms = 0;
  uint64_t acked_at_ms = 0;
};

/// receipts key: [u16 shard][u8 bucket][u16 len][owner][u64 version][u16 len][device].
std::string encode_receipt_key(uint16_t shard, uint8_t bucket, std::string_view owner,
                               uint64_t version, std::string_view device);
/// The prefix of every receipt of one op: its oplog key.
std::string receipt_op_prefix(uint16_t shard, uint8_t bucket, std::string_view owner,
                              uint64_t version);
/// [u8 format][u64 delivered_at_ms][u64 acked_at_ms].
std::string encode_receipt(const receipt& r);
std::optional<receipt> decode_receipt(std::string_view bytes);

/// An op that a device left unacked past its bucket's retry budget.
struct dead_letter {
  std::string business;
  uint64_t dead_at_ms = 0;
  uint8_t bucket = 0;
  std::string owner;
  uint64_t version = 0;
  std::string device;
  std::string msg_id;
  uint32_t attempts = 0;
  uint64_t created_at_ms = 0;
  std::string payload;
};

/// dead_letters key: [u16 len][business][u64 dead_at_ms][u8 bucket][u16 len][owner]
/// [u64 version][u16 len][device]: a business's dead letters in the order they died.
std::string encode_dead_letter_key(const dead_letter& d);
/// [u16 len][business]: the prefix of a business's dead letters.
std::string dead_letter_business_prefix(std::string_view business);
/// [u8 format][u16 len][msg_id][u32 attempts][u64 created_at_ms][u32 len][payload]; the other
/// fields come from the key.
std::string encode_dead_letter_value(const dead_letter& d);
/// Both halves back into one record; nullopt if either is malformed.
std::optional<dead_letter> decode_dead_letter(std::string_view key, std::string_view value);

}  // namespace tidegate::storage
