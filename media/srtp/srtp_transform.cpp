#include "media/srtp/srtp_transform.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "media/srtp/srtp_session.hpp"

namespace chorus::media {

namespace {

constexpr std::size_t kCmSaltLength = 14;   // RFC 3711 §4.3.1: 112-bit session salt
constexpr std::size_t kGcmSaltLength = 12;  // RFC 7714 §12: 96-bit
constexpr std::size_t kAuthKeyLength = 20;  // RFC 3711 §4.2.1: 160-bit HMAC-SHA1 key
constexpr std::size_t kGcmTagLength = 16;
constexpr std::size_t kSrtcpIndexLength = 4;            // E flag and 31-bit index (RFC 3711 §3.4)
constexpr std::uint32_t kSrtcpEncrypted = 0x80000000U;  // the E flag
constexpr std::uint64_t kMaxSrtcpIndex = 0x7fffffffU;
constexpr std::uint64_t kSequenceMedian = 1U << 15;  // RFC 3711 Appendix A
constexpr std::size_t kWindowWords = kSrtpReplayWindow / 64;
static_assert(kSrtpReplayWindow % 64 == 0);

// RFC 3711 §4.3.1 labels.
enum Label : std::uint8_t {
  kRtpEncryption = 0,
  kRtpAuthentication = 1,
  kRtpSalt = 2,
  kRtcpEncryption = 3,
  kRtcpAuthentication = 4,
  kRtcpSalt = 5
};

struct CipherDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
struct MacDeleter {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
using Cipher = std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter>;
using Mac = std::unique_ptr<EVP_MAC_CTX, MacDeleter>;

bool is_gcm(SrtpSuite suite) {
  return suite == SrtpSuite::kAeadAes128Gcm || suite == SrtpSuite::kAeadAes256Gcm;
}

std::size_t master_key_length(SrtpSuite suite) {
  return suite == SrtpSuite::kAeadAes256Gcm ? 32 : 16;
}

const EVP_CIPHER* counter_mode(std::size_t key_length) {
  return key_length == 32 ? EVP_aes_256_ctr() : EVP_aes_128_ctr();
}

std::uint32_t read32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

void write32(std::uint8_t* p, std::uint32_t value) {
  p[0] = static_cast<std::uint8_t>(value >> 24);
  p[1] = static_cast<std::uint8_t>(value >> 16);
  p[2] = static_cast<std::uint8_t>(value >> 8);
  p[3] = static_cast<std::uint8_t>(value);
}

// RFC 3711 §4.3.1 with key derivation rate 0: x = key_id XOR master_salt, key_id = label || 0^48
// aligned right in 112 bits; the PRF is AES in counter mode from IV x * 2^16 over zeros.
bool derive(std::span<const std::uint8_t> master_key, std::span<const std::uint8_t> master_salt, Label label,
            std::span<std::uint8_t> out) {
  std::array<std::uint8_t, 16> iv{};
  std::copy(master_salt.begin(), master_salt.end(), iv.begin());  // a 96-bit salt is padded with zeros
  iv[7] ^= label;
  const Cipher context(EVP_CIPHER_CTX_new());
  std::fill(out.begin(), out.end(), 0);
  int written = 0;
  const bool ok =
      context &&
      EVP_EncryptInit_ex2(context.get(), counter_mode(master_key.size()), master_key.data(), iv.data(), nullptr) == 1 &&
      EVP_EncryptUpdate(context.get(), out.data(), &written, out.data(), static_cast<int>(out.size())) == 1;
  OPENSSL_cleanse(iv.data(), iv.size());
  return ok && static_cast<std::size_t>(written) == out.size();
}

EVP_MAC* hmac_algorithm() {
  static EVP_MAC* const algorithm = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // process lifetime
  return algorithm;
}

// The big-endian bytes of the RTP header the transforms read.
struct RtpFields {
  std::size_t header_length = 0;
  std::uint32_t ssrc = 0;
  std::uint16_t sequence = 0;
};

// RFC 3550 §5.1, §5.3.1: the fixed header, the CSRCs and a header extension; nullopt when they do
// not fit in `length`.
std::optional<RtpFields> rtp_fields(const std::uint8_t* p, std::size_t length) {
  if (length < kMinRtpLength) return std::nullopt;
  std::size_t header = kMinRtpLength + 4 * static_cast<std::size_t>(p[0] & 0x0f);
  if ((p[0] & 0x10) != 0) {
    if (header + 4 > length) return std::nullopt;
    header += 4 + 4 * ((static_cast<std::size_t>(p[header + 2]) << 8) | p[header + 3]);
  }
  if (header > length) return std::nullopt;
  return RtpFields{header, read32(p + 8), static_cast<std::uint16_t>((p[2] << 8) | p[3])};
}

}  // namespace

struct SrtpTransform::Keys {
  Cipher cipher;  // AES-CTR, or AES-GCM (RFC 7714), keyed with the session key
  Mac mac;        // HMAC-SHA1 keyed with the session auth key; none for GCM
  std::array<std::uint8_t, kCmSaltLength> salt{};
  std::size_t tag_length = 0;
};

struct SrtpTransform::Stream {
  std::uint32_t ssrc = 0;
  bool rtcp = false;
  bool started = false;
  std::uint64_t highest = 0;                         // RTP: ROC * 2^16 + SEQ (48 bits); SRTCP: the 31-bit index
  std::array<std::uint64_t, kWindowWords> window{};  // bit d: highest - d was accepted (inbound)
  std::uint64_t last_use = 0;
};

namespace {

using Keys = SrtpTransform::Keys;
using Stream = SrtpTransform::Stream;

std::unique_ptr<Keys> make_keys(SrtpSuite suite, std::span<const std::uint8_t> master_key,
                                std::span<const std::uint8_t> master_salt, bool rtcp, bool outbound) {
  const bool gcm = is_gcm(suite);
  auto keys = std::make_unique<Keys>();
  std::array<std::uint8_t, 32> session_key{};
  std::array<std::uint8_t, kAuthKeyLength> auth_key{};
  const auto key = std::span(session_key).first(master_key.size());
  const auto salt = std::span(keys->salt).first(gcm ? kGcmSaltLength : kCmSaltLength);
  bool ok = derive(master_key, master_salt, rtcp ? kRtcpEncryption : kRtpEncryption, key) &&
            derive(master_key, master_salt, rtcp ? kRtcpSalt : kRtpSalt, salt);
  keys->cipher.reset(EVP_CIPHER_CTX_new());
  ok = ok && keys->cipher != nullptr;
  if (gcm) {
    keys->tag_length = kGcmTagLength;
    const EVP_CIPHER* aead = master_key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
    ok = ok && (outbound ? EVP_EncryptInit_ex2(keys->cipher.get(), aead, key.data(), nullptr, nullptr)
                         : EVP_DecryptInit_ex2(keys->cipher.get(), aead, key.data(), nullptr, nullptr)) == 1;
  } else {
    // RFC 4568 §6.2.2: the _32 suite shortens the SRTP tag only; SRTCP keeps 80 bits.
    keys->tag_length = suite == SrtpSuite::kAesCm128HmacSha1_32 && !rtcp ? 4 : 10;
    ok = ok && EVP_EncryptInit_ex2(keys->cipher.get(), counter_mode(key.size()), key.data(), nullptr, nullptr) == 1;
    ok = ok && derive(master_key, master_salt, rtcp ? kRtcpAuthentication : kRtpAuthentication, auth_key);
    keys->mac.reset(hmac_algorithm() != nullptr ? EVP_MAC_CTX_new(hmac_algorithm()) : nullptr);
    std::array<char, 5> digest{'S', 'H', 'A', '1', '\0'};
    const std::array<OSSL_PARAM, 2> params{OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
                                           OSSL_PARAM_construct_end()};
    ok = ok && keys->mac != nullptr &&
         EVP_MAC_init(keys->mac.get(), auth_key.data(), auth_key.size(), params.data()) == 1;
  }
  OPENSSL_cleanse(session_key.data(), session_key.size());
  OPENSSL_cleanse(auth_key.data(), auth_key.size());
  return ok ? std::move(keys) : nullptr;
}

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i the 48-bit index.
std::array<std::uint8_t, 16> counter_iv(const Keys& keys, std::uint32_t ssrc, std::uint64_t index) {
  std::array<std::uint8_t, 16> iv{};
  std::copy_n(keys.salt.begin(), kCmSaltLength, iv.begin());
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<std::uint8_t>(index >> (40 - 8 * i));
  return iv;
}

// RFC 7714 §8.1 (SRTP: 00 00 || SSRC || ROC || SEQ) and §9.1 (SRTCP: 00 00 || SSRC || 00 00 ||
// 0 || index), each XOR the 96-bit session salt.
std::array<std::uint8_t, 12> gcm_iv(const Keys& keys, std::uint32_t ssrc, std::uint64_t index, bool rtcp) {
  std::array<std::uint8_t, 12> iv{};
  write32(iv.data() + 2, ssrc);
  if (rtcp) {
    write32(iv.data() + 8, static_cast<std::uint32_t>(index));
  } else {
    write32(iv.data() + 6, static_cast<std::uint32_t>(index >> 16));
    iv[10] = static_cast<std::uint8_t>(index >> 8);
    iv[11] = static_cast<std::uint8_t>(index);
  }
  for (std::size_t i = 0; i < iv.size(); ++i) iv[i] ^= keys.salt[i];
  return iv;
}

bool counter_crypt(const Keys& keys, const std::array<std::uint8_t, 16>& iv, std::uint8_t* data, std::size_t length) {
  int written = 0;
  return EVP_EncryptInit_ex2(keys.cipher.get(), nullptr, nullptr, iv.data(), nullptr) == 1 &&
         (length == 0 || EVP_EncryptUpdate(keys.cipher.get(), data, &written, data, static_cast<int>(length)) == 1);
}

// HMAC-SHA1 over `data` (and, for SRTP, the 32-bit ROC: RFC 3711 §4.2), the full 20 octets.
bool authenticate(const Keys& keys, const std::uint8_t* data, std::size_t length, std::optional<std::uint32_t> roc,
                  std::array<std::uint8_t, 20>& tag) {
  std::array<std::uint8_t, 4> roc_bytes{};
  if (roc) write32(roc_bytes.data(), *roc);
  std::size_t written = 0;
  return EVP_MAC_init(keys.mac.get(), nullptr, 0, nullptr) == 1 && EVP_MAC_update(keys.mac.get(), data, length) == 1 &&
         (!roc || EVP_MAC_update(keys.mac.get(), roc_bytes.data(), roc_bytes.size()) == 1) &&
         EVP_MAC_final(keys.mac.get(), tag.data(), &written, tag.size()) == 1 && written == tag.size();
}

// AES-GCM over [aad][text]: encrypts text in place and writes the tag after it, or (open) decrypts
// it in place and checks the tag that follows it. Two AAD parts: SRTCP's second is its index word.
bool gcm_seal_or_open(const Keys& keys, bool seal, const std::array<std::uint8_t, 12>& iv,
                      std::span<const std::uint8_t> aad, std::span<const std::uint8_t> aad_tail, std::uint8_t* text,
                      std::size_t text_length, std::uint8_t* tag) {
  EVP_CIPHER_CTX* context = keys.cipher.get();
  int written = 0;
  const auto update = [&](std::uint8_t* out, const std::uint8_t* in, std::size_t length) {
    return length == 0 || (seal ? EVP_EncryptUpdate(context, out, &written, in, static_cast<int>(length))
                                : EVP_DecryptUpdate(context, out, &written, in, static_cast<int>(length))) == 1;
  };
  if ((seal ? EVP_EncryptInit_ex2(context, nullptr, nullptr, iv.data(), nullptr)
            : EVP_DecryptInit_ex2(context, nullptr, nullptr, iv.data(), nullptr)) != 1 ||
      !update(nullptr, aad.data(), aad.size()) || !update(nullptr, aad_tail.data(), aad_tail.size()) ||
      !update(text, text, text_length))
    return false;
  if (seal) {
    return EVP_EncryptFinal_ex(context, text + text_length, &written) == 1 &&
           EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, kGcmTagLength, tag) == 1;
  }
  return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, kGcmTagLength, tag) == 1 &&
         EVP_DecryptFinal_ex(context, text + text_length, &written) == 1;
}

// RFC 3711 Appendix A: the index of `sequence` relative to the highest seen; a stream's first
// packet starts at ROC 0 (as in libsrtp, while the highest index is below 2^15).
std::uint64_t estimate_index(const Stream* stream, std::uint16_t sequence) {
  if (stream == nullptr || !stream->started || stream->highest <= kSequenceMedian) return sequence;
  const std::uint64_t roc = stream->highest >> 16;
  const std::uint64_t local = stream->highest & 0xffffU;
  std::uint64_t guess = roc;
  if (local < kSequenceMedian) {
    if (sequence > local + kSequenceMedian) guess = roc - 1;  // roc > 0: highest > 2^15 here
  } else if (local - kSequenceMedian > sequence) {
    guess = roc + 1;
  }
  return (guess << 16) | sequence;
}

bool seen(const Stream* stream, std::uint64_t index) {
  if (stream == nullptr || !stream->started || index > stream->highest) return false;
  const std::uint64_t delta = stream->highest - index;
  if (delta >= kSrtpReplayWindow) return true;  // older than the window: refused as a replay
  return ((stream->window[delta / 64] >> (delta % 64)) & 1U) != 0;
}

void accept(Stream& stream, std::uint64_t index) {
  if (!stream.started || index > stream.highest) {
    const std::uint64_t shift = stream.started ? index - stream.highest : kSrtpReplayWindow;
    if (shift >= kSrtpReplayWindow) {
      stream.window.fill(0);
    } else {
      const std::size_t words = shift / 64;
      const std::size_t bits = shift % 64;
      for (std::size_t i = kWindowWords; i-- > 0;) {
        std::uint64_t value = i >= words ? stream.window[i - words] << bits : 0;
        if (bits != 0 && i >= words + 1) value |= stream.window[i - words - 1] >> (64 - bits);
        stream.window[i] = value;
      }
    }
    stream.highest = index;
    stream.started = true;
  }
  const std::uint64_t delta = stream.highest - index;
  stream.window[delta / 64] |= std::uint64_t{1} << (delta % 64);
}

}  // namespace

SrtpTransform::SrtpTransform(SrtpSuite suite) : gcm_(is_gcm(suite)) {}

SrtpTransform::~SrtpTransform() = default;

std::unique_ptr<SrtpTransform> SrtpTransform::create(SrtpSuite suite, std::span<const std::uint8_t> key_salt,
                                                     bool outbound) {
  if (key_salt.size() != key_salt_length(suite)) return nullptr;
  const auto master_key = key_salt.first(master_key_length(suite));
  const auto master_salt = key_salt.subspan(master_key.size());
  std::unique_ptr<SrtpTransform> transform(new SrtpTransform(suite));
  transform->rtp_ = make_keys(suite, master_key, master_salt, false, outbound);
  transform->rtcp_ = make_keys(suite, master_key, master_salt, true, outbound);
  if (!transform->rtp_ || !transform->rtcp_) return nullptr;
  return transform;
}

std::size_t SrtpTransform::stream_count() const {
  return streams_.size();
}

SrtpTransform::Stream* SrtpTransform::find(std::uint32_t ssrc, bool rtcp) {
  for (Stream& stream : streams_) {
    if (stream.ssrc == ssrc && stream.rtcp == rtcp) {
      stream.last_use = ++uses_;
      return &stream;
    }
  }
  return nullptr;
}

SrtpTransform::Stream& SrtpTransform::remember(const Stream& stream) {
  if (streams_.size() < kMaxStreams) {
    streams_.push_back(stream);
    streams_.back().last_use = ++uses_;
    return streams_.back();
  }
  auto oldest = std::min_element(streams_.begin(), streams_.end(),
                                 [](const Stream& a, const Stream& b) { return a.last_use < b.last_use; });
  *oldest = stream;
  oldest->last_use = ++uses_;
  return *oldest;
}

SrtpOutcome SrtpTransform::protect_rtp(std::span<std::uint8_t> buffer, std::size_t& length) {
  std::uint8_t* p = buffer.data();
  const auto fields = rtp_fields(p, length);
  if (!fields) return SrtpOutcome::kOther;
  Stream* stream = find(fields->ssrc, false);
  const std::uint64_t index = estimate_index(stream, fields->sequence);
  if (stream == nullptr) stream = &remember(Stream{.ssrc = fields->ssrc});
  if (!stream->started || index > stream->highest) {  // a lower index is a resend (NACK): allowed
    stream->highest = index;
    stream->started = true;
  }
  const Keys& keys = *rtp_;
  std::uint8_t* payload = p + fields->header_length;
  const std::size_t payload_length = length - fields->header_length;
  if (gcm_) {
    if (!gcm_seal_or_open(keys, true, gcm_iv(keys, fields->ssrc, index, false), {p, fields->header_length}, {}, payload,
                          payload_length, payload + payload_length))
      return SrtpOutcome::kOther;
  } else {
    std::array<std::uint8_t, 20> tag{};
    if (!counter_crypt(keys, counter_iv(keys, fields->ssrc, index), payload, payload_length) ||
        !authenticate(keys, p, length, static_cast<std::uint32_t>(index >> 16), tag))
      return SrtpOutcome::kOther;
    std::copy_n(tag.begin(), keys.tag_length, p + length);
  }
  length += keys.tag_length;
  return SrtpOutcome::kOk;
}

SrtpOutcome SrtpTransform::unprotect_rtp(std::span<std::uint8_t> buffer, std::size_t& length) {
  std::uint8_t* p = buffer.data();
  const Keys& keys = *rtp_;
  if (length < kMinRtpLength + keys.tag_length) return SrtpOutcome::kOther;
  const std::size_t body = length - keys.tag_length;
  const auto fields = rtp_fields(p, body);
  if (!fields) return SrtpOutcome::kOther;
  Stream* stream = find(fields->ssrc, false);
  const std::uint64_t index = estimate_index(stream, fields->sequence);
  if (seen(stream, index)) return SrtpOutcome::kReplay;  // before any crypto: a replay costs nothing
  std::uint8_t* payload = p + fields->header_length;
  const std::size_t payload_length = body - fields->header_length;
  if (gcm_) {
    if (!gcm_seal_or_open(keys, false, gcm_iv(keys, fields->ssrc, index, false), {p, fields->header_length}, {},
                          payload, payload_length, p + body))
      return SrtpOutcome::kAuthFailure;
  } else {
    std::array<std::uint8_t, 20> tag{};
    if (!authenticate(keys, p, body, static_cast<std::uint32_t>(index >> 16), tag)) return SrtpOutcome::kOther;
    if (CRYPTO_memcmp(tag.data(), p + body, keys.tag_length) != 0) return SrtpOutcome::kAuthFailure;
    if (!counter_crypt(keys, counter_iv(keys, fields->ssrc, index), payload, payload_length))
      return SrtpOutcome::kOther;
  }
  if (stream == nullptr) stream = &remember(Stream{.ssrc = fields->ssrc});
  accept(*stream, index);
  length = body;
  return SrtpOutcome::kOk;
}

// RFC 3711 §3.4: the first 8 octets stay clear; E || index follows the packet (and, for AES-GCM,
// its tag: RFC 7714 §9.3); AES-CM's tag follows the index and covers it.
SrtpOutcome SrtpTransform::protect_rtcp(std::span<std::uint8_t> buffer, std::size_t& length) {
  std::uint8_t* p = buffer.data();
  const std::uint32_t ssrc = read32(p + 4);
  Stream* stream = find(ssrc, true);
  if (stream == nullptr) stream = &remember(Stream{.ssrc = ssrc, .rtcp = true});
  const std::uint64_t index = stream->started ? stream->highest + 1 : 1;  // libsrtp's first index is 1 too
  if (index > kMaxSrtcpIndex) return SrtpOutcome::kOther;                 // RFC 3711 §9.2: rekey first
  stream->highest = index;
  stream->started = true;
  const Keys& keys = *rtcp_;
  std::array<std::uint8_t, kSrtcpIndexLength> word{};
  write32(word.data(), kSrtcpEncrypted | static_cast<std::uint32_t>(index));
  std::uint8_t* text = p + kMinRtcpLength;
  const std::size_t text_length = length - kMinRtcpLength;
  if (gcm_) {
    if (!gcm_seal_or_open(keys, true, gcm_iv(keys, ssrc, index, true), {p, kMinRtcpLength}, word, text, text_length,
                          p + length))
      return SrtpOutcome::kOther;
    std::copy(word.begin(), word.end(), p + length + kGcmTagLength);
  } else {
    std::array<std::uint8_t, 20> tag{};
    if (!counter_crypt(keys, counter_iv(keys, ssrc, index), text, text_length)) return SrtpOutcome::kOther;
    std::copy(word.begin(), word.end(), p + length);
    if (!authenticate(keys, p, length + kSrtcpIndexLength, std::nullopt, tag)) return SrtpOutcome::kOther;
    std::copy_n(tag.begin(), keys.tag_length, p + length + kSrtcpIndexLength);
  }
  length += kSrtcpIndexLength + keys.tag_length;
  return SrtpOutcome::kOk;
}

SrtpOutcome SrtpTransform::unprotect_rtcp(std::span<std::uint8_t> buffer, std::size_t& length) {
  std::uint8_t* p = buffer.data();
  const Keys& keys = *rtcp_;
  if (length < kMinRtcpLength + kSrtcpIndexLength + keys.tag_length) return SrtpOutcome::kOther;
  // Where E || index sits: after the tag for AES-GCM, before it for AES-CM.
  const std::size_t word_at = gcm_ ? length - kSrtcpIndexLength : length - keys.tag_length - kSrtcpIndexLength;
  const std::size_t body = length - kSrtcpIndexLength - keys.tag_length;
  const std::uint32_t word = read32(p + word_at);
  const bool encrypted = (word & kSrtcpEncrypted) != 0;
  const std::uint64_t index = word & kMaxSrtcpIndex;
  const std::uint32_t ssrc = read32(p + 4);
  Stream* stream = find(ssrc, true);
  if (seen(stream, index)) return SrtpOutcome::kReplay;
  std::uint8_t* text = p + kMinRtcpLength;
  const std::size_t text_length = body - kMinRtcpLength;
  if (gcm_) {
    // E = 0 (RFC 7714 §9.3): nothing is encrypted, the whole packet is associated data.
    const std::span<const std::uint8_t> aad(p, encrypted ? kMinRtcpLength : body);
    if (!gcm_seal_or_open(keys, false, gcm_iv(keys, ssrc, index, true), aad, {p + word_at, kSrtcpIndexLength}, text,
                          encrypted ? text_length : 0, p + body))
      return SrtpOutcome::kAuthFailure;
  } else {
    std::array<std::uint8_t, 20> tag{};
    if (!authenticate(keys, p, body + kSrtcpIndexLength, std::nullopt, tag)) return SrtpOutcome::kOther;
    if (CRYPTO_memcmp(tag.data(), p + body + kSrtcpIndexLength, keys.tag_length) != 0) return SrtpOutcome::kAuthFailure;
    if (encrypted && !counter_crypt(keys, counter_iv(keys, ssrc, index), text, text_length)) return SrtpOutcome::kOther;
  }
  if (stream == nullptr) stream = &remember(Stream{.ssrc = ssrc, .rtcp = true});
  accept(*stream, index);
  length = body;
  return SrtpOutcome::kOk;
}

}  // namespace chorus::media
