#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tidegate::storage {

// The follow index of Topics (DESIGN §6, docs/storage-layout.md): who follows which topic,
// and how many follow each. Keys follow keys.h: big-endian integers, u16-length-prefixed
// strings. A topic's messages are not here: they are the oplog of the topics' bucket id.

/// One user's follow of one topic.
struct follow {
  /// The topic's head when the user followed: the user's stream of the topic starts after it
  /// (an older message is never delivered to a new follower).
  uint64_t since_version = 0;
  uint64_t followed_at_ms = 0;
};

/// follows key: [u16 shard(user)][u16 len][user][u16 len][topic]: a user's topics are one
/// range, under the user's shard.
std::string encode_follow_key(uint16_t user_shard, std::string_view user, std::string_view topic);
/// The prefix of every follow of `user`.
std::string follow_user_prefix(uint16_t user_shard, std::string_view user);
/// The topic of a follows key: its [str16 topic] after `prefix`; nullopt if the key does not
/// start with `prefix` or has anything else after it.
std::optional<std::string> topic_after(std::string_view key, std::string_view prefix);
/// [u8 format][u64 since_version][u64 followed_at_ms].
std::string encode_follow(const follow& f);
std::optional<follow> decode_follow(std::string_view bytes);

/// What the node keeps per topic besides its log.
struct topic_meta {
  uint64_t followers = 0;
};

/// topic_meta key: [u16 shard(topic)][u16 len][topic].
std::string encode_topic_meta_key(uint16_t topic_shard, std::string_view topic);
/// [u8 format][u64 followers].
std::string encode_topic_meta(const topic_meta& m);
std::optional<topic_meta> decode_topic_meta(std::string_view bytes);

}  // namespace tidegate::storage
