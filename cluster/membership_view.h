#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cluster/member.h"

namespace tidegate::cluster {

/// One member as this node sees it.
struct member_status {
  member_info info;
  bool self = false;
  /// Heard from within the failure timeout (always true for self).
  bool reachable = false;
  /// When this node last heard from it directly, in its clock's milliseconds; 0 = never.
  int64_t last_heard_ms = 0;
};

/// What one node knows of the cluster: the members, which of them it can reach, and what
/// follows (majority, leader). Pure bookkeeping with the time passed in, so the rules are
/// tested without processes or clocks; the membership actor feeds it. Not thread-safe.
///
/// The known members are the configured seeds plus every member learned since, directly or
/// through another member's list. A seed counts as a member of its own until a member with its
/// address is known, so a node started alone with three seeds sees 1 of 3 and never believes
/// it is a majority on its own. A member that left gracefully is forgotten (with a tombstone,
/// so gossip does not bring that incarnation back); one that died stays known, unreachable.
class membership_view {
 public:
  /// `seeds` are cluster addresses ("host:port") as the members advertise them; this node's
  /// own address among them is ignored.
  membership_view(member_info self, const std::vector<std::string>& seeds);

  const member_info& self() const { return self_.info; }

  /// `m` was heard directly at `now` (a hello or heartbeat): it is reachable. Returns false,
  /// changing nothing, for an incarnation older than the known one or one that left.
  bool heard(const member_info& m, int64_t now);

  /// `m` is named in a peer's member list. Returns true when it is new to this node (or a
  /// newer incarnation of a known member): the caller should dial it. A member learned this
  /// way is unreachable until heard.
  bool learn(const member_info& m);

  /// The link to `name` broke (its actor is down): unreachable at once.
  void lost(const std::string& name);

  /// `name`'s incarnation `started_at_ms` left the cluster: forget it.
  void left(const std::string& name, int64_t started_at_ms);

  /// Marks unreachable each member not heard within `timeout_ms` before `now`; returns their
  /// names.
  std::vector<std::string> expire(int64_t now, int64_t timeout_ms);

  /// Counts every reachable member as heard at `now`. For use after this node itself stalled
  /// (a long GC-like pause, SIGSTOP): the silence was ours, not theirs.
  void forgive(int64_t now);

  /// Known members, including self and the seeds not yet resolved to a member.
  size_t known_count() const;
  size_t reachable_count() const;
  /// More than half of the known members are reachable (self included).
  bool has_majority() const { return reachable_count() * 2 > known_count(); }
  /// The oldest reachable member while this node sees a majority; otherwise null.
  const member_info* leader() const;

  /// Every member, oldest first.
  std::vector<member_status> members() const;
  /// Every member's info, self included: what this node tells its peers.
  std::vector<member_info> infos() const;
  /// The member named `name`, or null.
  const member_status* find(const std::string& name) const;
  /// Seed addresses no known member has yet.
  std::vector<std::string> unresolved_seeds() const;

 private:
  bool stale(const member_info& m) const;

  member_status self_;
  std::map<std::string, member_status> peers_;  // by name
  std::map<std::string, member_info> left_;     // name -> the incarnation that left
  std::vector<std::string> seeds_;              // without self's address
};

}  // namespace tidegate::cluster
