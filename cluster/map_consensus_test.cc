#include "cluster/map_consensus.h"

#include <gtest/gtest.h>

namespace tidegate::cluster {
namespace {

std::vector<shard_owner> owners(const std::string& primary) {
  shard_owner o;
  o.primary = primary;
  o.epoch = 1;
  return {o};
}

TEST(MapConsensusTest, AProposalIsCommittedByAMajority) {
  map_acceptor a{{}}, b{{}}, c{{}};
  map_proposer leader{"a", 0, 2};
  EXPECT_EQ(leader.term(), 1u);
  ASSERT_TRUE(a.prepare(leader.term()));
  EXPECT_FALSE(leader.promised("a", a.state().accepted));
  ASSERT_TRUE(b.prepare(leader.term()));
  EXPECT_TRUE(leader.promised("b", b.state().accepted));
  auto map = leader.propose(owners("a"));
  EXPECT_EQ(map.version, 1u);
  EXPECT_TRUE(a.accept(map));
  EXPECT_FALSE(leader.accepted("a", map.version));
  EXPECT_TRUE(b.accept(map));
  auto committed = leader.accepted("b", map.version);
  ASSERT_TRUE(committed);
  EXPECT_TRUE(c.commit(*committed));  // c learns it without having accepted it
  EXPECT_EQ(c.state().committed.version, 1u);
  EXPECT_EQ(c.state().accepted.version, 1u);
  EXPECT_FALSE(c.commit(*committed));  // once
}

TEST(MapConsensusTest, AnAcceptorRefusesAnOlderTermAndAnOlderMap) {
  map_acceptor a{{}};
  ASSERT_TRUE(a.prepare(5));
  EXPECT_FALSE(a.prepare(4));
  EXPECT_FALSE(a.prepare(5));
  shard_map old;
  old.term = 4;
  old.version = 9;
  EXPECT_FALSE(a.accept(old));
  shard_map current;
  current.term = 5;
  current.version = 2;
  EXPECT_TRUE(a.accept(current));
  EXPECT_FALSE(a.accept(current));  // the same one again
}

// The case that orders maps by term before version: a map committed in term 2 must win over
// a higher version left from term 1 on a member that did not take part.
TEST(MapConsensusTest, ANewLeaderBuildsOnTheCommittedMapNotOnAStaleHigherVersion) {
  map_acceptor a{{}}, b{{}}, c{{}};
  // Term 1 (leader a): version 1 committed by a and b; version 2 reached only c.
  map_proposer one{"a", 0, 2};
  a.prepare(1);
  one.promised("a", {});
  b.prepare(1);
  one.promised("b", {});
  c.prepare(1);
  auto v1 = one.propose(owners("a"));
  a.accept(v1);
  b.accept(v1);
  ASSERT_TRUE(one.accepted("b", v1.version) || one.accepted("a", v1.version));
  auto v2 = one.propose(owners("x"));
  ASSERT_TRUE(c.accept(v2));
  // Term 2 (leader b): commits version 3 with a.
  map_proposer two{"b", 1, 2};
  b.prepare(two.term());
  two.promised("b", b.state().accepted);
  a.prepare(two.term());
  ASSERT_TRUE(two.promised("a", a.state().accepted));
  auto v3 = two.propose(owners("b"));
  EXPECT_EQ(v3.version, 2u);  // versions seen by its majority: 1
  a.accept(v3);
  b.accept(v3);
  ASSERT_TRUE(two.accepted("a", v3.version) || two.accepted("b", v3.version));
  // Term 3 (leader c) hears c (term 1, version 2) and a (term 2, version 2): it builds on a's.
  map_proposer three{"c", 2, 2};
  c.prepare(three.term());
  three.promised("c", c.state().accepted);
  a.prepare(three.term());
  ASSERT_TRUE(three.promised("a", a.state().accepted));
  EXPECT_EQ(three.base().term, 2u);
  EXPECT_EQ(three.base().shards, owners("b"));
  EXPECT_EQ(three.propose(owners("b")).version, 3u);  // above every version seen
}

// Two members that both believe they lead pick the same term. If an acceptor promised it to
// both, the second leader could commit a later version built on a base without the first
// one's committed map: b promises term 1 once, so y never gathers a majority.
TEST(MapConsensusTest, ATermIsPromisedToOneLeaderOnly) {
  map_acceptor a{{}}, b{{}}, c{{}};
  map_proposer x{"a", 0, 2}, y{"c", 0, 2};
  ASSERT_TRUE(a.prepare(x.term()));
  x.promised("a", a.state().accepted);
  ASSERT_TRUE(b.prepare(x.term()));
  ASSERT_TRUE(x.promised("b", b.state().accepted));
  ASSERT_TRUE(c.prepare(y.term()));
  y.promised("c", c.state().accepted);
  EXPECT_FALSE(b.prepare(y.term()));  // already promised to x
  EXPECT_FALSE(y.prepared());
  auto mx = x.propose(owners("a"));
  a.accept(mx);
  b.accept(mx);
  ASSERT_TRUE(x.accepted("a", mx.version) || x.accepted("b", mx.version));
  // y retries above: its majority now includes a member holding x's map, its base.
  map_proposer retry{"c", b.state().promised_term, 2};
  ASSERT_TRUE(c.prepare(retry.term()));
  retry.promised("c", c.state().accepted);
  ASSERT_TRUE(b.prepare(retry.term()));
  ASSERT_TRUE(retry.promised("b", b.state().accepted));
  EXPECT_EQ(retry.base().shards, owners("a"));
}

TEST(MapConsensusTest, OnlyOneOfTwoLeadersWithTheSameTermCanCommit) {
  map_acceptor a{{}}, b{{}}, c{{}};
  map_proposer x{"a", 0, 2}, y{"c", 0, 2};
  a.prepare(1);
  b.prepare(1);
  c.prepare(1);
  x.promised("a", {});
  x.promised("b", {});
  y.promised("b", {});
  y.promised("c", {});
  auto mx = x.propose(owners("a"));
  auto my = y.propose(owners("c"));
  EXPECT_TRUE(a.accept(mx));
  EXPECT_TRUE(b.accept(mx));
  EXPECT_FALSE(b.accept(my));  // b holds (1, 1) already
  EXPECT_TRUE(c.accept(my));
  EXPECT_TRUE(x.accepted("a", mx.version) || x.accepted("b", mx.version));
  EXPECT_FALSE(y.accepted("c", my.version));
}

}  // namespace
}  // namespace tidegate::cluster
