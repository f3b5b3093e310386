#include "bench/load/mmtp_fanout_codec.h"

#include <utility>

#include "bench/fanout/fanout_payload.h"
#include "protocol/frame_decoder.h"
#include "protocol/frame_encoder.h"
#include "tidegate/v1/control.pb.h"
#include "tidegate/v1/handshake.pb.h"
#include "tidegate/v1/sync.pb.h"

namespace tidegate::bench {
namespace {

class mmtp_fanout_codec final : public fanout_codec {
 public:
  mmtp_fanout_codec(std::string app_id, std::string device, std::string token, std::string topic)
      : app_id_(std::move(app_id)),
        device_(std::move(device)),
        token_(std::move(token)),
        topic_(std::move(topic)) {}

  void append_handshake(std::string& out) override {
    v1::Hello hello;
    hello.set_protocol_version(1);
    hello.set_device_id(device_);
    hello.set_app_id(app_id_);
    hello.set_heartbeat_interval_ms(600'000);
    hello.set_app_state(v1::APP_STATE_FOREGROUND);
    encoder_.encode(v1::FRAME_TYPE_HELLO, v1::CHANNEL_CONTROL, 0, 0, hello, out);
    v1::Auth auth;
    auth.set_token(token_);
    encoder_.encode(v1::FRAME_TYPE_AUTH, v1::CHANNEL_CONTROL, 0, 0, auth, out);
    v1::SyncRequest sync;
    sync.set_reason(v1::SYNC_REASON_CONNECT);
    encoder_.encode(v1::FRAME_TYPE_SYNC_REQ, v1::CHANNEL_CONTROL, 0, 0, sync, out);
  }

  void append_publisher_handshake(std::string&) override {}
  void append_publish(std::string&, uint64_t, std::string_view) override {}
  bool answers_publishes() const override { return false; }

  bool consume(std::string_view bytes, fanout_sink& sink, std::string& out) override {
    if (!error_.empty()) {
      return false;
    }
    decoder_.append(bytes.data(), bytes.size());
    protocol::frame f;
    uint64_t ack = 0;
    for (;;) {
      auto status = decoder_.next(f);
      if (status == protocol::frame_decoder::status::need_more) {
        break;
      }
      if (status == protocol::frame_decoder::status::error) {
        error_ = "MMTP: " + decoder_.error().reason;
        return false;
      }
      if (f.ack_requested()) {
        ack = f.seq;
      }
      if (!handle(f, sink)) {
        return false;
      }
    }
    // Cumulative acks every ack_every frames, as the SDK's default (connection_config::
    // ack_every); the handshake's frames at once, so the session is ready.
    if (ack != 0 && (ack - acked_ >= ack_every || acked_ == 0)) {
      v1::Ack a;
      a.set_seq(ack);
      encoder_.encode(v1::FRAME_TYPE_ACK, v1::CHANNEL_CONTROL, 0, 0, a, out);
      acked_ = ack;
    }
    return true;
  }

  const std::string& error() const override { return error_; }

 private:
  bool handle(const protocol::frame& f, fanout_sink& sink) {
    switch (f.type) {
      case v1::FRAME_TYPE_AUTH_OK:
        sink.on_ready();
        return true;
      case v1::FRAME_TYPE_ERROR: {
        v1::Error e;
        e.ParseFromString(f.payload);
        error_ = "MMTP ERROR " + std::to_string(e.code()) + ": " + e.reason();
        return false;
      }
      case v1::FRAME_TYPE_SYNC_DATA: {
        if (!data_.ParseFromString(f.payload)) {
          error_ = "MMTP: unparsable SYNC_DATA";
          return false;
        }
        if (data_.topic() != topic_) {
          return true;
        }
        for (const auto& op : data_.ops()) {
          uint64_t seq = 0;
          if (!op.skipped() && read_fanout_seq(op.payload(), seq)) {
            sink.on_message(seq);
          }
        }
        return true;
      }
      default:
        return true;  // WELCOME, PONG, notices
    }
  }

  std::string app_id_;
  std::string device_;
  std::string token_;
  std::string topic_;
  protocol::frame_decoder decoder_{protocol::decoder_limits{size_t{1} << 20}};
  protocol::frame_encoder encoder_{protocol::encoder_options{size_t{1} << 30}};  // no compression
  static constexpr uint64_t ack_every = 16;
  uint64_t acked_ = 0;  // the last seq acked
  v1::SyncData data_;   // reused: its buffers stay allocated
  std::string error_;
};

}  // namespace

std::unique_ptr<fanout_codec> make_mmtp_fanout_codec(std::string app_id, std::string device,
                                                     std::string token, std::string topic) {
  return std::make_unique<mmtp_fanout_codec>(std::move(app_id), std::move(device), std::move(token),
                                             std::move(topic));
}

}  // namespace tidegate::bench
