#include "protocol/zstd_codec.h"

#include <vector>

#include <gtest/gtest.h>
#include <zdict.h>

namespace tidegate::protocol {
namespace {

std::shared_ptr<const zstd_dictionary> trained_dictionary() {
  std::string samples;
  std::vector<size_t> sizes;
  for (int i = 0; i < 2000; ++i) {
    std::string s = R"({"type":"order","status":"paid","merchant":"m)" + std::to_string(i % 50)
                    + R"(","amount":)" + std::to_string(i * 7) + "}";
    samples += s;
    sizes.push_back(s.size());
  }
  std::string dict(4096, '\0');
  size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(), sizes.data(),
                                   static_cast<unsigned>(sizes.size()));
  EXPECT_FALSE(ZDICT_isError(n)) << ZDICT_getErrorName(n);
  dict.resize(n);
  std::string error;
  auto loaded = zstd_dictionary::load(dict, 3, error);
  EXPECT_TRUE(loaded) << error;
  return loaded;
}

TEST(ZstdCodecTest, RoundTripWithoutDictionary) {
  std::string src(3000, 'q');
  std::string packed;
  zstd_compress(src, 1, nullptr, packed);
  std::string out;
  ASSERT_EQ(zstd_decompress(packed, 1 << 20, nullptr, out).code, protocol_errc::ok);
  EXPECT_EQ(out, src);
}

TEST(ZstdCodecTest, DictionaryRoundTripAndUnknownDictionaryIsRefused) {
  auto dict = trained_dictionary();
  ASSERT_TRUE(dict);
  std::string src = R"({"type":"order","status":"paid","merchant":"m7","amount":4242})";
  std::string packed;
  zstd_compress(src, 3, dict.get(), packed);
  std::string out;
  ASSERT_EQ(zstd_decompress(packed, 1 << 20, dict.get(), out).code, protocol_errc::ok);
  EXPECT_EQ(out, src);
  EXPECT_EQ(zstd_decompress(packed, 1 << 20, nullptr, out).code, protocol_errc::bad_compression);
}

TEST(ZstdCodecTest, NotADictionaryIsAnError) {
  std::string error;
  EXPECT_FALSE(zstd_dictionary::load("plain bytes", 3, error));
  EXPECT_FALSE(error.empty());
}

TEST(ZstdCodecTest, TrailingBytesAreRefused) {
  std::string packed;
  zstd_compress("hello hello hello", 1, nullptr, packed);
  packed += "junk";
  std::string out;
  EXPECT_EQ(zstd_decompress(packed, 1 << 20, nullptr, out).code, protocol_errc::bad_compression);
}

}  // namespace
}  // namespace tidegate::protocol
