// Unpredictable randomness for every identifier a stranger could exploit by guessing it: SIP tags
// (RFC 3261 §19.3: "MUST be ... cryptographically random with at least 32 bits of randomness"),
// branches (§8.1.1.7) and Call-IDs (§8.1.1.4: cryptographically random RECOMMENDED), SDP session
// ids, RTP SSRCs and initial sequence numbers/timestamps (RFC 3550 §5.1, §8: random, so they are
// not guessable by an off-path attacker), CNAMEs and meeting/participant ids.
//
// Source: the kernel CSPRNG (getrandom(2), /dev/urandom if the system call is missing), read in
// 4 KiB blocks into a per-thread buffer, so a draw is a copy out of memory and a syscall happens
// once per 512 u64 draws. A byte handed out is wiped from the buffer (a later memory disclosure
// does not reveal past draws). After fork() the child discards what it inherited (pthread_atfork),
// so parent and child never hand out the same values. There is deliberately no fast
// non-cryptographic generator any more: every former caller of the xoshiro one either needs
// unpredictability or draws rarely enough (once per call, stream or RTCP report) that ~10 ns is
// nothing; a packet-path caller that needs millions of draws a second should keep its own PRNG.
//
// Threading: safe from any thread, lock-free; each thread has its own buffer. Never throws: if
// the kernel gives no randomness at all (no getrandom and no /dev/urandom) the process aborts
// with a message, since every identifier it made from then on would be guessable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace chorus {

// 64 bits from the CSPRNG.
std::uint64_t random_u64();
// A uniform draw from [0, bound) (rejection-sampled, no modulo bias); 0 when bound is 0.
std::uint64_t random_below(std::uint64_t bound);
// Fills `out` from the CSPRNG (any size; large requests bypass the buffer).
void random_bytes(std::span<std::uint8_t> out);
// `length` characters of [A-Za-z0-9], each equally likely (about 5.95 bits each).
std::string random_alphanumeric(std::size_t length);

}  // namespace chorus
