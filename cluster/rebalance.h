#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cluster/member.h"
#include "cluster/placement.h"
#include "cluster/shard_map.h"

namespace tidegate::cluster {

/// A primary's report that it sealed `shard` in `epoch` for a hand-off to `to`, finished what
/// it had started, and `to` confirmed every head: `to` holds all of the shard.
struct handoff_report {
  uint32_t shard = 0;
  uint64_t epoch = 0;
  std::string from;
  std::string to;
  /// `from`'s incarnation when it sealed: a member that restarted since may have lost what
  /// it held (periodic durability), so the hand-off is not applied.
  int64_t incarnation = 0;
};

/// Hands over the shards of `reports` that still match the owners (primary `from`, sealed
/// for `to`, same epoch): `to` becomes the primary in the next epoch and `from` its replica,
/// in sync (nothing was written on either side that the other lacks), unless `from` restarted
/// since it sealed (`incarnations`). Pure, like place().
void apply_handoffs(std::vector<shard_owner>& owners, const std::vector<handoff_report>& reports,
                    const std::map<std::string, int64_t>& incarnations);

/// What plan_moves() may start and must stop.
struct move_limits {
  /// Shards in motion at once: moves in progress plus replicas and learners catching up.
  /// Each costs a catch-up, and a shard with a learner streams every write to three members.
  size_t max_in_motion = 32;
  /// Moves and learners to cancel (sealed too long: the primary did not report the hand-off
  /// ready; a learner that cannot catch up), and shards not to move for now (cancelled lately).
  std::set<uint32_t> cancel;
};

/// Plans planned moves on top of place() (decision 0017), deterministic like it:
/// - a move is cancelled when its target is down or draining, or is in `limits.cancel`, and a
///   learner is dropped likewise;
/// - a primary on a draining member, or outside its shard's home zone while the zone has a
///   member up, moves to the least-loaded eligible member of the home zone (any zone if it
///   has none);
/// - within each home zone, primaries move from the most to the least loaded eligible member
///   until they differ by at most one (a member that joined gets its share);
/// - a replica on a draining member, or in its primary's zone while another zone has an
///   eligible member, moves to the least-loaded eligible member of another zone;
/// - in-sync replicas move from the most to the least loaded member, where zones allow.
/// A move first makes its target the shard's next replica: its learner while the replica is in
/// sync (decision 0020), else its replica (out of sync); a learner that caught up replaces the
/// replica (apply_sync_reports()). A learner on a member no longer eligible is dropped.
/// Eligible: up and not `draining`.
void plan_moves(std::vector<shard_owner>& owners, const std::vector<member_info>& up,
                const std::vector<zone_rule>& rules, const std::vector<std::string>& draining,
                const move_limits& limits);

}  // namespace tidegate::cluster
