#include "actors/sync/op_filter.h"

#include <cstdint>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace tidegate::actors {
namespace {

constexpr uint64_t now = 1'700'000'000'000;

client_facts ios(std::string version, std::string user = "42") {
  return {"ios", std::move(version), std::move(user)};
}

TEST(OpFilterTest, VersionsCompareAsDottedNumbers) {
  EXPECT_GT(compare_versions("5.10.2", "5.9"), 0);
  EXPECT_LT(compare_versions("5.9", "5.10.2"), 0);
  EXPECT_EQ(compare_versions("5.9", "5.9.0"), 0);
  EXPECT_EQ(compare_versions("05.9", "5.09"), 0);
  EXPECT_GT(compare_versions("10", "9"), 0);
  EXPECT_GT(compare_versions("123456789012345678901234567890", "99"), 0);  // past 64 bits
  EXPECT_EQ(compare_versions("", "0"), 0);
}

TEST(OpFilterTest, NonNumericPartsCompareAsText) {
  EXPECT_LT(compare_versions("5.2.beta", "5.2.rc"), 0);
  EXPECT_GT(compare_versions("5.2-rc", "5.2-beta"), 0);
  EXPECT_EQ(compare_versions("5.x", "5.x"), 0);
}

TEST(OpFilterTest, AppVersionIsTheTextAfterTheLastSlash) {
  EXPECT_EQ(app_version_of("ios/5.2.1"), "5.2.1");
  EXPECT_EQ(app_version_of("5.2.1"), "5.2.1");
  EXPECT_EQ(app_version_of("sdk/1/5.3"), "5.3");
  EXPECT_EQ(app_version_of("ios/"), "");
}

TEST(OpFilterTest, NoFiltersMatchEveryone) {
  EXPECT_TRUE(op_matches({}, {}, now));
  EXPECT_TRUE(op_matches({}, ios("1.0"), now));
}

TEST(OpFilterTest, OsListMatchesIgnoringCase) {
  storage::op_filters f;
  f.os = {"ios", "harmony"};
  EXPECT_TRUE(op_matches(f, ios("1.0"), now));
  EXPECT_TRUE(op_matches(f, {"iOS", "1.0", "42"}, now));
  EXPECT_FALSE(op_matches(f, {"android", "1.0", "42"}, now));
  EXPECT_FALSE(op_matches(f, {"", "1.0", "42"}, now));  // did not say: not proven to match
}

TEST(OpFilterTest, AppVersionRangeIsInclusive) {
  storage::op_filters f;
  f.app_version_min = "5.9";
  f.app_version_max = "5.10.2";
  EXPECT_FALSE(op_matches(f, ios("5.8.9"), now));
  EXPECT_TRUE(op_matches(f, ios("5.9"), now));
  EXPECT_TRUE(op_matches(f, ios("5.9.0"), now));
  EXPECT_TRUE(op_matches(f, ios("5.10"), now));
  EXPECT_TRUE(op_matches(f, ios("5.10.2"), now));
  EXPECT_FALSE(op_matches(f, ios("5.10.3"), now));
  EXPECT_FALSE(op_matches(f, ios("6"), now));
  EXPECT_FALSE(op_matches(f, ios(""), now));  // unknown version fails a bounded range
}

TEST(OpFilterTest, OneSidedVersionBounds) {
  storage::op_filters min_only;
  min_only.app_version_min = "2.1";
  EXPECT_TRUE(op_matches(min_only, ios("10.0"), now));
  EXPECT_FALSE(op_matches(min_only, ios("2.0.9"), now));
  storage::op_filters max_only;
  max_only.app_version_max = "2.1";
  EXPECT_TRUE(op_matches(max_only, ios("2.1.0"), now));
  EXPECT_FALSE(op_matches(max_only, ios("2.1.1"), now));
}

TEST(OpFilterTest, ValidWindowMustContainNow) {
  storage::op_filters f;
  f.valid_from_ms = now - 10;
  f.valid_to_ms = now + 10;
  EXPECT_TRUE(op_matches(f, ios("1"), now));
  EXPECT_TRUE(op_matches(f, ios("1"), now - 10));  // inclusive at both ends
  EXPECT_TRUE(op_matches(f, ios("1"), now + 10));
  EXPECT_FALSE(op_matches(f, ios("1"), now - 11));
  EXPECT_FALSE(op_matches(f, ios("1"), now + 11));
  storage::op_filters open_ended;
  open_ended.valid_from_ms = now;
  EXPECT_TRUE(op_matches(open_ended, ios("1"), UINT64_MAX));
}

TEST(OpFilterTest, UidListIsMembershipByString) {
  storage::op_filters f;
  f.uids = {"alice", "42"};
  EXPECT_TRUE(op_matches(f, ios("1", "alice"), now));
  EXPECT_TRUE(op_matches(f, ios("1", "42"), now));
  EXPECT_FALSE(op_matches(f, ios("1", "042"), now));  // a string, not a number
  EXPECT_FALSE(op_matches(f, ios("1", "bob"), now));
}

TEST(OpFilterTest, UidRangeAppliesToDecimalUserIds) {
  storage::op_filters f;
  f.uid_min = 100;
  f.uid_max = 199;
  EXPECT_FALSE(op_matches(f, ios("1", "99"), now));
  EXPECT_TRUE(op_matches(f, ios("1", "100"), now));
  EXPECT_TRUE(op_matches(f, ios("1", "0150"), now));
  EXPECT_TRUE(op_matches(f, ios("1", "199"), now));
  EXPECT_FALSE(op_matches(f, ios("1", "200"), now));
  EXPECT_FALSE(op_matches(f, ios("1", "123456789012345678901234567890"), now));
  EXPECT_TRUE(op_matches(f, ios("1", "alice"), now));  // not a number: the range does not apply
  storage::op_filters min_only;
  min_only.uid_min = 100;  // uid_max 0: no upper bound
  EXPECT_TRUE(op_matches(min_only, ios("1", "18446744073709551615"), now));
  EXPECT_TRUE(op_matches(min_only, ios("1", "123456789012345678901234567890"), now));
  EXPECT_FALSE(op_matches(min_only, ios("1", "7"), now));
}

TEST(OpFilterTest, EveryFieldMustMatch) {
  storage::op_filters f;
  f.os = {"ios"};
  f.app_version_min = "5.0";
  f.uids = {"42"};
  EXPECT_TRUE(op_matches(f, ios("5.1", "42"), now));
  EXPECT_FALSE(op_matches(f, {"android", "5.1", "42"}, now));
  EXPECT_FALSE(op_matches(f, ios("4.9", "42"), now));
  EXPECT_FALSE(op_matches(f, ios("5.1", "43"), now));
}

TEST(OpFilterTest, ExpiredOpsAreNotDeliverable) {
  storage::oplog_record r;
  r.expires_at_ms = now;
  EXPECT_TRUE(op_deliverable(r, ios("1"), now - 1));
  EXPECT_FALSE(op_deliverable(r, ios("1"), now));
  r.expires_at_ms = 0;  // never expires
  EXPECT_TRUE(op_deliverable(r, ios("1"), UINT64_MAX));
  r.filters = storage::op_filters{};
  r.filters->os = {"android"};
  EXPECT_FALSE(op_deliverable(r, ios("1"), now));
}

}  // namespace
}  // namespace tidegate::actors
