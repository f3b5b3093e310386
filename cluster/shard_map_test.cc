#include "cluster/shard_map.h"

#include <fstream>

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
  s.accepted.shards = {{"n1", "n3", 2}, {"n2", "", 1}};
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

}  // namespace
}  // namespace tidegate::cluster
