#include "bench/peers/redis_publisher.h"

#include <string>

#include "bench/peers/resp_protocol.h"

namespace tidegate::bench {
namespace {

class redis_codec final : public pipeline_codec {
 public:
  redis_codec(uint32_t index, const publish_shape& shape)
      : index_(index), owners_(shape.owners), payload_(shape.payload_bytes, 'x') {}

  void append_publish(std::string& out, uint64_t seq) override {
    key_ = "bench:u";
    key_ += std::to_string(owner_of(index_, seq, owners_));
    append_resp_command(out, {"XADD", key_, "*", "p", payload_});
  }

  bool consume(std::string_view bytes, pipeline_tally& tally, std::string& /*out*/) override {
    parser_.feed(bytes);
    resp_value v;
    for (;;) {
      auto r = parser_.next(v);
      if (r == resp_parse::need_more) {
        return true;
      }
      if (r == resp_parse::malformed) {
        tally.first_error = parser_.error();
        return false;
      }
      if (v.type == resp_type::bulk) {
        ++tally.acked;
        continue;
      }
      ++tally.failed;
      if (tally.first_error.empty()) {
        tally.first_error = v.type == resp_type::error ? v.text : "XADD answered no entry id";
      }
    }
  }

 private:
  uint32_t index_;
  uint32_t owners_;
  std::string payload_;
  std::string key_;  // reused per publish
  resp_parser parser_;
};

}  // namespace

std::unique_ptr<pipeline_codec> make_redis_codec(uint32_t index, const publish_shape& shape) {
  return std::make_unique<redis_codec>(index, shape);
}

}  // namespace tidegate::bench
