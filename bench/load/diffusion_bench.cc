// `tidegate bench diffusion`: what one publish to F offline followers costs the storage layer,
// read diffusion (the topic's log) against write diffusion (each follower's own log).
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <string>

#include "actors/sync/bucket_config.h"
#include "actors/topics/topic_messages.h"
#include "bench/load/fanout_bench.h"
#include "bench/load/scratch_dir.h"
#include "storage/lmdb_env.h"
#include "storage/oplog_store.h"

#include <nlohmann/json.hpp>

namespace tidegate::bench {
namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr uint16_t shards = 1024;
constexpr size_t group_ops = 1024;  // the storage_writer's default group commit size
constexpr uint8_t user_bucket = 1;

// Bytes this process caused to be written to storage so far (/proc/self/io write_bytes).
uint64_t written_bytes() {
  std::ifstream in{"/proc/self/io"};
  std::string key;
  uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "write_bytes:") {
      return value;
    }
  }
  return 0;
}

uint64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

struct cost {
  double seconds = 0;
  uint64_t written = 0;  // write_bytes
  uint64_t grown = 0;    // data.mdb growth
  uint64_t commits = 0;
  std::string error;
};

storage::oplog_record message(const std::string& owner, uint8_t bucket,
                              const std::string& payload) {
  storage::oplog_record r;
  r.bucket = bucket;
  r.owner = owner;
  r.version = 1;
  r.payload = payload;
  r.msg_id = "m1";
  r.created_at_ms = 1;
  return r;
}

// Applies `make_batch(i)` for i in [0, groups) to a fresh fsync-mode environment and measures.
template <class MakeBatch>
cost measure(uint64_t groups, MakeBatch make_batch) {
  cost c;
  scratch_dir dir;
  storage::env_options options;
  options.mode = storage::durability::fsync;
  options.map_size = size_t{64} << 20;
  options.max_map_size = size_t{16} << 30;
  auto env = storage::lmdb_env::open(dir.path.string(), options);
  if (!env) {
    c.error = env.error().detail;
    return c;
  }
  storage::oplog_store store{**env};
  auto data = (dir.path / "data.mdb").string();
  auto size_before = file_bytes(data);
  auto written_before = written_bytes();
  auto start = steady::now();
  for (uint64_t g = 0; g < groups; ++g) {
    if (auto err = store.apply_growing(make_batch(g))) {
      c.error = err->detail;
      return c;
    }
    ++c.commits;
  }
  c.seconds = std::chrono::duration<double>(steady::now() - start).count();
  c.written = written_bytes() - written_before;
  c.grown = file_bytes(data) - size_before;
  return c;
}

}  // namespace

int run_diffusion_bench(const diffusion_bench_options& o) {
  const std::string payload(o.payload_bytes, 'x');
  const std::string topic = "bench:diffusion";
  json out = json::array();
  bool ok = true;
  for (auto followers : o.followers) {
    auto read = measure(1, [&](uint64_t) {
      storage::write_batch b;
      b.appends.push_back(
          {actors::shard_of(topic, shards), message(topic, actors::topic_bucket_id, payload)});
      return b;
    });
    auto write = measure((followers + group_ops - 1) / group_ops, [&](uint64_t g) {
      storage::write_batch b;
      for (uint64_t i = g * group_ops; i < followers && i < (g + 1) * group_ops; ++i) {
        auto user = "u" + std::to_string(i);
        b.appends.push_back({actors::shard_of(user, shards), message(user, user_bucket, payload)});
      }
      return b;
    });
    ok = ok && read.error.empty() && write.error.empty();
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    json run{{"followers", followers},
             {"read_diffusion",
              {{"seconds", read.seconds},
               {"bytes_written", read.written},
               {"file_growth", read.grown},
               {"commits", read.commits},
               {"error", read.error}}},
             {"write_diffusion",
              {{"seconds", write.seconds},
               {"bytes_written", write.written},
               {"file_growth", write.grown},
               {"commits", write.commits},
               {"error", write.error}}},
             {"time_ratio", ratio(write.seconds, read.seconds)},
             {"bytes_ratio",
              ratio(static_cast<double>(write.written), static_cast<double>(read.written))}};
    out.push_back(run);
    if (!o.json) {
      std::cout << std::fixed << std::setprecision(4) << "F=" << followers
                << "  read diffusion: " << read.seconds * 1000 << " ms, " << read.written
                << " bytes written, " << read.commits << " commit"
                << "  |  write diffusion: " << write.seconds * 1000 << " ms, " << write.written
                << " bytes written, " << write.commits << " commits" << std::setprecision(0)
                << "  |  write/read: time x" << run["time_ratio"].get<double>() << ", bytes x"
                << run["bytes_ratio"].get<double>() << "\n";
      if (!read.error.empty() || !write.error.empty()) {
        std::cout << "  error: " << read.error << write.error << "\n";
      }
    }
  }
  if (o.json) {
    std::cout << out.dump(2) << "\n";
  }
  return ok ? 0 : 1;
}

}  // namespace tidegate::bench
