#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include "storage/oplog_record.h"

namespace tidegate::actors {

/// The on-disk bucket id of every topic's log: a topic is an owner of this bucket in the
/// oplog (decision 0010). Configured buckets never use it.
inline constexpr uint8_t topic_bucket_id = 255;

/// A topic name: 1 to 160 characters of A-Z, a-z, 0-9, '-', '_', '.' and ':' (so it needs no
/// escaping in a URL path, a log line or a metric label).
bool is_topic_name(const std::string& name);

/// One message for a topic, before it has a version.
struct topic_publish {
  std::string topic;
  std::string payload;
  std::string msg_id;   ///< Idempotency key: (topic, msg_id) is unique.
  uint64_t ttl_ms = 0;  ///< 0 = no expiry.
};

/// A SYNC_DATA payload made once and sent by every session that needs exactly it.
struct shared_payload {
  std::string bytes;        ///< As it travels (zstd when `compressed`).
  bool compressed = false;  ///< Send with the COMPRESSED flag.
};

/// Messages of one topic, newest last, with contiguous versions: what one commit added,
/// shared by every relay and session it reaches (never copied per follower). Immutable once
/// sent, except `encoded`, which the first session to need it fills (thread-safe).
struct topic_batch {
  std::string topic;
  std::vector<storage::oplog_record> records;
  uint64_t head = 0;  ///< The topic's newest durable version (records.back().version).

  /// The SyncData page of all `records` as `make` builds it, made by the first caller and
  /// shared by the others: with S followers a commit is encoded (and compressed) once, not S
  /// times. Every caller must pass an equivalent `make` (same encoding options).
  template <class Make>
  const shared_payload& encoded(Make make) const {
    std::call_once(encoded_once_, [&] { make(encoded_); });
    return encoded_;
  }

 private:
  mutable std::once_flag encoded_once_;
  mutable shared_payload encoded_;
};

using topic_batch_ptr = std::shared_ptr<const topic_batch>;

/// The outcome of a follow or unfollow.
struct follow_outcome {
  bool following = false;      ///< Whether the user follows the topic now.
  bool changed = false;        ///< False: it already was so (nothing written).
  uint64_t since_version = 0;  ///< The follow's start (0 when not following).
  std::string refused;         ///< Why the follow was refused (nothing changed); empty if not.
};

/// The outcomes of a follow or unfollow of several users, in their order.
using follow_outcomes = std::vector<follow_outcome>;

/// A topic as the ingress shows it (GET /v1/topics/{topic}).
struct topic_info {
  std::string topic;
  uint64_t head = 0;
  uint64_t followers = 0;
  uint64_t online_followers = 0;              ///< Sessions registered with the relays that asked.
  std::vector<std::string> interested_nodes;  ///< Nodes with online followers.
};

/// One followed topic of a user: where the user's stream of it starts.
using followed_topics = std::vector<std::pair<std::string, uint64_t>>;

}  // namespace tidegate::actors

// Local only for now; the cluster will give them an inspect() and type ids.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::topic_publish)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::topic_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::follow_outcomes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::topic_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::followed_topics)
