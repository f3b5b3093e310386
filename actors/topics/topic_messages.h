#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "actors/sync/bucket_config.h"
#include "actors/sync/sync_wire.h"
#include "storage/oplog_record.h"

namespace tidegate::actors {

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

/// A topic_batch as it travels to the relay of another member, which makes it a
/// topic_batch_ptr again (a shared_ptr does not travel).
struct topic_records {
  std::string topic;
  std::vector<storage::oplog_record> records;
  uint64_t head = 0;
};

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

// How topic messages travel between members (as sync_wire.h for SYNC): registered under the
// same names on every node by add_topic_message_types(). Changing a field is a wire change.

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_publish& x) {
  return f(caf::meta::type_name("topic_publish"), x.topic, x.payload, x.msg_id, x.ttl_ms);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_records& x) {
  return f(caf::meta::type_name("topic_records"), x.topic, x.records, x.head);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, follow_outcome& x) {
  return f(caf::meta::type_name("follow_outcome"), x.following, x.changed, x.since_version,
           x.refused);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic_info& x) {
  return f(caf::meta::type_name("topic_info"), x.topic, x.head, x.followers, x.online_followers,
           x.interested_nodes);
}

/// Registers the topic messages that travel between members.
void add_topic_message_types(caf::actor_system_config& cfg);

}  // namespace tidegate::actors

// A shared_ptr to one node's memory: local only (topic_records travels instead).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(tidegate::actors::topic_batch_ptr)
