#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/oplog_record.h"

namespace tidegate::actors {

/// What the server knows of a client when it decides whether an op is for it: the HELLO's
/// `os` and app version, and the authenticated user id.
struct client_facts {
  std::string os;           ///< e.g. "ios"; empty if the client did not say.
  std::string app_version;  ///< Dotted, e.g. "5.10.2"; empty if unknown.
  std::string user_id;
};

/// The app version in a HELLO's free-text `client_version`: the text after the last '/'
/// ("ios/5.2.1" -> "5.2.1"), or all of it when it has none. Pure.
std::string_view app_version_of(std::string_view client_version);

/// Compares dotted versions part by part: -1, 0 or 1 for a < b, a == b, a > b. Parts that are
/// both decimal compare as numbers ("5.10" > "5.9", "05" == "5"), others as text; a missing
/// part counts as "0" ("5.9" == "5.9.0"). Pure; any input is fine.
int compare_versions(std::string_view a, std::string_view b);

/// True if an op with `filters` may reach the client `facts` at `now_ms` (Unix ms), DESIGN §5
/// `global` bucket. An empty or zero field does not filter. `os` matches case-insensitively;
/// a client that did not say its OS (or version) fails an `os` (or version) filter. The uid
/// range applies when the user id is a decimal number (uid_max 0: no upper bound); `uids` is
/// membership by string. The valid window is inclusive at both ends. Pure.
bool op_matches(const storage::op_filters& filters, const client_facts& facts, uint64_t now_ms);

/// True if `record` is for the client `facts` at `now_ms`: not expired (`expires_at_ms` 0 or
/// later than now) and its filters, if any, match. Others are sent as skipped ops. Pure.
bool op_deliverable(const storage::oplog_record& record, const client_facts& facts,
                    uint64_t now_ms);

}  // namespace tidegate::actors
