#include "conference/trunks/number_normalization.hpp"

#include <algorithm>

namespace chorus::conference {
namespace {

// RFC 3966 §5.1.1 visual-separator (without the '/'-less subset's rarer forms).
bool is_separator(char c) {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::expected<std::string, NumberError> global(std::string_view digits) {
  if (digits.empty()) return std::unexpected(NumberError::kEmpty);
  if (digits.size() > kMaxE164Digits) return std::unexpected(NumberError::kTooLong);
  return "+" + std::string(digits);
}

}  // namespace

std::string_view to_string(NumberError error) {
  switch (error) {
    case NumberError::kEmpty:
      return "no digits";
    case NumberError::kTooLong:
      return "too long for an E.164 number";
    case NumberError::kInvalidCharacter:
      return "not a telephone number (digits, a leading '+', separators)";
    case NumberError::kNoCountryCode:
      return "a national number, and the trunk has no country code";
  }
  return "invalid number";
}

bool looks_like_number(std::string_view text) {
  if (text.empty() || text.size() > kMaxNumberInput) return false;
  if (text.front() != '+' && !is_digit(text.front())) return false;
  return std::ranges::all_of(text.substr(1), [](char c) { return is_digit(c) || is_separator(c); });
}

std::expected<std::string, NumberError> normalize_number(std::string_view input, const TrunkNumbering& numbering) {
  if (input.size() > kMaxNumberInput) return std::unexpected(NumberError::kTooLong);
  const bool plus = !input.empty() && input.front() == '+';
  std::string digits;
  for (char c : plus ? input.substr(1) : input) {
    if (is_digit(c)) {
      digits.push_back(c);
    } else if (!is_separator(c)) {
      return std::unexpected(NumberError::kInvalidCharacter);
    }
  }
  if (digits.empty()) return std::unexpected(NumberError::kEmpty);
  if (plus) return global(digits);
  const std::string_view view = digits;
  // "00" before "0": the international prefix usually starts with the national one.
  if (!numbering.international_prefix.empty() && view.starts_with(numbering.international_prefix)) {
    return global(view.substr(numbering.international_prefix.size()));
  }
  if (!numbering.national_prefix.empty() && view.starts_with(numbering.national_prefix) &&
      view.size() > numbering.national_prefix.size()) {
    if (numbering.country_code.empty()) return std::unexpected(NumberError::kNoCountryCode);
    return global(numbering.country_code + std::string(view.substr(numbering.national_prefix.size())));
  }
  if (digits.size() > kMaxE164Digits) return std::unexpected(NumberError::kTooLong);
  return digits;
}

}  // namespace chorus::conference
