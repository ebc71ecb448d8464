// Base64 (RFC 4648, with padding) for BLOB values on the wire.
#pragma once

#include <string>
#include <string_view>

namespace litepool::server {

void Base64Encode(std::string_view bytes, std::string* out);  // appends
bool Base64Decode(std::string_view text, std::string* out);   // false: not base64

}  // namespace litepool::server
