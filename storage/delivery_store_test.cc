#include "storage/delivery_store.h"

#include <gtest/gtest.h>

#include "storage/store_test_fixture.h"

namespace tidegate::storage {
namespace {

class DeliveryStoreTest : public StoreTest {
 protected:
  storage_status put(delivery_table table, std::string key, std::string value) {
    write_batch batch;
    batch.puts.push_back({table, std::move(key), std::move(value)});
    return store_->apply(batch);
  }

  delivery_store reads() const { return delivery_store{*env_}; }
};

TEST(DeliveryRecordsTest, ValuesRoundTripAndMalformedBytesAreRefused) {
  device_cursor c{7, 9, 2, 8, 1234};
  EXPECT_EQ(decode_cursor(encode_cursor(c)), c);
  EXPECT_EQ(decode_cursor(encode_cursor(c).substr(1)), std::nullopt);
  EXPECT_EQ(decode_cursor(encode_cursor(c) + "x"), std::nullopt);
  receipt r{5, 6};
  auto back = decode_receipt(encode_receipt(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->delivered_at_ms, 5u);
  EXPECT_EQ(back->acked_at_ms, 6u);
  EXPECT_EQ(decode_receipt(""), std::nullopt);

  dead_letter d;
  d.business = "chat";
  d.dead_at_ms = 99;
  d.bucket = 3;
  d.owner = "alice";
  d.version = 12;
  d.device = "phone";
  d.msg_id = "m12";
  d.attempts = 6;
  d.created_at_ms = 50;
  d.payload = std::string("\0bin", 4);
  auto got = decode_dead_letter(encode_dead_letter_key(d), encode_dead_letter_value(d));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->business, "chat");
  EXPECT_EQ(got->dead_at_ms, 99u);
  EXPECT_EQ(got->bucket, 3);
  EXPECT_EQ(got->owner, "alice");
  EXPECT_EQ(got->version, 12u);
  EXPECT_EQ(got->device, "phone");
  EXPECT_EQ(got->msg_id, "m12");
  EXPECT_EQ(got->attempts, 6u);
  EXPECT_EQ(got->payload, d.payload);
  EXPECT_EQ(decode_dead_letter(encode_dead_letter_key(d) + "x", encode_dead_letter_value(d)),
            std::nullopt);
}

TEST(DeliveryRecordsTest, CursorKeysOfOneOwnerNeverMixWithAnothers) {
  // "a" and "ab" are disjoint prefixes (length-prefixed owners).
  auto a = cursor_owner_prefix(1, 2, "a");
  auto key_ab = encode_cursor_key(1, 2, "ab", "d");
  EXPECT_NE(key_ab.substr(0, a.size()), a);
  EXPECT_EQ(device_after(encode_cursor_key(1, 2, "a", "dev-9"), a), "dev-9");
  EXPECT_EQ(device_after(key_ab, a), std::nullopt);
}

TEST_F(DeliveryStoreTest, CursorsAreKeptPerDevice) {
  ASSERT_EQ(put(delivery_table::cursors, encode_cursor_key(0, 3, "alice", "phone"),
                encode_cursor({4, 6, 1, 0, 10})),
            std::nullopt);
  ASSERT_EQ(put(delivery_table::cursors, encode_cursor_key(0, 3, "alice", "tablet"),
                encode_cursor({1, 1, 0, 0, 11})),
            std::nullopt);
  ASSERT_EQ(put(delivery_table::cursors, encode_cursor_key(0, 3, "alicia", "phone"),
                encode_cursor({9, 9, 0, 0, 12})),
            std::nullopt);
  auto phone = reads().cursor(0, 3, "alice", "phone");
  ASSERT_TRUE(phone);
  EXPECT_EQ(*phone, (device_cursor{4, 6, 1, 0, 10}));
  EXPECT_EQ(*reads().cursor(0, 3, "alice", "watch"), std::nullopt);
  auto all = reads().cursors(0, 3, "alice");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].first, "phone");
  EXPECT_EQ((*all)[1].first, "tablet");
  EXPECT_EQ((*all)[1].second.acked, 1u);
}

TEST_F(DeliveryStoreTest, ReceiptsAreReadPerOp) {
  ASSERT_EQ(put(delivery_table::receipts, encode_receipt_key(0, 4, "bob", 2, "phone"),
                encode_receipt({100, 0})),
            std::nullopt);
  ASSERT_EQ(put(delivery_table::receipts, encode_receipt_key(0, 4, "bob", 2, "tablet"),
                encode_receipt({101, 150})),
            std::nullopt);
  ASSERT_EQ(put(delivery_table::receipts, encode_receipt_key(0, 4, "bob", 3, "phone"),
                encode_receipt({102, 0})),
            std::nullopt);
  auto got = reads().receipts(0, 4, "bob", 2);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[1].first, "tablet");
  EXPECT_EQ((*got)[1].second.acked_at_ms, 150u);
  auto one = reads().receipt_of(0, 4, "bob", 3, "phone");
  ASSERT_TRUE(one);
  ASSERT_TRUE(*one);
  EXPECT_EQ((*one)->delivered_at_ms, 102u);
}

TEST_F(DeliveryStoreTest, DeadLettersArePagedInTheOrderTheyDied) {
  for (uint64_t i = 1; i <= 5; ++i) {
    dead_letter d;
    d.business = "chat";
    d.dead_at_ms = 1000 + i;
    d.bucket = 1;
    d.owner = "u" + std::to_string(i);
    d.version = i;
    d.device = "d";
    ASSERT_EQ(
        put(delivery_table::dead_letters, encode_dead_letter_key(d), encode_dead_letter_value(d)),
        std::nullopt);
  }
  dead_letter other;
  other.business = "chats";  // another business, never in chat's pages
  ASSERT_EQ(put(delivery_table::dead_letters, encode_dead_letter_key(other),
                encode_dead_letter_value(other)),
            std::nullopt);
  auto first = reads().dead_letters("chat", "", 2);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->letters.size(), 2u);
  EXPECT_EQ(first->letters[0].owner, "u1");
  ASSERT_FALSE(first->next.empty());
  auto second = reads().dead_letters("chat", first->next, 10);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->letters.size(), 3u);
  EXPECT_EQ(second->letters[0].owner, "u3");
  EXPECT_TRUE(second->next.empty());
}

TEST_F(DeliveryStoreTest, ExpiryDeletesOldReceiptsAndDeadLettersInBoundedSteps) {
  for (uint64_t v = 1; v <= 6; ++v) {  // receipts touched at 100..600
    ASSERT_EQ(put(delivery_table::receipts, encode_receipt_key(0, 4, "bob", v, "phone"),
                  encode_receipt({v * 100, 0})),
              std::nullopt);
  }
  dead_letter old_letter;
  old_letter.business = "chat";
  old_letter.dead_at_ms = 50;
  dead_letter new_letter = old_letter;
  new_letter.dead_at_ms = 5000;
  new_letter.version = 2;
  for (const auto& d : {old_letter, new_letter}) {
    ASSERT_EQ(
        put(delivery_table::dead_letters, encode_dead_letter_key(d), encode_dead_letter_value(d)),
        std::nullopt);
  }
  delivery_expiry rule{350, 1000};
  delivery_expiry_cursor cursor;
  uint64_t deleted = 0;
  for (int step = 0; step < 5; ++step) {  // 2 visits per step: a few steps make a pass
    auto n = store_->expire_delivery(rule, 2, cursor);
    ASSERT_TRUE(n) << n.error().detail;
    deleted += *n;
  }
  EXPECT_EQ(deleted, 4u);  // receipts 1-3 and the old dead letter
  auto left = reads().receipts(0, 4, "bob", 3);
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
  EXPECT_EQ(reads().receipts(0, 4, "bob", 4)->size(), 1u);
  auto letters = reads().dead_letters("chat", "", 10);
  ASSERT_TRUE(letters);
  ASSERT_EQ(letters->letters.size(), 1u);
  EXPECT_EQ(letters->letters[0].dead_at_ms, 5000u);
}

TEST_F(DeliveryStoreTest, AnOverlongKeyFailsTheWholeBatch) {
  write_batch batch;
  batch.appends.push_back({0, record("alice", 1)});
  batch.puts.push_back({delivery_table::cursors, std::string(600, 'k'), "v"});
  auto status = store_->apply(batch);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->code, storage_errc::bad_record);
  EXPECT_EQ(head_of("alice"), 0u);  // nothing of the batch was written
}

}  // namespace
}  // namespace tidegate::storage
