// libFuzzer target for dispatch answers as a client receives them (parse_dispatch_answer,
// check_dispatch).
//
// The input is parsed as an answer's JSON. A parsed answer must render and parse back to the
// same fields, must not pass the check unless signed with the key, and must pass it once
// signed (when it names an address and has not expired). Bad input itself must never crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/dispatch_answer.h"

namespace tidegate::protocol {
namespace {

constexpr std::string_view key = "fuzz-dispatch-key-0123";

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "dispatch_answer_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

bool same_fields(const dispatch_answer& a, const dispatch_answer& b) {
  return a.app == b.app && a.owner == b.owner && a.zone == b.zone && a.addresses == b.addresses
         && a.ttl_s == b.ttl_s && a.expires_at_s == b.expires_at_s && a.hints.tls == b.hints.tls
         && a.hints.zstd == b.hints.zstd && a.hints.heartbeat_ms == b.hints.heartbeat_ms
         && a.signature == b.signature;
}

void fuzz(std::string_view text) {
  std::string error;
  auto answer = parse_dispatch_answer(text, error);
  if (!answer) {
    check(!error.empty(), "a refused answer without an error");
    return;
  }
  auto again = parse_dispatch_answer(render_dispatch_json(*answer), error);
  check(again && same_fields(*answer, *again), "render and parse changed the answer");
  auto status = check_dispatch(*answer, key, answer->app, answer->owner, 0);
  auto signed_answer = *answer;
  sign_dispatch(signed_answer, key);
  if (signed_answer.signature != answer->signature) {
    check(status == dispatch_status::bad_signature, "an unsigned answer passed the check");
  }
  auto expected = signed_answer.addresses.empty()   ? dispatch_status::no_address
                  : signed_answer.expires_at_s == 0 ? dispatch_status::expired
                                                    : dispatch_status::ok;
  check(check_dispatch(signed_answer, key, signed_answer.app, signed_answer.owner, 0) == expected,
        "a signed answer did not check as expected");
  check(check_dispatch(signed_answer, "another-key-0123456789", signed_answer.app,
                       signed_answer.owner, 0)
            == dispatch_status::bad_signature,
        "another key accepted the answer");
}

}  // namespace
}  // namespace tidegate::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tidegate::protocol::fuzz(std::string_view{reinterpret_cast<const char*>(data), size});
  return 0;
}
