// Cost of one group commit in the oplog store, per op, as the SYNC ingest shapes it: each op
// an append to one of `owners` logs plus its idempotency entry, 100-byte payloads, committed
// in groups of `group` ops. Periodic durability (no fsync per commit): what is measured is
// LMDB's page work and the writes to the page cache, not the disk.
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "storage/oplog_store.h"
#include "storage/temp_dir.h"

namespace tidegate::storage {
namespace {

constexpr uint16_t shards = 1024;

struct store_under_test {
  temp_dir dir;
  std::unique_ptr<lmdb_env> env;
  std::unique_ptr<oplog_store> store;
  std::map<std::string, uint64_t> heads;
  uint64_t seq = 0;

  store_under_test() {
    env_options options;
    options.map_size = size_t{1} << 30;
    options.max_map_size = size_t{8} << 30;
    options.mode = durability::periodic;
    auto opened = lmdb_env::open(dir.path(), options);
    if (!opened) {
      std::abort();
    }
    env = std::move(*opened);
    store = std::make_unique<oplog_store>(*env);
  }

  write_batch next_group(int64_t ops, int64_t owners) {
    write_batch batch;
    for (int64_t i = 0; i < ops; ++i, ++seq) {
      oplog_record r;
      r.bucket = 1;
      r.owner = "u" + std::to_string((seq * 7919) % static_cast<uint64_t>(owners));
      r.version = ++heads[r.owner];
      r.business = "bench";
      r.payload = std::string(100, 'x');
      r.msg_id = "m" + std::to_string(seq);
      r.created_at_ms = 1'700'000'000'000 + seq;
      auto shard = static_cast<uint16_t>(std::hash<std::string>{}(r.owner) % shards);
      batch.dedupes.push_back({{r.bucket, r.business, r.owner, r.msg_id}, {r.version, seq + 1}});
      batch.appends.push_back({shard, std::move(r)});
    }
    return batch;
  }
};

void BM_GroupCommit(benchmark::State& state) {
  const auto group = state.range(0);
  const auto owners = state.range(1);
  store_under_test s;
  for (int i = 0; i < 20; ++i) {  // some history, so pages split as in a running node
    if (s.store->apply_growing(s.next_group(1000, owners))) {
      state.SkipWithError("warm-up apply failed");
      return;
    }
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = s.next_group(group, owners);
    state.ResumeTiming();
    if (auto status = s.store->apply_growing(batch)) {
      state.SkipWithError(status->detail.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * group);
}
BENCHMARK(BM_GroupCommit)
    ->ArgNames({"group", "owners"})
    ->Args({1, 1000})
    ->Args({10, 1000})
    ->Args({100, 1000})
    ->Args({1000, 1000})
    ->Args({100, 100000})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tidegate::storage
