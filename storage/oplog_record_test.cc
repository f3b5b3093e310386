#include "storage/oplog_record.h"

#include <random>

#include <gtest/gtest.h>

namespace tidegate::storage {
namespace {

oplog_record full_record() {
  oplog_record r;
  r.bucket = 4;
  r.owner = "device:9";
  r.version = 77;
  r.business = "promo";
  r.payload = std::string("\x00\x01\xff payload", 11);
  r.msg_id = "msg-1";
  r.created_at_ms = 1'700'000'000'000;
  r.expires_at_ms = 1'700'000'600'000;
  op_filters f;
  f.os = {"ios", "android"};
  f.app_version_min = "2.1.0";
  f.app_version_max = "3.0.0";
  f.valid_from_ms = 1;
  f.valid_to_ms = 2;
  f.uids = {"u1", "u2"};
  f.uid_min = 10;
  f.uid_max = 20;
  r.filters = f;
  r.push = push_display{"Hi", "You have mail", "open:inbox"};
  return r;
}

TEST(OplogRecordTest, MinimalRecordRoundTripsToDocumentedBytes) {
  oplog_record r;
  r.bucket = 1;
  r.owner = "u1";
  r.version = 5;
  r.business = "chat";
  r.payload = "hi";
  r.msg_id = "m1";
  r.created_at_ms = 0x10;
  auto bytes = encode_record(r);
  ASSERT_TRUE(bytes);
  // docs/storage-layout.md, "Record format".
  const char expected[] =
      "\x01\x00\x01"
      "\x00\x00\x00\x00\x00\x00\x00\x05"
      "\x00\x00\x00\x00\x00\x00\x00\x10"
      "\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x02u1\x00\x04"
      "chat\x00\x02m1"
      "\x00\x00\x00\x02hi";
  EXPECT_EQ(*bytes, std::string(expected, sizeof(expected) - 1));
  auto back = decode_record(*bytes);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, r);
}

TEST(OplogRecordTest, FiltersAndPushRoundTrip) {
  auto r = full_record();
  auto bytes = encode_record(r);
  ASSERT_TRUE(bytes);
  auto back = decode_record(*bytes);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, r);
}

TEST(OplogRecordTest, EveryTruncationIsBadRecord) {
  auto bytes = *encode_record(full_record());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode_record(bytes.substr(0, n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().code, storage_errc::bad_record);
  }
}

TEST(OplogRecordTest, UnknownFormatFlagsAndTrailingBytesAreBadRecord) {
  auto bytes = *encode_record(full_record());
  auto bad_format = bytes;
  bad_format[0] = 2;
  EXPECT_EQ(decode_record(bad_format).error().code, storage_errc::bad_record);
  auto bad_flags = bytes;
  bad_flags[1] = static_cast<char>(0x80);
  EXPECT_EQ(decode_record(bad_flags).error().code, storage_errc::bad_record);
  EXPECT_EQ(decode_record(bytes + "x").error().code, storage_errc::bad_record);
}

TEST(OplogRecordTest, HugeDeclaredLengthsFailWithoutAllocating) {
  auto bytes = *encode_record(oplog_record{});
  auto at = bytes.size() - 4;  // the payload length of an empty record
  bytes.replace(at, 4, "\xff\xff\xff\xff");
  EXPECT_EQ(decode_record(bytes).error().code, storage_errc::bad_record);
  bytes.replace(at, 4, std::string("\x00\xff\xff\x00", 4));  // under the cap, but truncated
  EXPECT_EQ(decode_record(bytes).error().code, storage_errc::bad_record);
}

TEST(OplogRecordTest, OverlongFieldsAreRefusedOnEncode) {
  oplog_record r;
  r.owner.assign(70'000, 'x');
  EXPECT_EQ(encode_record(r).error().code, storage_errc::bad_record);
  oplog_record many;
  many.filters.emplace().os.assign(256, "ios");
  EXPECT_EQ(encode_record(many).error().code, storage_errc::bad_record);
}

TEST(OplogRecordTest, SeededMutationsNeverCrash) {
  auto bytes = *encode_record(full_record());
  std::mt19937 rng(42);  // seeded: the same mutations every run
  for (int i = 0; i < 5000; ++i) {
    auto mutated = bytes;
    for (int j = 0; j < 3; ++j) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    auto r = decode_record(mutated);
    if (!r) {
      EXPECT_EQ(r.error().code, storage_errc::bad_record);
    }
  }
}

}  // namespace
}  // namespace tidegate::storage
