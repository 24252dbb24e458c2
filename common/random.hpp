// Fast non-cryptographic randomness for protocol identifiers: SIP tags, branches, Call-IDs
// (RFC 3261 §19.3 asks for global uniqueness, not secrecy) and SDP session ids.
// std::random_device costs a system call per draw; this is a per-thread xoshiro256** seeded once.
// Threading: each thread has its own generator.
#pragma once

#include <cstdint>
#include <string>

namespace chorus {

std::uint64_t random_u64();
// `length` characters of [A-Za-z0-9], each equally likely.
std::string random_alphanumeric(std::size_t length);

}  // namespace chorus
