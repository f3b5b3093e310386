#include "actors/sync/sync_errc.h"

namespace tidegate::actors {

const char* to_string(sync_errc code) {
  switch (code) {
    case sync_errc::unknown_business:
      return "unknown_business";
    case sync_errc::unknown_bucket:
      return "unknown_bucket";
    case sync_errc::bad_owner:
      return "bad_owner";
    case sync_errc::payload_too_large:
      return "payload_too_large";
    case sync_errc::bad_msg_id:
      return "bad_msg_id";
    case sync_errc::not_durable:
      return "not_durable";
    case sync_errc::overloaded:
      return "overloaded";
    case sync_errc::reload_refused:
      return "reload_refused";
    case sync_errc::unknown_op:
      return "unknown_op";
    case sync_errc::bad_topic:
      return "bad_topic";
    case sync_errc::bad_user:
      return "bad_user";
    case sync_errc::shard_unavailable:
      return "shard_unavailable";
    case sync_errc::replica_fenced:
      return "replica_fenced";
    case sync_errc::replica_diverged:
      return "replica_diverged";
  }
  return "unknown";
}

}  // namespace tidegate::actors
