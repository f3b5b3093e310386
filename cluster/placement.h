#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cluster/member.h"
#include "cluster/shard_map.h"

namespace tidegate::cluster {

/// The home zone of `shard`: the zone of the first rule that covers it, or empty (any zone).
std::string home_zone(const std::vector<zone_rule>& rules, uint32_t shard);

/// The next owners of every shard, from the `current` ones (empty: none yet) and the members
/// that are up. Pure and deterministic (ties go to the smaller name), so it is tested alone:
/// - a shard whose primary is up keeps it;
/// - a shard whose primary is down gets its replica promoted if that is up and in sync
///   (epoch + 1); otherwise it keeps them and stays unavailable rather than lose what the
///   primary acknowledged;
/// - a shard never assigned gets the least-loaded member of its home zone as primary (of any
///   zone when its home zone has no member up), epoch 1;
/// - a shard whose replica is missing or down gets the least-loaded member in another zone
///   than its primary's, or in the same zone when no other zone has one; a new replica is not
///   in sync. When the shard has a learner up, the learner becomes that replica (not in sync);
///   a learner that is down is dropped.
std::vector<shard_owner> place(const std::vector<shard_owner>& current,
                               const std::vector<member_info>& up,
                               const std::vector<zone_rule>& rules, uint32_t shard_count);

/// A primary's report that `replica`, in its incarnation `incarnation`, holds everything of
/// `shard` that was acknowledged in `epoch` and receives its stream.
struct sync_report {
  uint32_t shard = 0;
  uint64_t epoch = 0;
  std::string replica;
  int64_t incarnation = 0;
};

/// Marks replicas in sync from `reports` that still match the owners (same replica, same
/// epoch, same incarnation), and out of sync those whose member restarted since it caught up
/// (`incarnations`: each known member's started_at_ms). A report for a shard's learner makes
/// the learner its in-sync replica in place of the old one (decision 0020). Pure, like place().
void apply_sync_reports(std::vector<shard_owner>& owners, const std::vector<sync_report>& reports,
                        const std::map<std::string, int64_t>& incarnations);

}  // namespace tidegate::cluster
