#include "storage/follow_records.h"

#include "storage/byte_io.h"

namespace tidegate::storage {
namespace {

constexpr uint8_t follow_format = 1;
constexpr uint8_t topic_meta_format = 1;

}  // namespace

std::string follow_user_prefix(uint16_t user_shard, std::string_view user) {
  std::string out;
  put_u16(user_shard, out);
  put_str16(user, out);
  return out;
}

std::string encode_follow_key(uint16_t user_shard, std::string_view user, std::string_view topic) {
  auto out = follow_user_prefix(user_shard, user);
  put_str16(topic, out);
  return out;
}

std::optional<std::string> topic_after(std::string_view key, std::string_view prefix) {
  if (key.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  byte_reader in(key.substr(prefix.size()));
  auto topic = in.str16();
  if (!in.done()) {
    return std::nullopt;
  }
  return topic;
}

std::string encode_follow(const follow& f) {
  std::string out;
  put_u8(follow_format, out);
  put_u64(f.since_version, out);
  put_u64(f.followed_at_ms, out);
  return out;
}

std::optional<follow> decode_follow(std::string_view bytes) {
  byte_reader in(bytes);
  if (in.u8() != follow_format) {
    return std::nullopt;
  }
  follow f;
  f.since_version = in.u64();
  f.followed_at_ms = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return f;
}

std::string encode_topic_meta_key(uint16_t topic_shard, std::string_view topic) {
  std::string out;
  put_u16(topic_shard, out);
  put_str16(topic, out);
  return out;
}

std::string encode_topic_meta(const topic_meta& m) {
  std::string out;
  put_u8(topic_meta_format, out);
  put_u64(m.followers, out);
  return out;
}

std::optional<topic_meta> decode_topic_meta(std::string_view bytes) {
  byte_reader in(bytes);
  if (in.u8() != topic_meta_format) {
    return std::nullopt;
  }
  topic_meta m;
  m.followers = in.u64();
  if (!in.done()) {
    return std::nullopt;
  }
  return m;
}

}  // namespace tidegate::storage
