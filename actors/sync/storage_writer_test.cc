#include "actors/sync/storage_writer.h"

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <gtest/gtest.h>

#include "actors/atoms.h"
#include "storage/delivery_records.h"
#include "storage/delivery_store.h"
#include "storage/temp_dir.h"

namespace tidegate::actors {
namespace {

using namespace std::chrono_literals;

constexpr auto request_timeout = 10s;
constexpr auto hook_timeout = 10s;

storage::oplog_record record(const std::string& owner, uint64_t version,
                             std::string payload = "p") {
  storage::oplog_record r;
  r.bucket = 1;
  r.owner = owner;
  r.version = version;
  r.business = "chat";
  r.payload = std::move(payload);
  r.msg_id = "m" + std::to_string(version);
  return r;
}

/// Versions [from, to] of `owner` (shard 0, bucket 1).
storage::write_batch appends(const std::string& owner, uint64_t from, uint64_t to,
                             const std::string& payload = "p") {
  storage::write_batch batch;
  for (auto v = from; v <= to; ++v) {
    batch.appends.push_back({0, record(owner, v, payload)});
  }
  return batch;
}

/// A before_commit hook that holds the writer's first group commit until open() (at most
/// hook_timeout), so that the test can queue requests behind it. Shared with the writer
/// thread, which may call the hook after the test body returned.
class commit_gate {
 public:
  static std::shared_ptr<commit_gate> make() { return std::make_shared<commit_gate>(); }

  static std::function<void()> hook(std::shared_ptr<commit_gate> gate) {
    return [gate] {
      if (gate->calls_++ == 0) {
        gate->entered_.set_value();
        gate->opened_.wait_for(hook_timeout);
      }
    };
  }

  /// Waits until the writer thread is inside its first group commit.
  bool wait_entered() {
    return entered_future_.wait_for(hook_timeout) == std::future_status::ready;
  }
  void open() { open_.set_value(); }

 private:
  std::atomic<int> calls_{0};
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> open_;
  std::shared_future<void> opened_ = open_.get_future().share();
};

caf::actor_system_config& two_threads(caf::actor_system_config& cfg) {
  cfg.set("scheduler.max-threads", size_t{2});
  return cfg;
}

class StorageWriterTest : public ::testing::Test {
 public:
  ~StorageWriterTest() override {
    for (auto& writer : writers_) {  // else ~actor_system() waits for them forever
      caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
    }
  }

 protected:
  void SetUp() override { open({}); }

  void open(storage::env_options options) {
    store_.reset();
    env_.reset();
    auto env = storage::lmdb_env::open(dir_.path(), options);
    ASSERT_TRUE(env) << env.error().detail;
    env_ = std::move(*env);
    store_ = std::make_unique<storage::oplog_store>(*env_);
  }

  caf::actor spawn(writer_config cfg = {}) {
    auto writer = spawn_storage_writer(sys_, *env_, *store_, std::move(cfg));
    writers_.push_back(writer);
    return writer;
  }

  /// Sends a write and returns a function that waits for its reply: empty on success.
  static auto send_write(caf::scoped_actor& self, const caf::actor& writer,
                         storage::write_batch batch) {
    return self->request(writer, request_timeout, write_atom_v, std::move(batch));
  }

  template <class Handle>
  static caf::error reply_of(Handle& handle) {
    caf::error result = caf::make_error(caf::sec::invalid_argument, "no reply");
    handle.receive([&](caf::unit_t) { result = caf::error{}; },
                   [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  caf::error write(const caf::actor& writer, storage::write_batch batch) {
    auto handle = send_write(self_, writer, std::move(batch));
    return reply_of(handle);
  }

  /// The writer's stats. Also a barrier: the writer handled every earlier message of `self`.
  static writer_stats stats_of(caf::scoped_actor& self, const caf::actor& writer) {
    writer_stats result;
    self->request(writer, request_timeout, caf::get_atom_v)
        .receive([&](writer_stats& s) { result = s; },
                 [&](caf::error& err) { ADD_FAILURE() << to_string(err); });
    return result;
  }
  writer_stats stats_of(const caf::actor& writer) { return stats_of(self_, writer); }

  uint64_t head_of(const std::string& owner) {
    auto h = store_->head(0, 1, owner);
    EXPECT_TRUE(h) << h.error().detail;
    return h ? *h : 0;
  }

  storage::temp_dir dir_;
  std::unique_ptr<storage::lmdb_env> env_;
  std::unique_ptr<storage::oplog_store> store_;
  caf::actor_system_config cfg_;
  caf::actor_system sys_{two_threads(cfg_)};
  caf::scoped_actor self_{sys_};
  std::vector<caf::actor> writers_;
};

const auto stopped = caf::make_error(storage_writer_errc::stopped);

TEST_F(StorageWriterTest, AWriteIsAckedAndReadable) {
  auto writer = spawn();
  auto batch = appends("user:1", 1, 2);
  batch.dedupes.push_back({{1, "chat", "user:1", "m2"}, {2, 0}});
  ASSERT_EQ(write(writer, std::move(batch)), caf::error{});
  EXPECT_EQ(head_of("user:1"), 2u);
  auto page = store_->read_range(0, 1, "user:1", 0, 10, 1 << 20);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->records.size(), 2u);
  EXPECT_EQ(page->records[1], record("user:1", 2));
  auto seen = store_->lookup_dedupe(1, "chat", "user:1", "m2", 0);
  ASSERT_TRUE(seen);
  EXPECT_EQ(*seen, std::optional<uint64_t>{2});
  auto stats = stats_of(writer);
  EXPECT_EQ(stats.acked, 1u);
  EXPECT_EQ(stats.ops, 3u);
  EXPECT_EQ(stats.commits, 1u);
  EXPECT_EQ(stats.syncs, 0u);  // fsync mode: the commit itself synced
}

TEST_F(StorageWriterTest, ConcurrentWritesShareFewCommits) {
  constexpr int requesters = 10;
  constexpr uint64_t per_requester = 100;
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.max_batch_ops = 256;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  auto gate_write = send_write(self_, writer, appends("gate", 1, 1));
  ASSERT_TRUE(gate->wait_entered());
  // Each requester queues its writes (one per version of its own owner), proves they are
  // queued with a stats barrier, then waits for its replies.
  std::vector<std::promise<void>> queued(requesters);
  std::vector<std::future<void>> all_queued;
  std::atomic<uint64_t> acked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < requesters; ++t) {
    all_queued.push_back(queued[t].get_future());
    threads.emplace_back([&, t] {
      caf::scoped_actor self{sys_};
      std::vector<decltype(send_write(self, writer, {}))> handles;
      auto owner = "user:" + std::to_string(t);
      for (uint64_t v = 1; v <= per_requester; ++v) {
        handles.push_back(send_write(self, writer, appends(owner, v, v)));
      }
      stats_of(self, writer);
      queued[t].set_value();
      for (auto& handle : handles) {
        if (!reply_of(handle)) {
          ++acked;
        }
      }
    });
  }
  for (auto& f : all_queued) {
    ASSERT_EQ(f.wait_for(request_timeout), std::future_status::ready);
  }
  gate->open();
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(reply_of(gate_write), caf::error{});
  EXPECT_EQ(acked.load(), requesters * per_requester);
  auto stats = stats_of(writer);
  EXPECT_EQ(stats.acked, requesters * per_requester + 1);
  EXPECT_EQ(stats.commits, 1u + 4u);  // the gate's, then 1000 ops in groups of up to 256
  EXPECT_EQ(stats.fallbacks, 0u);
  EXPECT_GT(stats.average_batch(), 100.0);
  for (int t = 0; t < requesters; ++t) {
    auto owner = "user:" + std::to_string(t);
    auto page = store_->read_range(0, 1, owner, 0, 1000, size_t{1} << 20);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->records.size(), per_requester);
    EXPECT_EQ(page->records.back(), record(owner, per_requester));
  }
}

// Every kind of entry survives the merge of a group: a rebase, appends, puts and erases queued
// as separate requests behind a held commit are all applied.
TEST_F(StorageWriterTest, AGroupAppliesEveryKindOfEntryOfEveryRequest) {
  using storage::delivery_table;
  const auto old_key = storage::encode_cursor_key(0, 1, "alice", "old-phone");
  const auto new_key = storage::encode_cursor_key(0, 1, "alice", "new-phone");
  const auto value = storage::encode_cursor(storage::device_cursor{3, 3, 0, 0, 1});
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  auto gate_write = send_write(self_, writer, [&] {
    storage::write_batch b;
    b.puts.push_back({delivery_table::cursors, old_key, value});
    return b;
  }());
  ASSERT_TRUE(gate->wait_entered());
  storage::write_batch rebase;
  rebase.rebases.push_back({0, 1, "r", 4});
  storage::write_batch put_and_erase;
  put_and_erase.puts.push_back({delivery_table::cursors, new_key, value});
  put_and_erase.erases.push_back({delivery_table::cursors, old_key});
  auto h1 = send_write(self_, writer, std::move(rebase));
  auto h2 = send_write(self_, writer, appends("r", 5, 5));
  auto h3 = send_write(self_, writer, std::move(put_and_erase));
  stats_of(self_, writer);  // all three are queued behind the held commit, one group
  gate->open();
  EXPECT_EQ(reply_of(gate_write), caf::error{});
  EXPECT_EQ(reply_of(h1), caf::error{});
  EXPECT_EQ(reply_of(h2), caf::error{});
  EXPECT_EQ(reply_of(h3), caf::error{});
  EXPECT_EQ(head_of("r"), 5u);
  storage::delivery_store deliveries{*env_};
  EXPECT_TRUE(deliveries.cursor(0, 1, "alice", "new-phone").value());
  EXPECT_FALSE(deliveries.cursor(0, 1, "alice", "old-phone").value());
}

TEST_F(StorageWriterTest, ALingeringWriterCommitsOnCountOrTime) {
  writer_config cfg;
  cfg.max_batch_ops = 3;
  cfg.max_delay_us = 60'000'000;  // the count bound ends the wait, not this
  auto writer = spawn(cfg);
  std::vector<decltype(send_write(self_, writer, {}))> handles;
  for (uint64_t v = 1; v <= 3; ++v) {
    handles.push_back(send_write(self_, writer, appends("a", v, v)));
  }
  for (auto& handle : handles) {
    EXPECT_EQ(reply_of(handle), caf::error{});
  }
  EXPECT_EQ(stats_of(writer).commits, 1u);
  anon_send_exit(writer, caf::exit_reason::user_shutdown);
  cfg.max_batch_ops = 1000;
  cfg.max_delay_us = 1000;  // now the time bound ends it
  auto lone = spawn(cfg);
  EXPECT_EQ(write(lone, appends("a", 4, 4)), caf::error{});
  EXPECT_EQ(write(lone, appends("a", 5, 5)), caf::error{});
  EXPECT_EQ(head_of("a"), 5u);
}

TEST_F(StorageWriterTest, ABadRequestFailsAloneInItsGroup) {
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  auto gate_write = send_write(self_, writer, appends("gate", 1, 1));
  ASSERT_TRUE(gate->wait_entered());
  auto a1 = send_write(self_, writer, appends("a", 1, 1));
  auto conflict = send_write(self_, writer, appends("b", 5, 5));  // b's head is 0
  auto c1 = send_write(self_, writer, appends("c", 1, 1));
  auto bad = send_write(self_, writer, appends(std::string(200, 'x'), 1, 1));  // owner too long
  auto a2 = send_write(self_, writer, appends("a", 2, 2));
  stats_of(writer);  // all queued behind the gate: they form one group
  gate->open();
  EXPECT_EQ(reply_of(gate_write), caf::error{});
  EXPECT_EQ(reply_of(a1), caf::error{});
  EXPECT_EQ(reply_of(conflict), caf::make_error(storage::storage_errc::version_conflict));
  EXPECT_EQ(reply_of(c1), caf::error{});
  EXPECT_EQ(reply_of(bad), caf::make_error(storage::storage_errc::bad_record));
  EXPECT_EQ(reply_of(a2), caf::error{});
  EXPECT_EQ(head_of("a"), 2u);
  EXPECT_EQ(head_of("b"), 0u);
  EXPECT_EQ(head_of("c"), 1u);
  auto stats = stats_of(writer);
  EXPECT_EQ(stats.groups, 2u);
  EXPECT_EQ(stats.fallbacks, 1u);
  EXPECT_EQ(stats.commits, 1u + 3u);
  EXPECT_EQ(stats.acked, 4u);
  EXPECT_EQ(stats.failed, 2u);
}

TEST_F(StorageWriterTest, AFullMapFailsTheWholeGroupAndWritesNothing) {
  storage::env_options options;
  options.map_size = size_t{1} << 20;
  options.max_map_size = options.map_size;  // no growth
  options.mode = storage::durability::periodic;
  open(options);
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  auto gate_write = send_write(self_, writer, appends("gate", 1, 1));
  ASSERT_TRUE(gate->wait_entered());
  // Each fits the map alone; together they do not.
  const std::string big(400 << 10, 'z');
  std::vector<decltype(send_write(self_, writer, {}))> handles;
  for (const auto* owner : {"a", "b", "c"}) {
    handles.push_back(send_write(self_, writer, appends(owner, 1, 1, big)));
  }
  stats_of(writer);
  gate->open();
  EXPECT_EQ(reply_of(gate_write), caf::error{});
  for (auto& handle : handles) {
    EXPECT_EQ(reply_of(handle), caf::make_error(storage::storage_errc::map_full));
  }
  for (const auto* owner : {"a", "b", "c"}) {
    EXPECT_EQ(head_of(owner), 0u) << owner;
  }
  EXPECT_EQ(stats_of(writer).fallbacks, 0u);  // all or nothing: no one-by-one retry
  EXPECT_EQ(write(writer, appends("a", 1, 1)), caf::error{});  // the writer goes on
  EXPECT_EQ(head_of("a"), 1u);
}

TEST_F(StorageWriterTest, ShutdownAnswersQueuedRequestsAndExits) {
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  self_->monitor(writer);
  auto gate_write = send_write(self_, writer, appends("gate", 1, 1));
  ASSERT_TRUE(gate->wait_entered());
  std::vector<decltype(send_write(self_, writer, {}))> handles;
  for (uint64_t v = 1; v <= 5; ++v) {
    handles.push_back(send_write(self_, writer, appends("a", v, v)));
  }
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  stats_of(writer);  // the exit is handled; the writer waits for its thread's last commit
  EXPECT_EQ(write(writer, appends("b", 1, 1)), stopped);  // refused at once while stopping
  gate->open();
  EXPECT_EQ(reply_of(gate_write), caf::error{});  // the current commit finishes
  for (auto& handle : handles) {
    EXPECT_EQ(reply_of(handle), stopped);
  }
  caf::error reason;
  self_->receive([&](caf::down_msg& msg) { reason = msg.reason; },
                 caf::after(request_timeout) >> [] { ADD_FAILURE() << "writer did not exit"; });
  EXPECT_EQ(reason, caf::exit_reason::user_shutdown);
  EXPECT_EQ(head_of("gate"), 1u);
  EXPECT_EQ(head_of("a"), 0u);
  EXPECT_EQ(head_of("b"), 0u);
}

TEST_F(StorageWriterTest, AKilledWriterFailsItsQueuedRequests) {
  auto gate = commit_gate::make();
  writer_config cfg;
  cfg.before_commit = commit_gate::hook(gate);
  auto writer = spawn(cfg);
  auto gate_write = send_write(self_, writer, appends("gate", 1, 1));
  ASSERT_TRUE(gate->wait_entered());
  std::vector<decltype(send_write(self_, writer, {}))> handles;
  for (uint64_t v = 1; v <= 3; ++v) {
    handles.push_back(send_write(self_, writer, appends("a", v, v)));
  }
  stats_of(writer);
  caf::anon_send_exit(writer, caf::exit_reason::kill);  // no graceful stop: the state's destructor
  gate->open();
  auto gate_reply = reply_of(gate_write);  // committed; its report may have been dropped
  EXPECT_TRUE(!gate_reply || gate_reply == stopped) << to_string(gate_reply);
  for (auto& handle : handles) {
    EXPECT_EQ(reply_of(handle), stopped);
  }
  EXPECT_EQ(head_of("a"), 0u);
}

TEST_F(StorageWriterTest, AnActorSystemWithAWriterShutsDown) {
  caf::actor_system_config cfg;
  auto sys = std::make_unique<caf::actor_system>(two_threads(cfg));
  auto writer = spawn_storage_writer(*sys, *env_, *store_, {});
  {
    caf::scoped_actor self{*sys};
    auto handle = send_write(self, writer, appends("a", 1, 1));
    EXPECT_EQ(reply_of(handle), caf::error{});
  }
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  writer = nullptr;
  sys.reset();  // returns: the writer exited and its thread was joined
  EXPECT_EQ(head_of("a"), 1u);
}

TEST_F(StorageWriterTest, PeriodicModeSyncsOnItsTimer) {
  storage::env_options options;
  options.mode = storage::durability::periodic;
  open(options);
  auto synced = std::make_shared<std::promise<void>>();
  auto calls = std::make_shared<std::atomic<int>>(0);
  writer_config cfg;
  cfg.sync_interval_ms = 5;
  cfg.after_sync = [synced, calls] {
    if ((*calls)++ == 0) {
      synced->set_value();
    }
  };
  auto writer = spawn(cfg);
  auto before = stats_of(writer);
  EXPECT_EQ(before.syncs, 0u);  // nothing to sync yet
  ASSERT_EQ(write(writer, appends("a", 1, 1)), caf::error{});
  ASSERT_EQ(synced->get_future().wait_for(request_timeout), std::future_status::ready);
  auto after = stats_of(writer);
  EXPECT_GE(after.syncs, 1u);
  EXPECT_EQ(after.sync_failures, 0u);
}

TEST_F(StorageWriterTest, PeriodicModeSyncsItsLastCommitsWhenItStops) {
  storage::env_options options;
  options.mode = storage::durability::periodic;
  open(options);
  auto calls = std::make_shared<std::atomic<int>>(0);
  writer_config cfg;
  cfg.sync_interval_ms = 3'600'000;  // the timer never fires in this test
  cfg.after_sync = [calls] { ++*calls; };
  auto writer = spawn(cfg);
  self_->monitor(writer);
  ASSERT_EQ(write(writer, appends("a", 1, 1)), caf::error{});
  EXPECT_EQ(calls->load(), 0);  // committed, not yet synced
  caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
  self_->receive([](caf::down_msg&) {},
                 caf::after(request_timeout) >> [] { ADD_FAILURE() << "writer did not exit"; });
  EXPECT_GE(calls->load(), 1);  // synced on the way out
}

}  // namespace
}  // namespace tidegate::actors

namespace tidegate::actors {
namespace {

TEST_F(StorageWriterTest, RetentionTrimsOldOpsInTheBackground) {
  writer_config cfg;
  storage::retention_policy keep_two;
  keep_two.keep_count = 2;
  cfg.retention.emplace_back(uint8_t{1}, keep_two);
  cfg.maintenance_interval_ms = 1;
  auto writer = spawn(cfg);
  ASSERT_EQ(write(writer, appends("user:1", 1, 5)), caf::error{});
  uint64_t watermark = 0;
  for (int i = 0; i < 500 && watermark != 4; ++i) {  // bounded: the thread trims on its timer
    auto low = store_->low_watermark(0, 1, "user:1");
    ASSERT_TRUE(low);
    watermark = *low;
    if (watermark != 4) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  EXPECT_EQ(watermark, 4u);  // versions 4 and 5 kept
  EXPECT_EQ(head_of("user:1"), 5u);
  ASSERT_EQ(write(writer, appends("user:1", 6, 6)), caf::error{});  // versions continue
}

TEST_F(StorageWriterTest, ReloadedRetentionAppliesFromTheNextRun) {
  writer_config cfg;
  cfg.maintenance_interval_ms = 1;  // no policy at start: nothing is trimmed
  auto writer = spawn(cfg);
  ASSERT_EQ(write(writer, appends("user:1", 1, 5)), caf::error{});
  storage::retention_policy keep_one;
  keep_one.keep_count = 1;
  bool reloaded = false;
  self_->request(writer, std::chrono::seconds(5), reload_atom_v, retention_list{{1, keep_one}})
      .receive([&](caf::ok_atom) { reloaded = true; }, [](caf::error&) {});
  ASSERT_TRUE(reloaded);
  uint64_t watermark = 0;
  for (int i = 0; i < 500 && watermark != 5; ++i) {  // bounded: the thread trims on its timer
    auto low = store_->low_watermark(0, 1, "user:1");
    ASSERT_TRUE(low);
    watermark = *low;
    if (watermark != 5) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  EXPECT_EQ(watermark, 5u);
}

}  // namespace
}  // namespace tidegate::actors
