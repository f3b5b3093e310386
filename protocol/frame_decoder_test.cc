#include "protocol/frame_decoder.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "protocol/frame_encoder.h"
#include "protocol/varint.h"
#include "protocol/zstd_codec.h"
#include "tidegate/v1/control.pb.h"

namespace tidegate::protocol {
namespace {

std::string ping_frame(uint64_t seq, uint64_t time) {
  v1::Ping ping;
  ping.set_client_time_ms(time);
  std::string out;
  frame_encoder{}.encode(v1::FRAME_TYPE_PING, v1::CHANNEL_CONTROL, seq, 0, ping, out);
  return out;
}

frame_decoder::status feed(frame_decoder& d, const std::string& bytes, frame& out) {
  d.append(bytes.data(), bytes.size());
  return d.next(out);
}

TEST(FrameDecoderTest, DecodesAFrameFedByteByByte) {
  auto bytes = ping_frame(7, 1234);
  frame_decoder d;
  frame f;
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    d.append(&bytes[i], 1);
    ASSERT_EQ(d.next(f), frame_decoder::status::need_more) << i;
  }
  d.append(&bytes.back(), 1);
  ASSERT_EQ(d.next(f), frame_decoder::status::frame);
  EXPECT_EQ(f.type, v1::FRAME_TYPE_PING);
  EXPECT_EQ(f.seq, 7u);
  v1::Ping ping;
  ASSERT_TRUE(ping.ParseFromString(f.payload));
  EXPECT_EQ(ping.client_time_ms(), 1234u);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_EQ(d.finish().code, protocol_errc::ok);
}

TEST(FrameDecoderTest, DecodesSeveralFramesFromOneChunk) {
  auto bytes = ping_frame(1, 10) + ping_frame(2, 20) + ping_frame(3, 30);
  frame_decoder d;
  d.append(bytes.data(), bytes.size());
  frame f;
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    ASSERT_EQ(d.next(f), frame_decoder::status::frame);
    EXPECT_EQ(f.seq, seq);
  }
  EXPECT_EQ(d.next(f), frame_decoder::status::need_more);
}

TEST(FrameDecoderTest, HelloWorldExampleFromTheSpecDecodes) {
  // docs/protocol.md, example 1: PING seq 0 with client_time_ms = 1.
  std::string bytes("\x10\x05\x00\x00\x02\x08\x01", 7);
  frame f;
  ASSERT_EQ(decode_single_frame(bytes.data(), bytes.size(), {}, f).code, protocol_errc::ok);
  EXPECT_EQ(f.type, v1::FRAME_TYPE_PING);
  EXPECT_EQ(ping_frame(0, 1), bytes);
}

TEST(FrameDecoderTest, LengthOverTheMaximumFailsBeforeThePayloadArrives) {
  std::string bytes("\x10\x05\x00\x00", 4);
  append_varint(1025, bytes);  // only the header: the payload never comes
  frame_decoder d{{/*max_frame_size=*/1024}};
  frame f;
  ASSERT_EQ(feed(d, bytes, f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::frame_too_large);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoderTest, HugeDeclaredLengthAllocatesNothing) {
  std::string bytes("\x10\x05\x00\x00", 4);
  append_varint(uint64_t{1} << 62, bytes);
  frame_decoder d;
  frame f;
  EXPECT_EQ(feed(d, bytes, f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::frame_too_large);
}

TEST(FrameDecoderTest, WrongVersionIsMalformed) {
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, std::string("\x20", 1), f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, ReservedFlagBitsAreMalformed) {
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, std::string("\x14\x05\x00\x00\x00", 5), f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, UnknownTypeIsRefused) {
  for (char type : {'\x00', '\x0a', '\xc8'}) {
    frame_decoder d;
    frame f;
    ASSERT_EQ(feed(d, std::string{'\x10', type}, f), frame_decoder::status::error);
    EXPECT_EQ(d.error().code, protocol_errc::unknown_frame_type);
  }
}

TEST(FrameDecoderTest, BadSequenceVarintIsMalformed) {
  std::string bytes("\x10\x05\x00", 3);
  bytes.append(11, '\x80');
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, bytes, f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, BadLengthVarintIsMalformed) {
  std::string bytes("\x10\x05\x00\x00", 4);
  bytes.append(9, '\xff');
  bytes.push_back('\x7f');
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, bytes, f), frame_decoder::status::error);
  EXPECT_EQ(d.error().code, protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, TruncatedStreamIsReportedOnFinish) {
  auto bytes = ping_frame(1, 99);
  bytes.pop_back();
  frame_decoder d;
  frame f;
  EXPECT_EQ(feed(d, bytes, f), frame_decoder::status::need_more);
  EXPECT_EQ(d.finish().code, protocol_errc::malformed_frame);
  EXPECT_EQ(decode_single_frame(bytes.data(), bytes.size(), {}, f).code,
            protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, DecodeSingleFrameRefusesEmptyInput) {
  frame f;
  EXPECT_EQ(decode_single_frame("", 0, {}, f).code, protocol_errc::malformed_frame);
}

TEST(FrameDecoderTest, ZstdSkippableFrameIsRefused) {
  std::string skippable("\x50\x2a\x4d\x18\x00\x00\x00\x00", 8);
  std::string out;
  append_frame(v1::FRAME_TYPE_PING, flag_compressed, 0, 0, skippable, out);
  frame f;
  EXPECT_EQ(decode_single_frame(out.data(), out.size(), {}, f).code,
            protocol_errc::bad_compression);
}

TEST(FrameDecoderTest, CompressedFramesRoundTrip) {
  v1::Pong pong;
  frame_encoder enc{{/*compression_threshold=*/16}};
  std::string out;
  std::string big(5000, 'x');
  enc.encode_payload(v1::FRAME_TYPE_PONG, 0, 5, flag_ack_requested, big, out);
  ASSERT_LT(out.size(), big.size());
  EXPECT_NE(out[0] & flag_compressed, 0);
  frame f;
  ASSERT_EQ(decode_single_frame(out.data(), out.size(), {}, f).code, protocol_errc::ok);
  EXPECT_EQ(f.payload, big);
  EXPECT_TRUE(f.ack_requested());
}

TEST(FrameDecoderTest, CorruptZstdIsBadCompression) {
  std::string out;
  append_frame(v1::FRAME_TYPE_PING, flag_compressed, 0, 0, "not zstd at all", out);
  frame f;
  EXPECT_EQ(decode_single_frame(out.data(), out.size(), {}, f).code,
            protocol_errc::bad_compression);
}

TEST(FrameDecoderTest, ZstdBombOverTheMaximumIsRefusedUnopened) {
  std::string zeros(size_t{4} << 20, '\0');
  std::string compressed;
  zstd_compress(zeros, 1, nullptr, compressed);
  ASSERT_LT(compressed.size(), 1024u);
  std::string out;
  append_frame(v1::FRAME_TYPE_PING, flag_compressed, 0, 0, compressed, out);
  frame f;
  EXPECT_EQ(decode_single_frame(out.data(), out.size(), {/*max_frame_size=*/65536}, f).code,
            protocol_errc::frame_too_large);
  EXPECT_TRUE(f.payload.empty());
}

TEST(FrameDecoderTest, ZstdWithoutContentSizeIsRefused) {
  // A streaming-mode frame has no content size in its header.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string src(100, 'a');
  std::string dst(ZSTD_compressBound(src.size()) + 64, '\0');
  ZSTD_outBuffer ob{dst.data(), dst.size(), 0};
  ZSTD_inBuffer ib{src.data(), src.size(), 0};
  ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_continue);
  ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  dst.resize(ob.pos);
  std::string out;
  append_frame(v1::FRAME_TYPE_PING, flag_compressed, 0, 0, dst, out);
  frame f;
  EXPECT_EQ(decode_single_frame(out.data(), out.size(), {}, f).code,
            protocol_errc::bad_compression);
}

TEST(FrameDecoderTest, IdleDecoderReleasesALargeBuffer) {
  std::string big(100000, 'y');
  std::string out;
  append_frame(v1::FRAME_TYPE_PING, 0, 0, 0, big, out);
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, out, f), frame_decoder::status::frame);
  EXPECT_EQ(d.next(f), frame_decoder::status::need_more);
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoderTest, ErrorIsSticky) {
  frame_decoder d;
  frame f;
  ASSERT_EQ(feed(d, std::string("\x10\xff", 2), f), frame_decoder::status::error);
  auto good = ping_frame(1, 1);
  EXPECT_EQ(feed(d, good, f), frame_decoder::status::error);
}

}  // namespace
}  // namespace tidegate::protocol
