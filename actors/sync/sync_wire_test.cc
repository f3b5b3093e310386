#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <gtest/gtest.h>

#include "actors/sync/sync_messages.h"

namespace tidegate::actors {
namespace {

template <class T>
T round_trip(const T& in) {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto copy = in;
  EXPECT_FALSE(sink(copy));
  caf::binary_deserializer source{nullptr, buf};
  T out;
  EXPECT_FALSE(source(out));
  EXPECT_EQ(source.remaining(), 0u);
  return out;
}

TEST(SyncWireTest, APublishRequestKeepsItsOptionalFields) {
  publish_request req;
  req.app_id = "wallet";
  req.business = "chat";
  req.owner = "u1";
  req.payload = std::string{"\0binary\xff", 8};
  req.msg_id = "m1";
  req.ttl_ms = 5;
  storage::op_filters filters;
  filters.os = {"ios"};
  filters.uid_min = 3;
  filters.uid_max = 9;
  req.filters = filters;
  auto back = round_trip(req);
  EXPECT_EQ(back.payload, req.payload);
  ASSERT_TRUE(back.filters);
  EXPECT_EQ(*back.filters, filters);
  EXPECT_FALSE(back.push);
  req.filters.reset();
  req.push = storage::push_display{"t", "b", "a"};
  back = round_trip(req);
  EXPECT_FALSE(back.filters);
  ASSERT_TRUE(back.push);
  EXPECT_EQ(*back.push, *req.push);
}

TEST(SyncWireTest, APageKeepsItsRecordsAndAnOutcomeItsError) {
  sync_page page;
  page.bucket = "user";
  page.head = 7;
  page.more = true;
  storage::oplog_record r;
  r.bucket = 1;
  r.owner = "u1";
  r.version = 7;
  r.payload = "hi";
  r.push = storage::push_display{"t", "", ""};
  page.records = {r, r};
  auto back = round_trip(page);
  EXPECT_EQ(back.records.size(), 2u);
  EXPECT_EQ(back.records[1], r);
  EXPECT_TRUE(back.more);
  EXPECT_EQ(back.head, 7u);
  publish_outcomes outcomes;
  outcomes.outcomes.resize(2);
  outcomes.outcomes[0].result = {4, true};
  outcomes.outcomes[1].error = caf::make_error(caf::sec::request_timeout, "late");
  auto got = round_trip(outcomes);
  EXPECT_EQ(got.outcomes[0].result.version, 4u);
  EXPECT_TRUE(got.outcomes[0].result.duplicated);
  EXPECT_EQ(got.outcomes[1].error, outcomes.outcomes[1].error);
}

TEST(SyncWireTest, AWriteBatchKeepsEveryKindOfEntry) {
  storage::write_batch batch;
  storage::oplog_record r;
  r.owner = "u1";
  r.version = 8;
  batch.appends.push_back({3, r});
  batch.dedupes.push_back({{1, "chat", "u1", "m8"}, {8, 99}});
  batch.deletes.push_back({3, 1, "u1", 2});
  batch.puts.push_back({storage::delivery_table::receipts, "k", "v"});
  batch.erases.push_back({storage::delivery_table::cursors, "c"});
  batch.rebases.push_back({3, 1, "u1", 7});
  auto back = round_trip(batch);
  ASSERT_EQ(back.appends.size(), 1u);
  EXPECT_EQ(back.appends[0].record, r);
  ASSERT_EQ(back.dedupes.size(), 1u);
  EXPECT_EQ(back.dedupes[0].value.expires_at_ms, 99u);
  ASSERT_EQ(back.deletes.size(), 1u);
  ASSERT_EQ(back.puts.size(), 1u);
  EXPECT_EQ(back.puts[0].table, storage::delivery_table::receipts);
  ASSERT_EQ(back.erases.size(), 1u);
  ASSERT_EQ(back.rebases.size(), 1u);
  EXPECT_EQ(back.rebases[0].head, 7u);
  EXPECT_EQ(back.rebases[0].owner, "u1");
}

}  // namespace
}  // namespace tidegate::actors
