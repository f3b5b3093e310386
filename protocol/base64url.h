#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tidegate::protocol {

/// RFC 4648 §5 base64url without padding.
std::string base64url_encode(std::string_view bytes);

/// Decodes unpadded base64url; nullopt on any other character or an impossible length.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace tidegate::protocol
