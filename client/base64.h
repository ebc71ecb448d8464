// Standard base64 (RFC 4648, with padding) for BLOB values on the wire.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace litepool::client::internal {

std::string Base64Encode(const std::vector<uint8_t>& bytes);

// nullopt if `text` is not padded base64 of the standard alphabet.
std::optional<std::vector<uint8_t>> Base64Decode(std::string_view text);

}  // namespace litepool::client::internal
