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
  s.accepted.shards = {{"n1", "n3", 2, false, 0, ""}, {"n2", "", 1, false, 0, ""}};
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

TEST(ShardMapTest, AFormatOneStateStillLoads) {
  // Written by a version before planned moves and draining (format 1): the same fields
  // without shard_owner::moving_to and shard_map::draining.
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto s = sample();
  auto write_map = [&sink](shard_map& m) {
    auto count = m.shards.size();
    ASSERT_FALSE(sink(m.term, m.version, m.issued_by));
    ASSERT_FALSE(sink.begin_sequence(count));
    for (auto& o : m.shards) {
      ASSERT_FALSE(sink(o.primary, o.replica, o.epoch, o.replica_in_sync, o.replica_incarnation));
    }
    ASSERT_FALSE(sink.end_sequence());
  };
  ASSERT_FALSE(sink(s.promised_term));
  write_map(s.accepted);
  write_map(s.committed);
  std::string bytes{'T', 'G', 'S', 'M', 1};
  bytes.append(buf.data(), buf.size());
  std::string error;
  auto back = decode_map_state(bytes, error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->promised_term, 7u);
  EXPECT_EQ(back->accepted.shards, s.accepted.shards);
  EXPECT_EQ(back->committed.version, 11u);
  EXPECT_TRUE(back->committed.draining.empty());
}

TEST(ShardMapTest, MovesAndDrainingRoundTrip) {
  auto s = sample();
  s.committed.shards[0].moving_to = "n2";
  s.committed.draining = {"n3"};
  std::string error;
  auto back = decode_map_state(encode_map_state(s), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->committed.shards, s.committed.shards);
  EXPECT_EQ(back->committed.draining, std::vector<std::string>{"n3"});
}

}  // namespace
}  // namespace tidegate::cluster
