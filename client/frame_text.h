#pragma once

#include <string>

#include "protocol/frame.h"

namespace tidegate::client {

/// One line for logs and `tidegate client`: type, seq, flags, channel and the payload's
/// ShortDebugString() (or its size for types without a message here).
std::string describe_frame(const protocol::frame& frame);

}  // namespace tidegate::client
