#include "client/sync_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace tidegate::client {
namespace {

// A fresh directory under TMPDIR, removed with its files at the end.
class SyncStoreTest : public ::testing::Test {
 public:
  SyncStoreTest() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string{tmp != nullptr ? tmp : "/tmp"} + "/tidegate-sync-XXXXXX";
    dir_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(dir_.empty());
  }
  ~SyncStoreTest() override {
    ::unlink(path().c_str());
    ::unlink((path() + ".tmp").c_str());
    ::rmdir(dir_.c_str());
  }

  std::string path() const { return dir_ + "/sync.key"; }

  std::string read_file() const {
    std::ifstream in{path(), std::ios::binary};
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  void write_file(const std::string& text) const {
    std::ofstream out{path(), std::ios::binary | std::ios::trunc};
    out << text;
  }

  std::string dir_;
};

TEST_F(SyncStoreTest, AMissingFileIsAnEmptyKeyNotAnError) {
  sync_store store{path()};
  EXPECT_EQ(store.load(), sync_load_status::missing);
  EXPECT_TRUE(store.cursors().empty());
  EXPECT_TRUE(store.load_error().empty());
}

TEST_F(SyncStoreTest, SaveThenLoadRoundTripsEveryBucketName) {
  sync_cursors key{
      {"user", 42}, {"multi_device", 7}, {"with space", 1}, {"pct%\nnl", UINT64_MAX}, {"", 3}};
  {
    sync_store store{path()};
    ASSERT_TRUE(store.save(key)) << store.last_error();
  }
  struct stat st {};
  EXPECT_NE(::stat((path() + ".tmp").c_str(), &st), 0);  // renamed away
  sync_store again{path()};
  ASSERT_EQ(again.load(), sync_load_status::loaded) << again.load_error();
  EXPECT_EQ(again.cursors(), key);
}

TEST_F(SyncStoreTest, TheFileIsTextWithAChecksumLine) {
  sync_store store{path()};
  ASSERT_TRUE(store.save({{"user", 5}}));
  auto text = read_file();
  EXPECT_EQ(text.rfind("tidegate-sync-key 1\nuser 5\nend 1 ", 0), 0u) << text;
}

TEST_F(SyncStoreTest, ATruncatedFileIsReportedAndIgnoredWhole) {
  sync_store store{path()};
  ASSERT_TRUE(store.save({{"user", 5}, {"device", 9}}));
  auto text = read_file();
  for (size_t cut : {size_t{0}, size_t{10}, text.find("device") + 3, text.size() - 1}) {
    write_file(text.substr(0, cut));
    sync_store loaded{path()};
    EXPECT_EQ(loaded.load(), sync_load_status::corrupt) << "cut at " << cut;
    EXPECT_TRUE(loaded.cursors().empty());
    EXPECT_NE(loaded.load_error().find(path()), std::string::npos);
  }
}

TEST_F(SyncStoreTest, AFlippedDigitFailsTheChecksum) {
  sync_store store{path()};
  ASSERT_TRUE(store.save({{"user", 5}}));
  auto text = read_file();
  text[text.find("user 5") + 5] = '6';
  write_file(text);
  sync_store loaded{path()};
  EXPECT_EQ(loaded.load(), sync_load_status::corrupt);
  EXPECT_NE(loaded.load_error().find("checksum"), std::string::npos) << loaded.load_error();
  EXPECT_TRUE(loaded.cursors().empty());
}

TEST_F(SyncStoreTest, ASaveReplacesACorruptFile) {
  write_file("garbage");
  sync_store store{path()};
  EXPECT_EQ(store.load(), sync_load_status::corrupt);
  ASSERT_TRUE(store.save({{"once", 2}}));
  sync_store loaded{path()};
  EXPECT_EQ(loaded.load(), sync_load_status::loaded);
  EXPECT_EQ(loaded.cursors(), (sync_cursors{{"once", 2}}));
}

TEST_F(SyncStoreTest, AnUnwritableDirectoryIsAnErrorAndKeepsTheKeyInMemory) {
  sync_store store{dir_ + "/missing/sync.key"};
  EXPECT_FALSE(store.save({{"user", 1}}));
  EXPECT_NE(store.last_error().find("open"), std::string::npos);
  EXPECT_EQ(store.cursors(), (sync_cursors{{"user", 1}}));
}

TEST_F(SyncStoreTest, InMemoryModeTouchesNoFile) {
  sync_store store;
  EXPECT_EQ(store.load(), sync_load_status::missing);
  EXPECT_TRUE(store.save({{"user", 3}}));
  EXPECT_EQ(store.cursors(), (sync_cursors{{"user", 3}}));
  EXPECT_EQ(store.saves(), 1u);
}

}  // namespace
}  // namespace tidegate::client
