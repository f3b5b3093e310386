// Micro benchmarks of the MMTP codec: framing, varints, zstd and protobuf encoding.
// Numbers go into docs/benchmarks.md from a Release build only.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <zdict.h>

#include "protocol/frame.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "protocol/varint.h"
#include "protocol/zstd_codec.h"
#include "tidegate/v1/handshake.pb.h"

namespace tidegate::protocol {
namespace {

// A read from a socket: the decoder is fed in chunks of this size, as the connection does.
constexpr size_t read_chunk = 64 << 10;

std::string random_bytes(size_t size, uint32_t seed) {
  std::mt19937 rng{seed};
  std::string out(size, '\0');
  for (auto& c : out) {
    c = static_cast<char>(rng() & 0xff);
  }
  return out;
}

// JSON-like text of SYNC ops, about `size` bytes: repetitive keys, varying values.
std::string json_text(size_t size, uint32_t seed) {
  static const char* const businesses[] = {"chat", "orders", "coupons", "profile", "feed"};
  static const char* const words[] = {"hello",  "order",   "shipped", "payment", "received",
                                      "coupon", "expires", "soon",    "your",    "parcel"};
  std::mt19937 rng{seed};
  std::string out = "[";
  while (out.size() < size) {
    out += R"({"msg_id":"m-)" + std::to_string(rng() % 1'000'000) + R"(","owner":"user:)"
           + std::to_string(rng() % 10'000) + R"(","business":")" + businesses[rng() % 5]
           + R"(","version":)" + std::to_string(rng() % 100'000) + R"(,"payload":{"text":")";
    for (int i = 0, n = 3 + static_cast<int>(rng() % 6); i < n; ++i) {
      out += words[rng() % 10];
      out += ' ';
    }
    out += R"(","ts":)" + std::to_string(1'790'000'000'000 + rng() % 1'000'000) + "}},";
  }
  out.resize(size);
  return out;
}

// A dictionary trained on JSON samples like the benchmarks' input (seeds differ). Trained once
// per level and kept for the process: training takes longer than most benchmarks run.
std::shared_ptr<const zstd_dictionary> train_dictionary(int level) {
  std::string samples;
  std::vector<size_t> sizes;
  for (uint32_t i = 0; i < 2000; ++i) {
    auto sample = json_text(256 + (i % 8) * 128, 1000 + i);
    samples += sample;
    sizes.push_back(sample.size());
  }
  std::string dict(16 << 10, '\0');
  size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(), sizes.data(),
                                   static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) {
    return nullptr;
  }
  dict.resize(n);
  std::string error;
  return zstd_dictionary::load(dict, level, error);
}

std::shared_ptr<const zstd_dictionary> trained_dictionary(int level) {
  static std::map<int, std::shared_ptr<const zstd_dictionary>> cache;
  auto& dict = cache[level];
  if (!dict) {
    dict = train_dictionary(level);
  }
  return dict;
}

void BM_EncodeFrame(benchmark::State& state) {
  auto payload = random_bytes(static_cast<size_t>(state.range(0)), 1);
  frame_encoder encoder{{/*compression_threshold=*/std::numeric_limits<size_t>::max()}};
  std::string out;
  uint64_t seq = 0;
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    encoder.encode_payload(v1::FRAME_TYPE_SYNC_DATA, v1::CHANNEL_SYNC, ++seq, flag_ack_requested,
                           payload, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeFrame)->Arg(64)->Arg(1024);

// Decodes a stream of 1024 uncompressed frames of range(0) payload bytes, fed in socket-sized
// chunks; bytes/s counts wire bytes.
void BM_DecodeStream(benchmark::State& state) {
  auto payload = random_bytes(static_cast<size_t>(state.range(0)), 2);
  std::string stream;
  for (uint64_t seq = 1; seq <= 1024; ++seq) {
    append_frame(v1::FRAME_TYPE_SYNC_DATA, flag_ack_requested, v1::CHANNEL_SYNC, seq, payload,
                 stream);
  }
  frame_decoder decoder;
  frame f;
  int64_t frames = 0;
  for ([[maybe_unused]] auto _ : state) {
    for (size_t offset = 0; offset < stream.size(); offset += read_chunk) {
      decoder.append(stream.data() + offset, std::min(read_chunk, stream.size() - offset));
      while (decoder.next(f) == frame_decoder::status::frame) {
        ++frames;
      }
    }
  }
  if (frames != 1024 * state.iterations() || decoder.buffered() != 0) {
    state.SkipWithError("decoder lost frames");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(frames);
}
BENCHMARK(BM_DecodeStream)->Arg(64)->Arg(1024);

std::vector<uint64_t> varint_values() {
  // Sequence numbers and lengths: mostly 1-3 bytes, some large.
  std::mt19937_64 rng{3};
  std::vector<uint64_t> values(4096);
  for (auto& v : values) {
    v = rng() >> (rng() % 64);
  }
  return values;
}

void BM_VarintWrite(benchmark::State& state) {
  auto values = varint_values();
  std::string out;
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    for (auto v : values) {
      append_varint(v, out);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_VarintWrite);

void BM_VarintRead(benchmark::State& state) {
  auto values = varint_values();
  std::string encoded;
  for (auto v : values) {
    append_varint(v, encoded);
  }
  const auto* data = reinterpret_cast<const uint8_t*>(encoded.data());
  for ([[maybe_unused]] auto _ : state) {
    uint64_t sum = 0;
    for (size_t offset = 0; offset < encoded.size();) {
      auto r = read_varint(data + offset, encoded.size() - offset);
      sum += r.value;
      offset += r.consumed;
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * values.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * encoded.size()));
}
BENCHMARK(BM_VarintRead);

// What a zstd benchmark runs on, from its args: input size, zstd level, dictionary (0/1).
struct zstd_input {
  std::string text;
  int level = 1;
  std::shared_ptr<const zstd_dictionary> dict;
};

// False (and the benchmark is skipped) when the dictionary cannot be trained.
bool make_zstd_input(benchmark::State& state, zstd_input& in) {
  in.text = json_text(static_cast<size_t>(state.range(0)), 4);
  in.level = static_cast<int>(state.range(1));
  in.dict = state.range(2) != 0 ? trained_dictionary(in.level) : nullptr;
  if (state.range(2) != 0 && !in.dict) {
    state.SkipWithError("dictionary training failed");
    return false;
  }
  return true;
}

// bytes/s counts uncompressed bytes.
void BM_ZstdCompress(benchmark::State& state) {
  zstd_input in;
  if (!make_zstd_input(state, in)) {
    return;
  }
  const auto& text = in.text;
  int level = in.level;
  const auto& dict = in.dict;
  std::string out;
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    zstd_compress(text, level, dict.get(), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["ratio"] = static_cast<double>(text.size()) / static_cast<double>(out.size());
}

void BM_ZstdDecompress(benchmark::State& state) {
  zstd_input in;
  if (!make_zstd_input(state, in)) {
    return;
  }
  const auto& text = in.text;
  int level = in.level;
  const auto& dict = in.dict;
  std::string compressed;
  zstd_compress(text, level, dict.get(), compressed);
  std::string out;
  for ([[maybe_unused]] auto _ : state) {
    auto err = zstd_decompress(compressed, text.size(), dict.get(), out);
    if (err.code != protocol_errc::ok) {
      state.SkipWithError(err.reason.c_str());
      break;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["ratio"] =
      static_cast<double>(text.size()) / static_cast<double>(compressed.size());
}

void zstd_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bytes", "level", "dict"});
  for (int64_t size : {1024, 16 << 10}) {
    for (int64_t level : {1, 3}) {
      for (int64_t dict : {0, 1}) {
        b->Args({size, level, dict});
      }
    }
  }
}
BENCHMARK(BM_ZstdCompress)->Apply(zstd_args);
BENCHMARK(BM_ZstdDecompress)->Apply(zstd_args);

void BM_EncodeHello(benchmark::State& state) {
  v1::Hello hello;
  hello.set_protocol_version(1);
  hello.set_device_id("3f2a9c1e-5b7d-4e21-9a0c-d41f6b2e8c73");
  hello.set_app_id("demo");
  hello.set_client_version("ios/5.2.1");
  hello.set_os("ios");
  hello.set_heartbeat_interval_ms(240'000);
  hello.set_app_state(v1::APP_STATE_FOREGROUND);
  frame_encoder encoder;
  std::string out;
  for ([[maybe_unused]] auto _ : state) {
    out.clear();
    encoder.encode(v1::FRAME_TYPE_HELLO, v1::CHANNEL_CONTROL, 0, 0, hello, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out.size()));
}
BENCHMARK(BM_EncodeHello);

}  // namespace
}  // namespace tidegate::protocol
