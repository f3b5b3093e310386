#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "storage/oplog_store.h"

namespace tidegate::actors {

/// How a bucket's ops are keyed and delivered (DESIGN §5).
enum class bucket_kind : uint8_t {
  user = 1,      ///< owner = user id; to the user's sessions.
  device,        ///< owner = device id; to that device, logged in or not.
  multi_device,  ///< owner = user id; to every device of the user.
  once,          ///< owner = user id; deleted once acked (pushes to a user).
  once_device,   ///< owner = device id; deleted once acked (pushes to a device).
  global,        ///< owner = app id; to every client of the app (read diffusion).
};

const char* to_string(bucket_kind kind);
std::optional<bucket_kind> bucket_kind_from(const std::string& text);

/// Whether acked ops of this kind are deleted.
inline bool deletes_on_ack(bucket_kind kind) {
  return kind == bucket_kind::once || kind == bucket_kind::once_device;
}

/// The on-disk bucket id of every topic's log: a topic is an owner of this bucket in the
/// oplog (decision 0010). Configured buckets never use it.
inline constexpr uint8_t topic_bucket_id = 255;

/// One configured bucket. `id` is its stable number on disk: never reuse one.
struct bucket_config {
  std::string name;
  bucket_kind kind = bucket_kind::user;
  uint8_t id = 0;
  uint32_t priority = 0;  ///< Higher sheds later under overload.
  storage::retention_policy retention;
  uint32_t retry_budget = 5;  ///< Syncs an op may stay unacked before it is dead-lettered.
};

/// Topics (DESIGN §6): one log per topic, read by every follower.
struct topic_config {
  storage::retention_policy retention{100'000, std::nullopt};  ///< Of every topic's log.
  uint32_t cache_messages = 1024;  ///< Newest messages a topic actor keeps in memory.
  /// A topic with no online followers and nothing to do for this long stops; the next use
  /// starts it again from storage.
  uint32_t idle_passivate_ms = 60'000;
  uint32_t max_follows_per_user = 10'000;  ///< A user's follows past this are refused.
  /// A node's relay sends a topic with at least `fanout_linger_followers` foreground
  /// followers at most one fan-out per `fanout_linger_ms`: what commits meanwhile goes out
  /// together (one message and one write per follower instead of several). 0 = never wait.
  uint32_t fanout_linger_ms = 20;
  uint32_t fanout_linger_followers = 5000;
};

/// SYNC settings of a node: buckets, the business -> bucket map, limits and storage.
struct sync_config {
  std::vector<bucket_config> buckets;
  std::unordered_map<std::string, std::string> businesses;  ///< business -> bucket name
  size_t max_payload_bytes = size_t{64} << 10;
  uint32_t page_max_ops = 100;
  size_t page_max_bytes = size_t{64} << 10;
  uint16_t shards = 1024;               ///< Virtual shards; fixed for the life of the data.
  uint64_t dedupe_ttl_ms = 86'400'000;  ///< How long a msg_id (and its receipts) is remembered.
  uint64_t dead_letter_ttl_ms = 604'800'000;  ///< How long a dead letter is kept (7 days).
  topic_config topics;

  /// The bucket named `name`, or null.
  const bucket_config* bucket(const std::string& name) const;
  /// The bucket with on-disk id `id`, or null.
  const bucket_config* bucket_by_id(uint8_t id) const;
  /// The bucket `business` is mapped to, or null.
  const bucket_config* bucket_of_business(const std::string& business) const;
};

/// The default buckets (ids 1-6: user, device, multi_device, once, once_device, global) and
/// the businesses every node has: "push" -> once, "push_device" -> once_device.
sync_config default_sync_config();

/// Why `next` cannot replace `current` at runtime, or empty: a bucket that stays must keep its
/// id and kind (its ops are stored under the id and delivered by the kind), ids stay unique,
/// and the number of shards never changes (it is in every key).
std::string reload_conflict(const sync_config& current, const sync_config& next);

/// The virtual shard of `owner`: FNV-1a of its bytes, modulo `shards`. Stable forever: it is
/// part of every oplog key.
uint16_t shard_of(const std::string& owner, uint16_t shards);

}  // namespace tidegate::actors
