#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace tidegate::cluster {

/// Who serves one virtual shard. Names are member names (`node.id`); empty = none.
struct shard_owner {
  std::string primary;
  std::string replica;
  /// Bumped each time the primary changes. A primary writes, and a replica applies, only in
  /// the epoch of the map that named it (fencing, DESIGN §14.3).
  uint64_t epoch = 0;
  /// The replica holds everything the primary acknowledged and receives its stream, so it may
  /// be promoted. A replica starts out of sync; replication reports when it caught up.
  bool replica_in_sync = false;
  /// The replica's incarnation (member_info::started_at_ms) that caught up: a replica that
  /// restarted since may have lost what it held, so it must catch up again.
  int64_t replica_incarnation = 0;
  /// A planned move of the primary (rebalancing, drain, decision 0017): the member that takes
  /// the shard over. It is made the replica first; once it is in sync the primary seals the
  /// shard (holds new requests, finishes what it started, has the replica confirm every
  /// head) and reports it ready, and the leader swaps the two in the next epoch. Empty: none.
  std::string moving_to;
  /// A third copy catching up to replace the replica (decision 0020): the member a move makes
  /// the next replica while the in-sync one stays, so the shard never has a single full copy.
  /// It gets the primary's stream like the replica (a write is acknowledged once both applied
  /// it) and is never promoted; once it caught up it becomes the in-sync replica and the old
  /// replica is dropped. Empty: none.
  std::string learner;

  /// The primary holds the shard's requests for a hand-off to `moving_to`.
  bool sealed() const { return !moving_to.empty() && moving_to == replica && replica_in_sync; }

  friend bool operator==(const shard_owner& a, const shard_owner& b) {
    return a.primary == b.primary && a.replica == b.replica && a.epoch == b.epoch
           && a.replica_in_sync == b.replica_in_sync
           && a.replica_incarnation == b.replica_incarnation && a.moving_to == b.moving_to
           && a.learner == b.learner;
  }
  friend bool operator!=(const shard_owner& a, const shard_owner& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_owner& x) {
  return f(caf::meta::type_name("shard_owner"), x.primary, x.replica, x.epoch, x.replica_in_sync,
           x.replica_incarnation, x.moving_to, x.learner);
}

/// Virtual shards [first, last] live in `zone` (as LDC maps uid ranges to RZones).
struct zone_rule {
  uint32_t first = 0;
  uint32_t last = 0;
  std::string zone;

  friend bool operator==(const zone_rule& a, const zone_rule& b) {
    return a.first == b.first && a.last == b.last && a.zone == b.zone;
  }
  friend bool operator!=(const zone_rule& a, const zone_rule& b) { return !(a == b); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, zone_rule& x) {
  return f(caf::meta::type_name("zone_rule"), x.first, x.last, x.zone);
}

/// Every virtual shard's owners, as the controller on the leader decided them. Travels between
/// nodes (registered as "tidegate::cluster::shard_map") and is persisted by every member.
struct shard_map {
  /// The term of the leader that proposed it (map_consensus.h): terms order maps first.
  uint64_t term = 0;
  /// Increases with every map proposed, across leaders. 0 = no map yet.
  uint64_t version = 0;
  /// The leader that proposed it.
  std::string issued_by;
  /// Indexed by virtual shard.
  std::vector<shard_owner> shards;
  /// Members being drained (`POST /cluster/drain`): they get no new shards, and their
  /// primaries and replicas move to other members. Sorted.
  std::vector<std::string> draining;
  /// The home zones of shard ranges in effect: the leader's `[[cluster.zone_rules]]` until
  /// rules are pushed at runtime (`PUT /cluster/zone-rules`, `zone_rules_pushed`); from then
  /// on the pushed ones, whatever the config files say.
  std::vector<zone_rule> zone_rules;
  bool zone_rules_pushed = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_map& x) {
  return f(caf::meta::type_name("shard_map"), x.term, x.version, x.issued_by, x.shards, x.draining,
           x.zone_rules, x.zone_rules_pushed);
}

/// What a member keeps of the map protocol (map_consensus.h), persisted before it answers.
struct map_state {
  /// The highest term it promised: it accepts no proposal of a lower term.
  uint64_t promised_term = 0;
  /// The last proposal it accepted (maybe never committed).
  shard_map accepted;
  /// The last map it knows was committed: the one in effect.
  shard_map committed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, map_state& x) {
  return f(caf::meta::type_name("map_state"), x.promised_term, x.accepted, x.committed);
}

/// Bytes of `state` for a file: a magic, a format version, then CAF's binary encoding.
std::string encode_map_state(const map_state& state);
/// The state in `bytes`, or nullopt with `error` naming what is wrong.
std::optional<map_state> decode_map_state(const std::string& bytes, std::string& error);

/// Writes `state` to `path` durably: a temp file, fsync, rename over `path`, fsync of the
/// directory. Returns why not, or empty.
std::string save_map_state(const std::string& path, const map_state& state);
/// Reads the state at `path`: an empty one if there is no file; nullopt with `error` if the
/// file cannot be read or decoded.
std::optional<map_state> load_map_state(const std::string& path, std::string& error);

}  // namespace tidegate::cluster
