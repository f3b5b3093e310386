#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/shard_map.h"

namespace tidegate::cluster {

/// How maps are agreed on, in the manner of Multi-Paxos with the leader as the only proposer
/// (decision 0013). Every member is an acceptor (map_acceptor); the leader's controller runs a
/// map_proposer. A leader first *prepares* a term above every term a majority promised and
/// learns their accepted maps; the accepted map of the highest (term, version) is the base of
/// what it proposes, so a map that a majority accepted (committed, possibly acted on) is never
/// lost with a leader. A proposal is committed once a majority accepted it; only committed maps
/// are acted on. Each acceptor accepts at most one map per (term, version), and two majorities
/// always share a member, so two leaders never both commit.

/// Orders maps: term first, then version.
bool newer(const shard_map& a, const shard_map& b);

/// One member's side; the caller persists state() before it answers (its promises must
/// survive a restart). Not thread-safe.
class map_acceptor {
 public:
  explicit map_acceptor(map_state state) : state_(std::move(state)) {}
  const map_state& state() const { return state_; }

  /// A leader prepares `term`: true (a promise) if it is above every term promised so far, so
  /// each term is promised once. A leader's retry always prepares a new term.
  bool prepare(uint64_t term);
  /// A leader proposes `map`: accepted (true) if its term is at least the promised one and it
  /// is newer than the accepted map.
  bool accept(const shard_map& map);
  /// `map` was committed by a majority: it is in effect here if newer than the committed map.
  /// Returns true when that changed the committed map.
  bool commit(const shard_map& map);

 private:
  map_state state_;
};

/// The leader's side: one prepare round, then proposals, each committed by a majority of the
/// known members. Not thread-safe.
class map_proposer {
 public:
  /// Starts a prepare round at a term above `at_least` (what this node promised or saw).
  map_proposer(std::string leader, uint64_t at_least, size_t majority);

  uint64_t term() const { return term_; }
  /// True once a majority promised: proposals may start.
  bool prepared() const { return prepared_; }

  /// `member` promised this term and has `accepted`. Returns true when this makes a majority.
  bool promised(const std::string& member, const shard_map& accepted);
  /// The map to build on: the newest a majority knows (the committed one, if any).
  const shard_map& base() const { return base_; }

  /// The next proposal: `next`'s shards, draining members and zone rules, numbered after
  /// every version seen, in this leader's term. It becomes the base.
  shard_map propose(shard_map next);
  /// The same with only shards (tests).
  shard_map propose(std::vector<shard_owner> shards) {
    shard_map next;
    next.shards = std::move(shards);
    return propose(std::move(next));
  }
  /// The proposal in flight, if any.
  const std::optional<shard_map>& in_flight() const { return in_flight_; }
  /// `member` accepted proposal `version`. Returns the map when this commits it.
  std::optional<shard_map> accepted(const std::string& member, uint64_t version);

 private:
  std::string leader_;
  uint64_t term_;
  size_t majority_;
  bool prepared_ = false;
  std::set<std::string> promises_;
  shard_map base_;
  uint64_t max_version_ = 0;
  std::optional<shard_map> in_flight_;
  std::set<std::string> acks_;
};

}  // namespace tidegate::cluster
