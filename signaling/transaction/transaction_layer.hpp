// TransactionLayer: matches messages to the four transaction kinds of RFC 3261 §17 and runs their
// timers. Threading: control loop only (DESIGN §2); no locks.
//
//   transport ──on_message──▶ TransactionLayer ──TransactionUser──▶ UA core (dialogs, conference)
//             ◀─MessageSender─                  ◀─respond/send_request─
//
// Server side: a new request creates a ServerInviteTransaction or ServerNonInviteTransaction and
// is handed to the TU with its id; retransmissions are absorbed (the last response is re-sent).
// An ACK for a non-2xx final response ends in the INVITE transaction (§17.2.1); an ACK for a 2xx
// has no transaction and goes to the TU (§13.3.1.4). CANCEL (§9.2) is answered here: 200 when
// it matches a pending INVITE transaction (the TU is told, and sends 487), 481 otherwise.
// Matching uses branch + sent-by + method (§17.2.3), or the RFC 2543 rules when the branch lacks
// the magic cookie.
//
// Stateless answers (§8.2.7), so a spoofed source cannot turn us into a reflector: an
// out-of-dialog request (no To tag) that is refused at once — the TU answers it with a final 300–699 from inside
// on_request (unknown room, over a limit) — gets that one response and no transaction is kept (no Timer G
// retransmission, no state for Timer H/J; a retransmitted request is simply judged again). A CANCEL that matches no
// INVITE gets its 481 the same way. Past `max_server_transactions` a new request gets 503 with
// Retry-After and creates nothing (CANCEL and ACK are exempt: they never outnumber the INVITEs).
// A final response after a provisional (early media) keeps the full §17.2.1 machinery.
//
// Client side: send_request() creates a ClientInviteTransaction or ClientNonInviteTransaction;
// responses reach the callback; Timer B/F expiry and transport failure report 408/503 locally
// (§8.1.3.1). The ACK for a non-2xx final response is generated here (§17.1.1.3). A response
// matches by branch + CSeq method (§17.1.3) *and* by where it came from: over UDP the IP and port
// the request was sent to, over TCP/TLS/WS the request's connection (or one to that IP and port).
// Any other response with a live transaction's branch is a forgery or a misrouted copy: dropped,
// counted (chorus_sip_responses_wrong_source_total) and logged at most once a second; it never
// reaches the TU, not even as a stray.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/published_counter.hpp"
#include "common/timer_queue.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transport/message_sink.hpp"

namespace chorus::sip {

// RFC 3261 §17.1.1.1 and Table 4.
struct TimerConfig {
  Millis t1{500};
  Millis t2{4000};
  Millis t4{5000};
};

// Limits on what strangers can make the server side hold (DESIGN §5: every ingress has a limit).
struct ServerLimits {
  std::size_t max_server_transactions = 16384;  // alive at once; beyond: 503 + Retry-After, no state
  std::chrono::seconds retry_after{30};         // in that 503 (§20.33)
  bool stateless_rejections = true;             // refusals at once are answered statelessly (§8.2.7)
};

struct ServerLimitCounters {
  std::atomic<std::uint64_t> over_capacity{0};  // requests refused 503: max_server_transactions reached
  std::atomic<std::uint64_t> stateless{0};      // responses sent without keeping a transaction

  [[nodiscard]] std::array<PublishedCounter, 2> published() const {
    return {PublishedCounter{"chorus_sip_transaction_cap_rejections_total",
                             "SIP requests refused 503 because max_server_transactions were alive",
                             "sip_transaction_cap_rejections", &over_capacity},
            PublishedCounter{"chorus_sip_stateless_responses_total",
                             "SIP final responses sent statelessly (no transaction, no retransmission)",
                             "sip_stateless_responses", &stateless}};
  }
};

// Client side (issue 12): responses that matched a transaction by branch and method but came from
// somewhere the request did not go (transaction.hpp, response_source_matches) are dropped.
struct ResponseSourceCounters {
  std::atomic<std::uint64_t> wrong_source{0};

  [[nodiscard]] std::array<PublishedCounter, 1> published() const {
    return {PublishedCounter{"chorus_sip_responses_wrong_source_total",
                             "SIP responses dropped because they did not come from where their request went",
                             "sip_responses_wrong_source", &wrong_source}};
  }
};

using TransactionId = std::uint64_t;

class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  // A new request (never ACK or CANCEL) in a new server transaction; answer with respond(id, ...).
  virtual void on_request(TransactionId id, const SipMessage& request, const PeerAddress& source) = 0;
  // An ACK that matched no server transaction: the ACK for a 2xx (§13.3.1.4), or a stray one.
  virtual void on_ack(const SipMessage& ack, const PeerAddress& source) = 0;
  // A retransmission of INVITE `id` after the TU's 2xx (RFC 6026 §7.1 Accepted: the transaction
  // absorbs it and sends nothing). The TU may send the 2xx again with respond(id, ...).
  virtual void on_invite_retransmitted(TransactionId id, const SipMessage& invite, const PeerAddress& source) = 0;
  // A CANCEL matched the pending INVITE transaction `invite`; the layer already sent 200 to the CANCEL.
  virtual void on_cancel(TransactionId invite, const SipMessage& cancel) = 0;
  // A server transaction ended. `timed_out`: Timer H fired without an ACK (§17.2.1), or the
  // transport failed; the TU may need to tear the call down.
  virtual void on_server_transaction_ended(TransactionId id, bool timed_out) = 0;
  // A response that matched no client transaction, e.g. a retransmitted 2xx to an INVITE
  // (§13.2.2.4: the UAC core re-sends the ACK).
  virtual void on_stray_response(const SipMessage& response, const PeerAddress& source) = 0;
};

// Client transactions report every response (provisional and final) and, at most once, a local
// timeout or transport failure as a synthesized 408 or 503 response.
using ResponseCallback = std::function<void(const SipMessage& response)>;

class ServerTransaction;
class ClientTransaction;

class TransactionLayer final : public TransportListener {
 public:
  TransactionLayer(TimerQueue& timers, MessageSender& sender, TransactionUser& user, TimerConfig config = {},
                   ServerLimits limits = {});
  ~TransactionLayer() override;
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // TransportListener
  void on_message(SipMessage message, const PeerAddress& source) override;
  void on_bad_message(const ParseError& error, const PeerAddress& source) override;

  // Sends a response in server transaction `id`. A final 300–699 sent from inside the TU's
  // on_request for that same out-of-dialog request, before any other response, is sent statelessly and ends the
  // transaction at once (§8.2.7, see above); the TU hears on_server_transaction_ended. A 2xx to an INVITE ends the
  // INVITE server transaction (§17.2.1; RFC 6026's Accepted state absorbs INVITE retransmissions), after which the TU
  // retransmits the 2xx itself until the ACK (§13.3.1.4). Returns false for an unknown id.
  bool respond(TransactionId id, const SipMessage& response);

  // Starts a client transaction. `request` must carry a top Via with a fresh magic-cookie branch
  // (use new_branch() and MessageSender::via_sent_by()). The ACK for a 2xx is not sent through
  // here: use send_stateless() (§13.2.2.4, it is its own transaction-less request).
  TransactionId send_request(SipMessage request, const PeerAddress& destination, ResponseCallback on_response);
  bool send_stateless(const SipMessage& message, const PeerAddress& destination);

  // Sends a response straight to the transport, with no transaction (2xx retransmissions by the TU).
  bool send_response_stateless(const SipMessage& response, const PeerAddress& source);

  [[nodiscard]] std::size_t server_count() const;
  [[nodiscard]] std::size_t client_count() const;
  // Client transactions still waiting for their final response (a drain waits for these only;
  // the rest merely absorb retransmissions, Timer D/K).
  [[nodiscard]] std::size_t clients_awaiting_final() const;
  [[nodiscard]] const TimerConfig& config() const { return config_; }
  [[nodiscard]] const ServerLimits& limits() const { return limits_; }
  [[nodiscard]] const ServerLimitCounters& limit_counters() const { return counters_; }
  [[nodiscard]] const ResponseSourceCounters& response_source_counters() const { return response_counters_; }
  // On by default. Off: a response that matches by branch and method is taken from any source (for
  // a peer that answers from another port than it was sent to; the operator's explicit choice).
  void set_response_source_check(bool on) { response_source_check_ = on; }
  [[nodiscard]] TimerQueue& timers() { return timers_; }

  static std::string new_branch();  // "z9hG4bK" + 16 random url-safe characters

 private:
  // ... implementation state (see transaction_layer.cpp)
  TimerQueue& timers_;
  MessageSender& sender_;
  TransactionUser& user_;
  TimerConfig config_;
  ServerLimits limits_;
  ServerLimitCounters counters_;
  ResponseSourceCounters response_counters_;
  bool response_source_check_ = true;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chorus::sip
