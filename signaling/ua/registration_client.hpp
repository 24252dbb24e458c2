// RegistrationClient: outbound registration to a SIP trunk's registrar (RFC 3261 §10.2), so that a
// provider knows where to send the calls for our numbers. Signaling-level: it knows a registrar, an
// address-of-record, credentials and a Contact user, never trunks or rooms.
//
//   start() → REGISTER ─401/407→ REGISTER with Authorization (RFC 3261 §22.2; same Call-ID, CSeq+1)
//           ─200→ registered for the granted expiry (our Contact's `expires` parameter, else the
//           Expires header, else what we asked, §10.2.4) → refreshed at half of it or 30 s before it
//           ends, whichever is sooner — PJSIP (Asterisk's res_pjsip) refreshes a few seconds before
//           expiry, which a lost or slow refresh turns into a gap; half leaves time for retries.
//   423 Interval Too Brief → REGISTER again with the Min-Expires value (§10.2.8, §20.23).
//   any other failure (4xx–6xx, the transaction's 408 timeout or 503 transport error, a host that
//   does not resolve, a challenge answered and refused again) → failed, retried after 30 s doubling
//   to 30 min, each delay cut by up to a quarter at random (jitter: registrations of many trunks, or
//   many nodes, do not hit a recovering registrar together). Asterisk retries after a fixed
//   retry_interval (60 s); a back-off keeps a misconfigured trunk from hammering its provider.
//   stop() → REGISTER with Expires: 0 when a binding may exist (§10.2.2), answering a challenge once.
//
// One Call-ID for every REGISTER of the client and a CSeq that only grows (§10.2: the registrar
// orders requests by them). A challenge is remembered: refreshes carry Authorization at once with
// the next nonce count, and a 401 (a new or stale nonce) is answered once per request.
//
// Threading: control loop only (the UA's). Responses and timers reach the client through a token it
// owns, so one arriving after its destruction does nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/timer_queue.hpp"
#include "signaling/auth/digest.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/peer_address.hpp"
#include "signaling/ua/host_resolver.hpp"
#include "signaling/ua/sip_locator.hpp"
#include "signaling/ua/user_agent.hpp"

namespace chorus::sip {

struct RegistrationSettings {
  std::string registrar_host;                   // Request-URI host and the address-of-record's domain
  std::optional<std::uint16_t> registrar_port;  // in the Request-URI only when set
  TransportKind transport = TransportKind::kUdp;
  std::string username;  // the address-of-record's user (To, From)
  DigestCredentials credentials;
  std::string realm;  // empty: answer any realm; else only this one
  std::chrono::seconds expires{600};
  std::string contact_user;  // our Contact's user part: where the registrar sends calls
};

enum class RegistrationPhase { kUnregistered, kRegistering, kRegistered, kFailed };

struct RegistrationReport {
  RegistrationPhase phase = RegistrationPhase::kUnregistered;
  std::string error;                // kFailed: "403 Forbidden", "timeout", "no such host"…
  std::chrono::seconds granted{0};  // kRegistered: the binding's lifetime
  Millis retry_in{0};               // kFailed: when the next attempt goes
};

// Where REGISTERs go: answers once, later or at once, with a hop or why there is none.
using HopCallback = std::function<void(std::expected<PeerAddress, std::string>)>;
using HopLookup = std::function<void(HopCallback)>;

// The registrar's hop through a HostResolver (A/AAAA; IP literals as they are): its first address,
// the port given or 5060 (5061 for TLS, RFC 3263 §4.2's defaults). The one place that chooses how a
// registrar is found without a locator (chorusd uses locator_hop_lookup when it has one).
[[nodiscard]] HopLookup resolver_hop_lookup(HostResolver& resolver, std::string host, std::optional<std::uint16_t> port,
                                            TransportKind transport);

// The registrar's hop by RFC 3263 (NAPTR → SRV → A/AAAA, sip_locator.hpp) for `registrar_uri`
// ("sip:host[:port][;transport=…]"): the first hop the locator orders.
[[nodiscard]] HopLookup locator_hop_lookup(SipLocator& locator, std::string registrar_uri);

// Half the granted expiry or 30 s before it ends, whichever is sooner; at least 1 s.
[[nodiscard]] Millis registration_refresh_delay(std::chrono::seconds granted);
// The delay before attempt `failures` + 1 after `failures` consecutive failures (1, 2, …): 30 s
// doubling to 30 min, less up to a quarter: `jitter` in [0, 1) picks how much.
[[nodiscard]] Millis registration_retry_delay(unsigned failures, double jitter);

inline constexpr Millis kRegistrationFirstRetry{30'000};
inline constexpr Millis kRegistrationMaxRetry{30 * 60'000};
// A Min-Expires above this is refused rather than followed (a registrar cannot make us silent for days).
inline constexpr std::chrono::seconds kMaxMinExpires{86400};

class RegistrationClient {
 public:
  using Listener = std::function<void(const RegistrationReport&)>;

  // `ua`, `timers` outlive the client. `listener` hears every phase change and each refresh.
  RegistrationClient(UserAgent& ua, TimerQueue& timers, RegistrationSettings settings, HopLookup lookup,
                     Listener listener);
  ~RegistrationClient();
  RegistrationClient(const RegistrationClient&) = delete;
  RegistrationClient& operator=(const RegistrationClient&) = delete;

  void start();
  // Withdraws the binding (Expires: 0) when one may exist; `done` runs when that exchange ends (or
  // soon, when there is nothing to withdraw), never from inside stop(). The client stays usable
  // only for destruction afterwards.
  void stop(std::function<void()> done);

  [[nodiscard]] RegistrationPhase phase() const { return report_.phase; }
  [[nodiscard]] const RegistrationReport& report() const { return report_; }
  [[nodiscard]] std::chrono::seconds requested_expires() const { return expires_; }

 private:
  struct Token {};
  void attempt();
  // `answering`: the request answers the challenge of the 401/407 just received.
  void send_register(std::chrono::seconds expires, bool answering);
  void on_response(std::uint64_t generation, std::chrono::seconds expires, const SipMessage& response);
  bool answer_challenge(const SipMessage& response, std::chrono::seconds expires);
  void registered(const SipMessage& response, std::chrono::seconds asked);
  void failed(std::string error);
  void set_phase(RegistrationPhase phase, std::string error = {});
  void schedule(Millis after, void (RegistrationClient::*what)());
  [[nodiscard]] std::string contact() const;
  [[nodiscard]] std::string request_uri() const;

  UserAgent& ua_;
  TimerQueue& timers_;
  RegistrationSettings settings_;
  HopLookup lookup_;
  Listener listener_;
  std::shared_ptr<Token> token_ = std::make_shared<Token>();  // callbacks hold a weak_ptr to it

  std::optional<PeerAddress> hop_;
  std::string call_id_;
  std::string from_tag_;
  std::uint32_t cseq_ = 0;
  std::chrono::seconds expires_;  // what we ask for (raised by 423)
  std::optional<DigestChallenge> challenge_;
  std::uint32_t nonce_count_ = 0;
  bool answered_this_request_ = false;  // a 401 for the request that carried our answer fails
  std::uint64_t generation_ = 0;        // bumped by stop(): late responses of earlier REGISTERs are ignored
  unsigned failures_ = 0;
  TimerQueue::TimerId timer_ = TimerQueue::kNoTimer;
  bool stopping_ = false;
  std::function<void()> stopped_;
  RegistrationReport report_;
};

}  // namespace chorus::sip
