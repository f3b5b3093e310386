#include "actors/sync/replica_sink.h"

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <gtest/gtest.h>

#include "actors/atoms.h"
#include "actors/sync/bucket_replication.h"
#include "actors/sync/replica_outbox.h"
#include "actors/sync/storage_writer.h"
#include "actors/sync/sync_errc.h"
#include "actors/sync/sync_messages.h"
#include "storage/temp_dir.h"

namespace tidegate::actors {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t shard = 7;

storage::write_batch ops(const std::string& owner, uint64_t from, uint64_t to,
                         const std::string& prefix = "m") {
  storage::write_batch batch;
  for (auto v = from; v <= to; ++v) {
    storage::oplog_record r;
    r.bucket = 1;
    r.owner = owner;
    r.version = v;
    r.business = "chat";
    r.payload = prefix + std::to_string(v);
    r.msg_id = prefix + std::to_string(v);
    batch.appends.push_back({shard, std::move(r)});
  }
  return batch;
}

// A real LMDB, storage writer and replica sink; the stream is accepted from "n1" in epoch 3
// only (what the shard map would say).
class ReplicaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = storage::lmdb_env::open(dir_.path(), {});
    ASSERT_TRUE(env);
    env_ = std::move(*env);
    store_ = std::make_unique<storage::oplog_store>(*env_);
    auto ctx = std::make_shared<sync_context>();
    ctx->store = store_.get();
    ctx->accept_stream = [](uint16_t s, uint64_t epoch, const std::string& primary) {
      if (s != shard || epoch != 3 || primary != "n1") {
        return caf::make_error(sync_errc::replica_fenced, "not this stream");
      }
      return caf::error{};
    };
    writer_ = spawn_storage_writer(sys_, *env_, *store_, {});
    sink_ = spawn_replica_sink(sys_, ctx);
    outbox_ = spawn_replica_outbox(sys_);
  }

  void TearDown() override {
    caf::anon_send_exit(outbox_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(writer_, caf::exit_reason::user_shutdown);
  }

  // The sink's answer through the outbox, as a primary sends: the gaps, or the error.
  std::pair<replica_reply, caf::error> send(storage::write_batch batch, uint64_t epoch = 3,
                                            const std::string& primary = "n1",
                                            std::vector<owner_prev> prevs = {}) {
    caf::scoped_actor self{sys_};
    std::pair<replica_reply, caf::error> out;
    self->request(outbox_, 10s, replicate_atom_v, sink_,
                  replica_item{shard, epoch, primary, std::move(batch), std::move(prevs)})
        .receive([&](replica_reply& reply) { out.first = std::move(reply); },
                 [&](caf::error& err) { out.second = std::move(err); });
    return out;
  }

  // The sink's answers to `stream`, sent to it directly.
  replica_outcomes send_stream(replica_stream stream) {
    caf::scoped_actor self{sys_};
    replica_outcomes out;
    self->request(sink_, 10s, replicate_atom_v, std::move(stream))
        .receive([&](replica_outcomes& got) { out = std::move(got); },
                 [&](caf::error& err) { ADD_FAILURE() << sys_.render(err); });
    return out;
  }

  uint64_t head(const std::string& owner) {
    auto h = store_->head(shard, 1, owner);
    return h ? *h : 999;
  }

  storage::temp_dir dir_;
  std::unique_ptr<storage::lmdb_env> env_;
  std::unique_ptr<storage::oplog_store> store_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_{cfg_};
  caf::actor writer_;
  caf::actor sink_;
  caf::actor outbox_;
};

TEST_F(ReplicaSinkTest, AppliesAnOwnersOpsInOrder) {
  auto [reply, err] = send(ops("u", 1, 3));
  EXPECT_FALSE(err);
  EXPECT_TRUE(reply.gaps.empty());
  EXPECT_EQ(head("u"), 3u);
}

// A former primary's unacknowledged tail (here versions 2-3 of its own) must not be extended
// with the new primary's later ops: the op before the first append is checked (owner_prev),
// and the owner is reported diverged with nothing of the batch applied.
TEST_F(ReplicaSinkTest, ReportsAHeadThatIsNotThePrimarysOpAsDivergedAndAppliesNothing) {
  ASSERT_FALSE(send(ops("u", 1, 1)).second);
  ASSERT_FALSE(send(ops("u", 2, 3, "stale")).second);
  auto batch = ops("u", 4, 4);
  batch.appends.push_back(ops("w", 1, 1).appends[0]);
  auto [reply, err] = send(batch, 3, "n1", {{1, "u", 3, "m3"}});
  EXPECT_FALSE(err);
  ASSERT_EQ(reply.diverged.size(), 1u);
  EXPECT_EQ(reply.diverged[0].owner, "u");
  EXPECT_EQ(reply.diverged[0].have, 3u);
  EXPECT_EQ(head("u"), 3u);
  EXPECT_EQ(head("w"), 0u);  // all or nothing
  // The op the primary names is there: the append goes on.
  auto [ok_reply, ok] = send(ops("u", 4, 4), 3, "n1", {{1, "u", 3, "stale3"}});
  EXPECT_FALSE(ok);
  EXPECT_TRUE(ok_reply.applied());
  EXPECT_EQ(head("u"), 4u);
}

// The primary's answer to a divergence: a truncate and its own log, in one batch.
TEST_F(ReplicaSinkTest, ATruncateFromTheCurrentPrimaryReplacesTheDivergedTail) {
  ASSERT_FALSE(send(ops("u", 1, 1)).second);
  ASSERT_FALSE(send(ops("u", 2, 3, "stale")).second);
  auto batch = ops("u", 1, 4);
  batch.truncates.push_back({shard, 1, "u", 0});
  auto [reply, err] = send(batch);
  EXPECT_FALSE(err);
  EXPECT_TRUE(reply.applied());
  EXPECT_EQ(head("u"), 4u);
  EXPECT_EQ(store_->get(shard, 1, "u", 3)->msg_id, "m3");
  // Only the stream of the current primary may truncate.
  auto old = ops("u", 1, 2, "old");
  old.truncates.push_back({shard, 1, "u", 0});
  EXPECT_EQ(send(old, 2).second, sync_errc::replica_fenced);
  EXPECT_EQ(store_->get(shard, 1, "u", 3)->msg_id, "m3");
}

TEST_F(ReplicaSinkTest, RefusesAStreamTheMapDoesNotNameAndWritesNothing) {
  auto [r1, old_epoch] = send(ops("u", 1, 1), /*epoch=*/2);
  EXPECT_EQ(old_epoch, sync_errc::replica_fenced);
  auto [r2, other_primary] = send(ops("u", 1, 1), 3, "n2");
  EXPECT_EQ(other_primary, sync_errc::replica_fenced);
  EXPECT_EQ(head("u"), 0u);
}

TEST_F(ReplicaSinkTest, ReportsAGapAndAppliesNothingOfTheBatch) {
  ASSERT_FALSE(send(ops("u", 1, 2)).second);
  auto batch = ops("u", 5, 6);
  auto other = ops("w", 1, 1);
  batch.appends.push_back(other.appends[0]);
  auto [reply, err] = send(batch);
  EXPECT_FALSE(err);
  ASSERT_EQ(reply.gaps.size(), 1u);
  EXPECT_EQ(reply.gaps[0].owner, "u");
  EXPECT_EQ(reply.gaps[0].have, 2u);
  EXPECT_EQ(head("u"), 2u);
  EXPECT_EQ(head("w"), 0u);  // the batch is all or nothing
}

TEST_F(ReplicaSinkTest, SkipsOpsItHoldsAndAppliesTheRest) {
  ASSERT_FALSE(send(ops("u", 1, 2)).second);
  auto [reply, err] = send(ops("u", 1, 4));  // a resend that overlaps
  EXPECT_FALSE(err);
  EXPECT_TRUE(reply.gaps.empty());
  EXPECT_EQ(head("u"), 4u);
}

TEST_F(ReplicaSinkTest, ARebaseSkipsOpsThePrimaryNoLongerKeeps) {
  ASSERT_FALSE(send(ops("u", 1, 2)).second);
  auto batch = ops("u", 6, 6);
  batch.rebases.push_back({shard, 1, "u", 5});  // 3..5 were acked `once` ops, deleted there
  auto [reply, err] = send(batch);
  EXPECT_FALSE(err);
  EXPECT_TRUE(reply.gaps.empty());
  EXPECT_EQ(head("u"), 6u);
}

TEST_F(ReplicaSinkTest, ReportsAnotherOpUnderAVersionItHoldsAsDiverged) {
  ASSERT_FALSE(send(ops("u", 1, 2)).second);
  auto [reply, err] = send(ops("u", 2, 3, "other"));
  EXPECT_FALSE(err);
  ASSERT_EQ(reply.diverged.size(), 1u);
  EXPECT_EQ(reply.diverged[0].have, 2u);
  EXPECT_EQ(head("u"), 2u);
}

TEST_F(ReplicaSinkTest, AnswersEachBatchOfAStreamOnItsOwnAndInOrder) {
  replica_stream stream;
  stream.items.push_back({shard, 3, "n1", ops("u", 1, 2), {}});
  stream.items.push_back({shard, 2, "n1", ops("w", 1, 1), {}});  // an old epoch: refused alone
  stream.items.push_back({shard, 3, "n1", ops("u", 5, 5), {}});  // checked against 1..2 above
  stream.items.push_back({shard, 3, "n1", ops("u", 3, 3), {}});
  auto got = send_stream(std::move(stream));
  ASSERT_EQ(got.outcomes.size(), 4u);
  EXPECT_FALSE(got.outcomes[0].error);
  EXPECT_TRUE(got.outcomes[0].reply.gaps.empty());
  EXPECT_EQ(got.outcomes[1].error, sync_errc::replica_fenced);
  EXPECT_FALSE(got.outcomes[2].error);
  ASSERT_EQ(got.outcomes[2].reply.gaps.size(), 1u);
  EXPECT_EQ(got.outcomes[2].reply.gaps[0].have, 2u);
  EXPECT_FALSE(got.outcomes[3].error);
  EXPECT_TRUE(got.outcomes[3].reply.gaps.empty());
  EXPECT_EQ(head("u"), 3u);
  EXPECT_EQ(head("w"), 0u);
}

TEST_F(ReplicaSinkTest, AnEmptyStreamIsAnsweredEmpty) {
  EXPECT_TRUE(send_stream({}).outcomes.empty());
}

TEST_F(ReplicaSinkTest, TheOutboxAnswersEachSenderWithItsOwnBatchsOutcome) {
  // Many senders at once, so that their batches share streams: each gets its own answer.
  constexpr int senders = 20;
  caf::scoped_actor self{sys_};
  for (int i = 0; i < senders; ++i) {
    auto owner = "o" + std::to_string(i);
    auto epoch = i % 5 == 0 ? uint64_t{2} : uint64_t{3};  // every fifth is fenced
    self->send(outbox_, replicate_atom_v, sink_,
               replica_item{shard, epoch, "n1", ops(owner, 1, 2), {}});
  }
  int applied = 0;
  int fenced = 0;
  for (int i = 0; i < senders; ++i) {
    self->receive([&](replica_reply& reply) { applied += reply.gaps.empty() ? 1 : 0; },
                  [&](caf::error& err) { fenced += err == sync_errc::replica_fenced ? 1 : 0; },
                  caf::after(10s) >> [&] { ADD_FAILURE() << "no answer"; });
  }
  EXPECT_EQ(applied, senders - senders / 5);
  EXPECT_EQ(fenced, senders / 5);
  for (int i = 0; i < senders; ++i) {
    EXPECT_EQ(head("o" + std::to_string(i)), i % 5 == 0 ? 0u : 2u) << i;
  }
}

// The primary's side (bucket_replication's replicate()) against a real sink: the primary
// keeps its log in a store of its own, and streams a batch it committed there.
struct primary_state {
  static inline const char* name = "test.primary";
  pending_calls calls;
};

caf::behavior test_primary(caf::stateful_actor<primary_state>* self, sync_context_ptr ctx) {
  self->set_down_handler(
      [self](caf::down_msg& msg) { self->state.calls.on_down(msg, replica_lost()); });
  return {
      [self, ctx](replicate_atom, const caf::actor& sink,
                  storage::write_batch& batch) -> caf::result<bool> {
        auto promise = self->make_response_promise<bool>();
        replica_target target;
        target.sink = sink;
        target.epoch = 3;
        target.primary = "n1";
        target.replica = "n2";
        replicate(self, self->state.calls, ctx, shard, std::move(target),
                  std::make_shared<const storage::write_batch>(std::move(batch)),
                  [promise](caf::error err) mutable {
                    if (err) {
                      promise.deliver(std::move(err));
                    } else {
                      promise.deliver(true);
                    }
                  });
        return promise;
      },
  };
}

class ReplicationTest : public ReplicaSinkTest {
 protected:
  void SetUp() override {
    ReplicaSinkTest::SetUp();
    auto env = storage::lmdb_env::open(primary_dir_.path(), {});
    ASSERT_TRUE(env);
    primary_env_ = std::move(*env);
    primary_store_ = std::make_unique<storage::oplog_store>(*primary_env_);
    auto ctx = std::make_shared<sync_context>();
    ctx->store = primary_store_.get();
    primary_ = sys_.spawn(test_primary, ctx);
  }

  void TearDown() override {
    caf::anon_send_exit(primary_, caf::exit_reason::user_shutdown);
    ReplicaSinkTest::TearDown();
  }

  // Commits `batch` on the primary (with its ops' idempotency entries), then replicates it.
  caf::error commit_and_replicate(storage::write_batch batch) {
    for (const auto& a : batch.appends) {
      const auto& r = a.record;
      batch.dedupes.push_back({{r.bucket, r.business, r.owner, r.msg_id}, {r.version, 0}});
    }
    if (auto err = primary_store_->apply(batch)) {
      return caf::make_error(sync_errc::not_durable, err->detail);
    }
    caf::scoped_actor self{sys_};
    caf::error out;
    self->request(primary_, 10s, replicate_atom_v, sink_, std::move(batch))
        .receive([](bool) {}, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  // Writes `batch` on the replica only, as a former primary did before it was cut off.
  void commit_on_replica_only(storage::write_batch batch) {
    for (const auto& a : batch.appends) {
      const auto& r = a.record;
      batch.dedupes.push_back({{r.bucket, r.business, r.owner, r.msg_id}, {r.version, 0}});
    }
    ASSERT_FALSE(store_->apply(batch));
  }

  storage::temp_dir primary_dir_;
  std::unique_ptr<storage::lmdb_env> primary_env_;
  std::unique_ptr<storage::oplog_store> primary_store_;
  caf::actor primary_;
};

// A former primary with an unacknowledged tail (versions 3-4 of its own) is made the replica
// of the member that took over and gave those versions other ops: the first write after that
// truncates the tail, the replica gets the primary's log, and the write is acknowledged.
TEST_F(ReplicationTest, AReplicaWithAnUnacknowledgedTailTakesThePrimarysLog) {
  ASSERT_FALSE(commit_and_replicate(ops("u", 1, 2)));
  commit_on_replica_only(ops("u", 3, 4, "stale"));
  ASSERT_FALSE(primary_store_->apply(ops("u", 3, 3, "theirs")));  // its replica was lost
  auto err = commit_and_replicate(ops("u", 4, 5, "theirs"));
  EXPECT_FALSE(err) << sys_.render(err);
  EXPECT_EQ(head("u"), 5u);
  for (uint64_t v = 1; v <= 5; ++v) {
    EXPECT_EQ(store_->get(shard, 1, "u", v)->msg_id, primary_store_->get(shard, 1, "u", v)->msg_id)
        << v;
  }
  // The tail's idempotency entries went with it: a retried stale msg_id is not found here.
  EXPECT_FALSE(*store_->lookup_dedupe(1, "chat", "u", "stale3", 0));
  EXPECT_EQ(*store_->lookup_dedupe(1, "chat", "u", "theirs4", 0), std::optional<uint64_t>(4));
}

// The same when the tail ends just below the batch: found by the op the primary names before
// its first append (owner_prev).
TEST_F(ReplicationTest, ATailBelowTheBatchIsFoundByThePrimarysPrevAndTruncated) {
  ASSERT_FALSE(commit_and_replicate(ops("u", 1, 1)));
  commit_on_replica_only(ops("u", 2, 3, "stale"));
  ASSERT_FALSE(primary_store_->apply(ops("u", 2, 3, "theirs")));
  auto err = commit_and_replicate(ops("u", 4, 4, "theirs"));
  EXPECT_FALSE(err) << sys_.render(err);
  EXPECT_EQ(head("u"), 4u);
  EXPECT_EQ(store_->get(shard, 1, "u", 2)->msg_id, "theirs2");
  EXPECT_EQ(store_->get(shard, 1, "u", 3)->msg_id, "theirs3");
}

}  // namespace
}  // namespace tidegate::actors
