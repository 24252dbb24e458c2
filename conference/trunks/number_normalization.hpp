// Number normalisation for trunks: what a provider or PBX writes ("030 123456", "0049…", "+49…")
// becomes one E.164 form ("+4930123456", ITU-T E.164 §6; RFC 3966 §5.1.4's global number), so a
// called number matches a room's dial_in_number however either is written.
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

#include "conference/trunks/trunk.hpp"

namespace chorus::conference {

// ITU-T E.164 §6: at most 15 digits after the '+'. Input longer than kMaxNumberInput is refused
// before it is looked at (it comes from a SIP header).
inline constexpr std::size_t kMaxE164Digits = 15;
inline constexpr std::size_t kMaxNumberInput = 64;

enum class NumberError {
  kEmpty,             // nothing but separators
  kTooLong,           // more than kMaxNumberInput characters, or more than 15 digits
  kInvalidCharacter,  // not a digit, a leading '+' or a visual separator
  kNoCountryCode,     // a national number (national prefix) on a trunk without a country code
};

std::string_view to_string(NumberError error);

// '+' and digits: "+<digits>"; the international prefix then digits: "+<digits>"; the national
// prefix then digits: "+<country code><digits>". Anything else made only of digits (short codes
// such as "112", extensions, room numbers like "1000") is returned as its digits: no country can
// be assumed for it. Visual separators (RFC 3966 §5.1.1: space, '-', '.', '(', ')') are dropped.
// The international prefix is tried before the national one ("00" before "0").
std::expected<std::string, NumberError> normalize_number(std::string_view input, const TrunkNumbering& numbering);

// True when `text` is a number normalize_number may take (a digit or '+' first, then only digits
// and separators): the test for "the Request-URI user is a number".
bool looks_like_number(std::string_view text);

}  // namespace chorus::conference
