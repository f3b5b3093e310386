#pragma once

#include <cstdint>

#include <caf/error.hpp>

namespace tidegate::actors {

/// Why a publish or a sync request was refused. Numbers travel inside caf::error: append
/// only. The ingress maps them to HTTP statuses and JSON error codes (docs/ingress-api.md).
enum class sync_errc : uint8_t {
  unknown_business = 1,  ///< No bucket is mapped to the business (400).
  unknown_bucket,        ///< The bucket is not configured (400).
  bad_owner,             ///< Empty or over 160 bytes (400).
  payload_too_large,     ///< Over `sync.max_payload_bytes` (413).
  bad_msg_id,            ///< Empty or over 160 bytes (400).
  not_durable,           ///< Storage refused or failed the write: nothing was acked (503).
  overloaded,            ///< The bucket's queue is full; retry later (429).
  reload_refused,        ///< A new config would move a bucket or the shards; nothing changed.
  unknown_op,            ///< No op with that msg_id is remembered (404).
  bad_topic,             ///< A topic name that is empty, too long or has other characters (400).
  bad_user,              ///< A follower's user id that is empty or over 160 bytes (400).
  shard_unavailable,     ///< The shard's primary cannot be reached from here, or moved (503).
  replica_fenced,        ///< A replica refused a stream its shard map does not name (503).
  replica_diverged,      ///< A replica holds another op under a version the primary sends.
};

const char* to_string(sync_errc code);

}  // namespace tidegate::actors

CAF_ERROR_CODE_ENUM(tidegate::actors::sync_errc, "sync")
