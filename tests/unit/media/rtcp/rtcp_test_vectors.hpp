// Annotated RTCP wire vectors shared by the media/rtcp tests. Each octet group is commented with
// the field it encodes; lengths follow RFC 3550 §6.4.1 (32-bit words minus one).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace chorus::media::rtcp::test {

// SR with one report block (RFC 3550 §6.4.1), 52 octets.
inline constexpr std::array<std::uint8_t, 52> kSenderReport = {
    0x81, 0xC8, 0x00, 0x0C,  // V=2 P=0 RC=1, PT=200 (SR), length=12
    0x12, 0x34, 0x56, 0x78,  // SSRC of sender
    0xE8, 0x8F, 0x1A, 0x20,  // NTP timestamp, most significant word
    0x80, 0x00, 0x00, 0x00,  // NTP timestamp, least significant word (0.5 s)
    0x00, 0x01, 0xE2, 0x40,  // RTP timestamp 123456
    0x00, 0x00, 0x03, 0xE8,  // sender's packet count 1000
    0x00, 0x02, 0x71, 0x00,  // sender's octet count 160000
    0xAA, 0xBB, 0xCC, 0xDD,  // report block: SSRC_1
    0x40,                    // fraction lost 64/256
    0xFF, 0xFF, 0xFE,        // cumulative lost -2 (24-bit two's complement)
    0x00, 0x01, 0x03, 0xE8,  // extended highest sequence: 1 cycle, seq 1000
    0x00, 0x00, 0x00, 0x50,  // interarrival jitter 80
    0x1A, 0x20, 0x80, 0x00,  // LSR
    0x00, 0x01, 0x80, 0x00,  // DLSR 1.5 s
};

// RR with one report block (RFC 3550 §6.4.2), 32 octets.
inline constexpr std::array<std::uint8_t, 32> kReceiverReport = {
    0x81, 0xC9, 0x00, 0x07,  // V=2 P=0 RC=1, PT=201 (RR), length=7
    0x11, 0x11, 0x11, 0x11,  // SSRC of packet sender
    0x22, 0x22, 0x22, 0x22,  // report block: SSRC_1
    0x00,                    // fraction lost 0
    0x00, 0x00, 0x05,        // cumulative lost 5
    0x00, 0x00, 0x12, 0x34,  // extended highest sequence 0x1234
    0x00, 0x00, 0x00, 0x10,  // interarrival jitter 16
    0x00, 0x00, 0x00, 0x00,  // LSR 0: no SR received yet
    0x00, 0x00, 0x00, 0x00,  // DLSR 0
};

// SDES with one chunk carrying a CNAME (RFC 3550 §6.5.1), 24 octets.
inline constexpr std::array<std::uint8_t, 24> kSdesCname = {
    0x81, 0xCA, 0x00, 0x05,                                          // V=2 P=0 SC=1, PT=202 (SDES), length=5
    0x12, 0x34, 0x56, 0x78,                                          // chunk 1: SSRC
    0x01, 0x0C,                                                      // item CNAME, length 12
    'u',  's',  'e',  'r',  '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e',  // "user@example"
    0x00, 0x00,                                                      // end of item list, null padding to 32 bits
};

// BYE with one SSRC and a reason (RFC 3550 §6.6), 20 octets.
inline constexpr std::array<std::uint8_t, 20> kByeWithReason = {
    0x81, 0xCB, 0x00, 0x04,                      // V=2 P=0 SC=1, PT=203 (BYE), length=4
    0x12, 0x34, 0x56, 0x78,                      // SSRC
    0x08,                                        // reason length 8
    's',  'h',  'u',  't',  'd', 'o', 'w', 'n',  // "shutdown"
    0x00, 0x00, 0x00,                            // null padding to 32 bits
};

// APP (RFC 3550 §6.7), 16 octets.
inline constexpr std::array<std::uint8_t, 16> kApp = {
    0x85, 0xCC, 0x00, 0x03,  // V=2 P=0 subtype=5, PT=204 (APP), length=3
    0x12, 0x34, 0x56, 0x78,  // SSRC
    'C',  'H',  'R',  'S',   // name
    0xDE, 0xAD, 0xBE, 0xEF,  // application-dependent data
};

// Generic NACK (RFC 4585 §6.2.1) with two FCI entries, 20 octets. Lost: 100, 101, 103, 116, 200.
inline constexpr std::array<std::uint8_t, 20> kGenericNack = {
    0x81, 0xCD, 0x00, 0x04,  // V=2 P=0 FMT=1, PT=205 (RTPFB), length=4
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x02,  // SSRC of media source
    0x00, 0x64,              // PID 100
    0x80, 0x05,              // BLP bits 0, 2, 15: 101, 103, 116
    0x00, 0xC8,              // PID 200
    0x00, 0x00,              // BLP: none
};

// PLI (RFC 4585 §6.3.1), 12 octets.
inline constexpr std::array<std::uint8_t, 12> kPli = {
    0x81, 0xCE, 0x00, 0x02,  // V=2 P=0 FMT=1, PT=206 (PSFB), length=2
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x02,  // SSRC of media source
};

// FIR (RFC 5104 §4.3.1) with one entry, 20 octets.
inline constexpr std::array<std::uint8_t, 20> kFir = {
    0x84, 0xCE, 0x00, 0x04,  // V=2 P=0 FMT=4, PT=206 (PSFB), length=4
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  // SSRC of media source: unused, 0
    0xAA, 0xBB, 0xCC, 0xDD,  // FCI: SSRC of the encoder
    0x07,                    // command sequence number 7
    0x00, 0x00, 0x00,        // reserved
};

// REMB (draft-alvestrand-rmcat-remb-03 §2.2) for two SSRCs at 1 Mbit/s, 28 octets.
inline constexpr std::array<std::uint8_t, 28> kRemb = {
    0x8F, 0xCE, 0x00, 0x06,  // V=2 P=0 FMT=15, PT=206 (PSFB), length=6
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  // SSRC of media source: 0
    'R',  'E',  'M',  'B',   // unique identifier
    0x02,                    // Num SSRC 2
    0x0B, 0xD0, 0x90,        // BR Exp 2 (6 bits), BR Mantissa 250000 (18 bits): 1000000 bit/s
    0x11, 0x11, 0x11, 0x11,  // SSRC feedback 1
    0x22, 0x22, 0x22, 0x22,  // SSRC feedback 2
};

// TMMBR (RFC 5104 §4.2.1) with one entry: 256000 bit/s, overhead 40, 20 octets.
inline constexpr std::array<std::uint8_t, 20> kTmmbr = {
    0x83, 0xCD, 0x00, 0x04,  // V=2 P=0 FMT=3, PT=205 (RTPFB), length=4
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x00,  // SSRC of media source: unused, 0
    0xAA, 0xBB, 0xCC, 0xDD,  // FCI: SSRC
    0x07, 0xE8, 0x00, 0x28,  // MxTBR Exp 1 (6), Mantissa 128000 (17), Measured Overhead 40 (9)
};

// Transport-cc (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), 36 octets: nine
// packets from 1000, a run-length chunk and a two-bit status vector chunk.
inline constexpr std::array<std::uint8_t, 36> kTransportCc = {
    0x8F, 0xCD, 0x00, 0x08,  // V=2 P=0 FMT=15, PT=205 (RTPFB), length=8
    0x00, 0x00, 0x00, 0x01,  // SSRC of packet sender
    0x00, 0x00, 0x00, 0x02,  // SSRC of media source
    0x03, 0xE8,              // base sequence number 1000
    0x00, 0x09,              // packet status count 9
    0x00, 0x01, 0x02,        // reference time 258 (x 64 ms)
    0x03,                    // feedback packet count 3
    0x20, 0x05,              // run-length chunk: T=0, S=01 (small delta), run 5: 1000..1004
    0xC9, 0x40,              // status vector: T=1 S=1 (2-bit): 00 10 01 01 00 00 00: 1005..1008 + 3 unused
    0x04,                    // 1000: small delta 4 (1 ms)
    0x08,                    // 1001: small delta 8 (2 ms)
    0x00,                    // 1002: small delta 0
    0xFF,                    // 1003: small delta 255 (63.75 ms)
    0x01,                    // 1004: small delta 1 (250 us)
    0xFF, 0xFC,              // 1006: large delta -4 (-1 ms); 1005 was not received
    0x02,                    // 1007: small delta 2 (500 us)
    0x28,                    // 1008: small delta 40 (10 ms)
    0x00, 0x00, 0x00,        // zero padding to 32 bits
};

// An exact-size heap copy, so AddressSanitizer reports any read past the end.
inline std::vector<std::uint8_t> heap_copy(std::span<const std::uint8_t> bytes) {
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end());
}

inline std::vector<std::uint8_t> concat(std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

}  // namespace chorus::media::rtcp::test
