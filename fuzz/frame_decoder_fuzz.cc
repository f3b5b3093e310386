// libFuzzer target for protocol::frame_decoder, decode_single_frame and the payload messages.
//
// Input layout (the seed corpus in fuzz/corpus/frame_decoder/ follows it):
//   byte 0     control: bits 0-1 = k - 1, the number of chunk-size bytes that follow;
//              bit 2 = small limits (max_frame_size 1 KiB instead of the default 256 KiB);
//              bit 3 = give the decoder a dictionary (trained once, see fuzz_dictionary()).
//   bytes 1..k chunk sizes, each (byte + 1), used in turn to feed the stream.
//   the rest   the byte stream a client would send.
// Any violated invariant aborts (a crash for libFuzzer); bad input itself must never crash.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <zdict.h>

#include "protocol/frame.h"
#include "protocol/frame_decoder.h"
#include "protocol/zstd_codec.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/error.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"
#include "tidegate/v1/topic.pb.h"

namespace tidegate::protocol {
namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "frame_decoder_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

// A small dictionary trained on fixed text, so frames naming a dictionary id reach the
// dictionary paths. Built once per process; deterministic.
const zstd_dictionary* fuzz_dictionary() {
  static const std::shared_ptr<const zstd_dictionary> dict = [] {
    std::string samples;
    std::vector<size_t> sizes;
    for (int i = 0; i < 400; ++i) {
      std::string s = R"({"msg_id":"m-)" + std::to_string(i * 7919 % 100'000)
                      + R"(","owner":"user:)" + std::to_string(i % 97)
                      + R"(","business":"chat","payload":{"text":"hello )" + std::to_string(i * i)
                      + R"("}})";
      samples += s;
      sizes.push_back(s.size());
    }
    std::string bytes(4096, '\0');
    size_t n = ZDICT_trainFromBuffer(bytes.data(), bytes.size(), samples.data(), sizes.data(),
                                     static_cast<unsigned>(sizes.size()));
    check(!ZDICT_isError(n), "dictionary training failed");
    bytes.resize(n);
    std::string error;
    auto loaded = zstd_dictionary::load(bytes, 1, error);
    check(loaded != nullptr, "dictionary load failed");
    return loaded;
  }();
  return dict.get();
}

// Parses `payload` as the message of `type` (served types only). Parsing may fail; a parsed
// message must survive a serialize/parse round trip.
template <typename Message>
void parse_as(const std::string& payload) {
  Message first;
  if (!first.ParseFromString(payload)) {
    return;
  }
  Message second;
  check(second.ParseFromString(first.SerializeAsString()), "reserialized message does not parse");
  check(second.SerializeAsString() == first.SerializeAsString(), "round trip changed a message");
}

void parse_payload(const frame& f) {
  switch (f.type) {
    case v1::FRAME_TYPE_HELLO:
      return parse_as<v1::Hello>(f.payload);
    case v1::FRAME_TYPE_WELCOME:
      return parse_as<v1::Welcome>(f.payload);
    case v1::FRAME_TYPE_AUTH:
      return parse_as<v1::Auth>(f.payload);
    case v1::FRAME_TYPE_AUTH_OK:
      return parse_as<v1::AuthOk>(f.payload);
    case v1::FRAME_TYPE_PING:
      return parse_as<v1::Ping>(f.payload);
    case v1::FRAME_TYPE_PONG:
      return parse_as<v1::Pong>(f.payload);
    case v1::FRAME_TYPE_ACK:
      return parse_as<v1::Ack>(f.payload);
    case v1::FRAME_TYPE_GOAWAY:
      return parse_as<v1::GoAway>(f.payload);
    case v1::FRAME_TYPE_ERROR:
      return parse_as<v1::Error>(f.payload);
    case v1::FRAME_TYPE_SYNC_REQ:
      return parse_as<v1::SyncRequest>(f.payload);
    case v1::FRAME_TYPE_SYNC_DATA:
      return parse_as<v1::SyncData>(f.payload);
    case v1::FRAME_TYPE_SYNC_ACK:
      return parse_as<v1::SyncAck>(f.payload);
    case v1::FRAME_TYPE_FOLLOW:
    case v1::FRAME_TYPE_UNFOLLOW:
      return parse_as<v1::FollowRequest>(f.payload);
    case v1::FRAME_TYPE_FOLLOW_RESULT:
      return parse_as<v1::FollowResult>(f.payload);
    case v1::FRAME_TYPE_TOPIC_NOTICE:
      return parse_as<v1::TopicNotice>(f.payload);
    default:
      return;  // reserved types have no message yet
  }
}

void check_frame(const frame& f, const decoder_limits& limits) {
  check(is_known_frame_type(static_cast<uint8_t>(f.type)), "frame of an unknown type");
  check((f.flags & ~0x0f) == 0 && (f.flags & reserved_flags) == 0, "reserved flag bits");
  check(f.payload.size() <= limits.max_frame_size, "payload over max_frame_size");
}

bool same_frame(const frame& a, const frame& b) {
  return a.type == b.type && a.flags == b.flags && a.channel == b.channel && a.seq == b.seq
         && a.payload == b.payload;
}

// What a decoder made of a whole stream.
struct outcome {
  std::vector<frame> frames;
  protocol_errc error = protocol_errc::ok;  // from next() or, at the end, from finish()
};

// Decodes `stream` fed in chunks of `chunks[i % chunks.size()]` bytes, checking the decoder's
// bookkeeping after every call.
outcome decode_chunked(const uint8_t* stream, size_t size, const std::vector<size_t>& chunks,
                       const decoder_limits& limits, const zstd_dictionary* dict) {
  frame_decoder decoder{limits};
  decoder.set_dictionary(dict);
  outcome result;
  size_t appended = 0;
  size_t returned_wire_bytes = 0;  // what frames consumed, by buffered() accounting
  for (size_t i = 0, offset = 0; offset < size && result.error == protocol_errc::ok; ++i) {
    size_t n = std::min(chunks[i % chunks.size()], size - offset);
    decoder.append(reinterpret_cast<const char*>(stream + offset), n);
    offset += n;
    appended += n;
    check(decoder.buffered() == appended - returned_wire_bytes, "append lost or invented bytes");
    for (;;) {
      size_t before = decoder.buffered();
      frame f;
      auto status = decoder.next(f);
      if (status == frame_decoder::status::need_more) {
        check(decoder.buffered() == before, "need_more consumed bytes");
        check(before < max_header_bytes + limits.max_frame_size, "need_more with a whole frame");
        break;
      }
      if (status == frame_decoder::status::error) {
        check(decoder.error().code != protocol_errc::ok, "error status with code ok");
        check(decoder.buffered() == 0, "a failed decoder keeps its buffer");
        frame again;
        check(decoder.next(again) == frame_decoder::status::error, "decoder recovered");
        result.error = decoder.error().code;
        break;
      }
      check(decoder.buffered() + fixed_header_bytes + 2 <= before, "frame consumed too little");
      check(before - decoder.buffered() <= max_header_bytes + limits.max_frame_size,
            "frame consumed more than one bounded frame");
      returned_wire_bytes += before - decoder.buffered();
      check_frame(f, limits);
      parse_payload(f);
      result.frames.push_back(std::move(f));
    }
  }
  if (result.error == protocol_errc::ok) {
    auto end = decoder.finish();
    check((end.code == protocol_errc::ok) == (decoder.buffered() == 0), "finish disagrees");
    result.error = end.code;
  } else {
    check(decoder.finish().code == result.error, "finish forgot the error");
  }
  return result;
}

}  // namespace
}  // namespace tidegate::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tidegate::protocol;  // NOLINT(google-build-using-namespace): entry point only
  if (size < 1) {
    return 0;
  }
  uint8_t control = data[0];
  size_t k = (control & 0x3u) + 1;
  if (size < 1 + k) {
    return 0;
  }
  std::vector<size_t> chunks;
  for (size_t i = 0; i < k; ++i) {
    chunks.push_back(size_t{data[1 + i]} + 1);
  }
  decoder_limits limits;
  if ((control & 0x4u) != 0) {
    limits.max_frame_size = 1024;
  }
  const zstd_dictionary* dict = (control & 0x8u) != 0 ? fuzz_dictionary() : nullptr;
  const uint8_t* stream = data + 1 + k;
  size_t stream_size = size - 1 - k;

  auto chunked = decode_chunked(stream, stream_size, chunks, limits, dict);
  // Chunking must not change the result: the same stream appended at once decodes the same.
  auto whole = decode_chunked(stream, stream_size, {stream_size + 1}, limits, dict);
  check(chunked.error == whole.error, "chunking changed the error");
  check(chunked.frames.size() == whole.frames.size(), "chunking changed the frame count");
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    check(same_frame(chunked.frames[i], whole.frames[i]), "chunking changed a frame");
  }

  // decode_single_frame succeeds exactly when the stream is one whole frame. It takes no
  // dictionary, so it is compared only with a decoder that has none either.
  frame single;
  auto err =
      decode_single_frame(reinterpret_cast<const char*>(stream), stream_size, limits, single);
  if (stream_size == 0) {
    check(err.code == protocol_errc::malformed_frame, "empty input decoded as a frame");
    return 0;
  }
  if (err.code == protocol_errc::ok) {
    check_frame(single, limits);
    parse_payload(single);
  }
  if (dict == nullptr) {
    if (err.code == protocol_errc::ok) {
      check(whole.frames.size() == 1 && whole.error == protocol_errc::ok,
            "decode_single_frame accepted what the stream decoder did not");
      check(same_frame(single, whole.frames[0]), "decode_single_frame decoded differently");
    } else if (whole.frames.empty()) {
      check(err.code == whole.error, "decode_single_frame and the stream decoder disagree");
    } else {
      check(whole.frames.size() > 1 || whole.error != protocol_errc::ok,
            "decode_single_frame refused one whole frame");
    }
  }
  return 0;
}
