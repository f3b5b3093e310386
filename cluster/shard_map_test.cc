#include "cluster/shard_map.h"

#include <fstream>

#include <caf/binary_serializer.hpp>
#include <gtest/gtest.h>

#include "storage/temp_dir.h"

namespace tidegate::cluster {
namespace {

map_state sample() {
  map_state s;
  s.promised_term = 7;
  s.accepted.term = 7;
  s.accepted.version = 12;
  s.accepted.issued_by = "n1";
  s.accepted.shards = {{"n1", "n3", 2, false, 0, "", ""}, {"n2", "", 1, false, 0, "", ""}};
  s.committed = s.accepted;
  s.committed.version = 11;
  return s;
}

TEST(ShardMapTest, StateRoundTripsThroughAFile) {
  storage::temp_dir dir;
  auto path = dir.path() + "/cluster-map.state";
  std::string error;
  auto empty = load_map_state(path, error);
  ASSERT_TRUE(empty) << error;
  EXPECT_EQ(empty->accepted.version, 0u);
  ASSERT_EQ(save_map_state(path, sample()), "");
  auto back = load_map_state(path, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->promised_term, 7u);
  EXPECT_EQ(back->accepted.version, 12u);
  EXPECT_EQ(back->accepted.issued_by, "n1");
  EXPECT_EQ(back->accepted.shards, sample().accepted.shards);
  EXPECT_EQ(back->committed.version, 11u);
}

TEST(ShardMapTest, ACorruptFileIsAnErrorNamingIt) {
  storage::temp_dir dir;
  auto path = dir.path() + "/cluster-map.state";
  std::ofstream{path} << "garbage";
  std::string error;
  EXPECT_FALSE(load_map_state(path, error));
  EXPECT_EQ(error, path + ": not a shard map state (bad magic or format version)");
  auto bytes = encode_map_state(sample());
  for (size_t cut : {size_t{5}, size_t{9}, bytes.size() - 1}) {
    EXPECT_FALSE(decode_map_state(bytes.substr(0, cut), error)) << cut;
  }
  EXPECT_FALSE(decode_map_state(bytes + "x", error));
  EXPECT_EQ(error, "trailing bytes after the shard map state");
}

// Bytes of `s` in an older format: format 1 lacks shard_owner::moving_to and what
// shard_map has after its shards; format 2 lacks shard_owner::learner.
std::string encode_old(map_state s, char format) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto write_map = [&sink, format](shard_map& m) {
    auto count = m.shards.size();
    ASSERT_FALSE(sink(m.term, m.version, m.issued_by));
    ASSERT_FALSE(sink.begin_sequence(count));
    for (auto& o : m.shards) {
      ASSERT_FALSE(sink(o.primary, o.replica, o.epoch, o.replica_in_sync, o.replica_incarnation));
      if (format >= 2) {
        ASSERT_FALSE(sink(o.moving_to));
      }
    }
    ASSERT_FALSE(sink.end_sequence());
    if (format >= 2) {
      ASSERT_FALSE(sink(m.draining, m.zone_rules, m.zone_rules_pushed));
    }
  };
  EXPECT_FALSE(sink(s.promised_term));
  write_map(s.accepted);
  write_map(s.committed);
  std::string bytes{'T', 'G', 'S', 'M', format};
  bytes.append(buf.data(), buf.size());
  return bytes;
}

TEST(ShardMapTest, AFormatOneStateStillLoads) {
  auto s = sample();
  std::string error;
  auto back = decode_map_state(encode_old(s, 1), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->promised_term, 7u);
  EXPECT_EQ(back->accepted.shards, s.accepted.shards);
  EXPECT_EQ(back->committed.version, 11u);
  EXPECT_TRUE(back->committed.draining.empty());
}

TEST(ShardMapTest, AFormatTwoStateStillLoadsWithoutLearners) {
  auto s = sample();
  s.committed.shards[0].moving_to = "n2";
  s.committed.draining = {"n3"};
  s.committed.zone_rules = {{0, 0, "z1"}, {1, 1, "z2"}};
  s.committed.zone_rules_pushed = true;
  std::string error;
  auto back = decode_map_state(encode_old(s, 2), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->committed.shards, s.committed.shards);
  EXPECT_EQ(back->committed.draining, s.committed.draining);
  EXPECT_EQ(back->committed.zone_rules, s.committed.zone_rules);
  EXPECT_TRUE(back->committed.zone_rules_pushed);
  EXPECT_TRUE(back->committed.shards[0].learner.empty());
}

TEST(ShardMapTest, AFormatNewerThanThisVersionIsRefused) {
  auto bytes = encode_map_state(sample());
  bytes[4] = 4;
  std::string error;
  EXPECT_FALSE(decode_map_state(bytes, error));
  EXPECT_EQ(error, "not a shard map state (bad magic or format version)");
}

TEST(ShardMapTest, MovesLearnersAndDrainingRoundTrip) {
  auto s = sample();
  s.committed.shards[0].moving_to = "n2";
  s.committed.shards[0].learner = "n2";
  s.committed.draining = {"n3"};
  std::string error;
  auto back = decode_map_state(encode_map_state(s), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->committed.shards, s.committed.shards);
  EXPECT_EQ(back->committed.draining, std::vector<std::string>{"n3"});
}

}  // namespace
}  // namespace tidegate::cluster
