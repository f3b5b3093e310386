#include "actors/admin/process_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

TEST(ProcessStatsTest, ReadsPlausibleValues) {
  auto stats = read_process_stats();
  EXPECT_GT(stats.resident_bytes, 1024);
  EXPECT_GE(stats.open_fds, 3);  // stdin, stdout, stderr
  EXPECT_GE(stats.max_fds, stats.open_fds);
}

TEST(ProcessStatsTest, CountsAnOpenedDescriptor) {
  // The test binary is single-threaded here, so nothing else opens or closes descriptors.
  auto before = read_process_stats().open_fds;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(read_process_stats().open_fds, before + 1);
  ::close(fd);
  EXPECT_EQ(read_process_stats().open_fds, before);
}

}  // namespace
}  // namespace tidegate::actors
