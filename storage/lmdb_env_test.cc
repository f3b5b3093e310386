#include "storage/lmdb_env.h"

#include <cerrno>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "storage/keys.h"
#include "storage/temp_dir.h"

namespace tidegate::storage {
namespace {

TEST(LmdbEnvTest, CreatesTheDirectoryAndOpens) {
  temp_dir dir;
  auto env = lmdb_env::open(dir.path() + "/a/b", {});
  ASSERT_TRUE(env) << env.error().detail;
  EXPECT_EQ((*env)->map_size(), size_t{64} << 20);
  auto txn = (*env)->begin_read();
  ASSERT_TRUE(txn);
}

TEST(LmdbEnvTest, AFileInPlaceOfTheDirectoryIsAnIoError) {
  temp_dir dir;
  auto path = dir.path() + "/file";
  std::ofstream(path) << "x";
  auto env = lmdb_env::open(path, {});
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().code, storage_errc::io) << env.error().detail;
}

TEST(LmdbEnvTest, GrowDoublesUpToTheMaximumOnly) {
  temp_dir dir;
  env_options options;
  options.map_size = size_t{1} << 20;
  options.max_map_size = size_t{3} << 20;
  auto env = lmdb_env::open(dir.path(), options);
  ASSERT_TRUE(env);
  auto& e = **env;
  EXPECT_EQ(e.next_map_size(), size_t{2} << 20);
  ASSERT_FALSE(e.grow(e.next_map_size()));
  EXPECT_EQ(e.map_size(), size_t{2} << 20);
  EXPECT_EQ(e.next_map_size(), size_t{3} << 20);
  ASSERT_FALSE(e.grow(e.next_map_size()));
  EXPECT_EQ(e.next_map_size(), 0U);
  auto err = e.grow(size_t{4} << 20);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, storage_errc::map_full);
}

TEST(LmdbEnvTest, PeriodicModeSyncsOnRequest) {
  temp_dir dir;
  env_options options;
  options.mode = durability::periodic;
  auto env = lmdb_env::open(dir.path(), options);
  ASSERT_TRUE(env);
  EXPECT_EQ((*env)->mode(), durability::periodic);
  EXPECT_FALSE((*env)->sync());
}

TEST(LmdbEnvTest, AnUnknownLayoutVersionIsCorrupt) {
  temp_dir dir;
  {
    auto env = lmdb_env::open(dir.path(), {});
    ASSERT_TRUE(env);
    auto txn = (*env)->begin_write();
    ASSERT_TRUE(txn);
    auto key = layout_meta_key();
    std::string value(1, '\x09');
    MDB_val k{key.size(), key.data()};
    MDB_val v{value.size(), value.data()};
    ASSERT_EQ(mdb_put(txn->get(), (*env)->handles().meta, &k, &v, 0), MDB_SUCCESS);
    ASSERT_FALSE(txn->commit());
  }
  auto env = lmdb_env::open(dir.path(), {});
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().code, storage_errc::corrupt);
}

TEST(LmdbEnvTest, MdbCodesMapToStorageErrc) {
  EXPECT_EQ(from_mdb(MDB_MAP_FULL, "x").code, storage_errc::map_full);
  EXPECT_EQ(from_mdb(MDB_NOTFOUND, "x").code, storage_errc::not_found);
  EXPECT_EQ(from_mdb(MDB_CORRUPTED, "x").code, storage_errc::corrupt);
  EXPECT_EQ(from_mdb(MDB_PAGE_NOTFOUND, "x").code, storage_errc::corrupt);
  EXPECT_EQ(from_mdb(MDB_BAD_VALSIZE, "x").code, storage_errc::bad_record);
  EXPECT_EQ(from_mdb(ENOSPC, "x").code, storage_errc::io);
  EXPECT_EQ(from_mdb(MDB_TXN_FULL, "x").code, storage_errc::other);
  EXPECT_STREQ(to_string(storage_errc::map_full), "map_full");
}

}  // namespace
}  // namespace tidegate::storage
