// Base64 (RFC 4648, standard alphabet, with padding): how BLOB values travel
// as {"$blob": "<base64>"} (docs/protocol.md, "Values").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace litepool::wire {

// Appends the base64 of `bytes` to *out.
void Base64Encode(std::string_view bytes, std::string* out);

// Replaces *out with the bytes `text` encodes. False (and *out unspecified)
// unless `text` is padded base64 of the standard alphabet: a length that is
// a multiple of 4, padding only at the end. Two outputs for the daemon's
// strings and the client's byte vectors; one decoder behind them.
bool Base64Decode(std::string_view text, std::string* out);
bool Base64Decode(std::string_view text, std::vector<uint8_t>* out);

}  // namespace litepool::wire
