// openssl_error: the oldest queued OpenSSL error as text after a caller's own words, with the
// thread's error queue cleared so a stale entry never explains a later failure.
// Threading: OpenSSL's error queue is per thread; safe from any thread.
#pragma once

#include <openssl/err.h>

#include <string>
#include <string_view>

namespace chorus::media::dtls {

inline std::string openssl_error(std::string_view what) {
  std::string text(what);
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += ": ";
    text += buffer;
  }
  ERR_clear_error();
  return text;
}

}  // namespace chorus::media::dtls
