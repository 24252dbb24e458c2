// The parts every RFC 3261 §17 transaction shares: the context it runs in, the owner it reports its
// end to, a self-cancelling timer, and the ServerTransaction / ClientTransaction base classes that
// the four concrete transactions derive from. Threading: control loop only (DESIGN §2).
//
// Lifetime: TransactionLayer owns every transaction. A transaction never deletes itself; when it
// reaches Terminated it tells its TransactionOwner, which unlinks it at once and destroys it later,
// from a zero-delay timer, so no transaction dies while one of its own callbacks is on the stack.
#pragma once

#include <string>
#include <string_view>

#include "common/timer_queue.hpp"
#include "signaling/message/sip_message.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/message_sink.hpp"
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

class ServerTransaction;
class ClientTransaction;

// Implemented by the layer: a transaction reached Terminated.
class TransactionOwner {
 public:
  virtual ~TransactionOwner() = default;
  // `timed_out`: Timer H fired without an ACK, or the transport failed (§17.2.1, §17.2.4).
  virtual void on_terminated(ServerTransaction& transaction, bool timed_out) = 0;
  virtual void on_terminated(ClientTransaction& transaction) = 0;
};

// What a transaction needs from its layer; one instance, owned by the layer, outlives them all.
struct TransactionContext {
  TimerQueue& timers;
  MessageSender& sender;
  const TimerConfig& config;
  TransactionOwner& owner;
};

// One RFC 3261 §17 timer. Restarting replaces the pending run; destruction cancels it, so a
// destroyed transaction is never called back.
class TransactionTimer {
 public:
  explicit TransactionTimer(TimerQueue& timers) : timers_(&timers) {}
  ~TransactionTimer() { stop(); }
  TransactionTimer(const TransactionTimer&) = delete;
  TransactionTimer& operator=(const TransactionTimer&) = delete;

  // `fn` should capture only a pointer, so the wrapper fits std::function's inline buffer.
  template <typename Fn>
  void start(Millis after, Fn fn) {
    stop();
    id_ = timers_->schedule(after, [this, fn] {
      id_ = TimerQueue::kNoTimer;
      fn();
    });
  }
  void stop() {
    if (id_ != TimerQueue::kNoTimer) timers_->cancel(id_);
    id_ = TimerQueue::kNoTimer;
  }
  [[nodiscard]] bool running() const { return id_ != TimerQueue::kNoTimer; }

 private:
  TimerQueue* timers_;
  TimerQueue::TimerId id_ = TimerQueue::kNoTimer;
};

class ServerTransaction {
 public:
  // kRetransmittedAfter2xx: an INVITE retransmission in RFC 6026's Accepted state. The transaction
  // absorbs it; the layer tells the TU, which owns the 2xx (user_agent.cpp answers an unverified
  // source's retransmission with its 2xx, within a byte budget).
  enum class RequestOutcome : std::uint8_t { kAbsorbed, kPassAckToTu, kRetransmittedAfter2xx };

  ServerTransaction(const TransactionContext& context, TransactionId id, const PeerAddress& source);
  virtual ~ServerTransaction() = default;
  ServerTransaction(const ServerTransaction&) = delete;
  ServerTransaction& operator=(const ServerTransaction&) = delete;

  // A retransmission of the request that created this transaction or, for INVITE, an ACK.
  virtual RequestOutcome on_request(const SipMessage& request, const PeerAddress& source) = 0;
  // A response from the TU. False when the state does not take it or the transport failed.
  virtual bool respond(const SipMessage& response) = 0;
  // §9.2: a CANCEL has an effect only while no final response has been sent.
  [[nodiscard]] virtual bool awaiting_final() const = 0;
  // Whether any response (provisional or final) has been sent in this transaction.
  [[nodiscard]] virtual bool responded() const = 0;

  [[nodiscard]] TransactionId id() const { return id_; }
  [[nodiscard]] bool terminated() const { return terminated_; }
  // Where the latest copy of the request came from: where responses go (§18.2.2).
  [[nodiscard]] const PeerAddress& peer() const { return source_; }
  // The matching key (§17.2.3); the layer's index refers to this string.
  [[nodiscard]] const std::string& key() const { return key_; }
  void set_key(std::string key) { key_ = std::move(key); }
  // A transaction the layer answers itself (a CANCEL, §9.2): the TU never hears of its id.
  [[nodiscard]] bool internal() const { return internal_; }
  void set_internal() { internal_ = true; }

 protected:
  [[nodiscard]] bool reliable() const { return is_reliable(source_.kind); }
  [[nodiscard]] const PeerAddress& source() const { return source_; }
  // §18.2.2: responses go back the way the latest copy of the request came.
  void update_source(const PeerAddress& source) { source_ = source; }
  // Sends through the transport. On false the caller ends the transaction (§17.2.4).
  bool send(const SipMessage& response);
  // Enters Terminated and tells the owner, once.
  void terminate(bool timed_out);
  // Runs `fn` after `after`, or ends now when `after` is zero (the reliable-transport case of
  // Timers I and J, which §17.2 says are 0 s).
  template <typename Fn>
  void linger(TransactionTimer& timer, Millis after, Fn fn) {
    if (after == Millis{0}) {
      fn();
    } else {
      timer.start(after, fn);
    }
  }

  const TransactionContext& context_;

 private:
  TransactionId id_;
  PeerAddress source_;
  std::string key_;
  bool terminated_ = false;
  bool internal_ = false;
};

class ClientTransaction {
 public:
  ClientTransaction(const TransactionContext& context, TransactionId id, SipMessage request,
                    const PeerAddress& destination, ResponseCallback on_response);
  virtual ~ClientTransaction() = default;
  ClientTransaction(const ClientTransaction&) = delete;
  ClientTransaction& operator=(const ClientTransaction&) = delete;

  // Sends the request and starts the timers. A synchronous transport failure is reported as a
  // 503 from a zero-delay timer, so the callback never runs inside send_request().
  virtual void start() = 0;
  // A response whose branch and CSeq method matched this transaction (§17.1.3).
  virtual void on_response(const SipMessage& response) = 0;
  // Instead of start(), for a request that cannot be sent: the TU gets a 503 from a zero-delay timer.
  void report_transport_failure_later();

  // §18.1.2: the response's top Via sent-by must be the one we inserted.
  [[nodiscard]] bool sent_by_matches(const Via& via) const;
  // Whether a response arriving from `source` comes from where this request went: over UDP the
  // destination's IP and port; over TCP/TLS/WS the connection it was sent on, or one to the
  // destination's IP and port (the transport reuses or opens exactly that). See
  // response_source_matches().
  [[nodiscard]] bool came_from_destination(const PeerAddress& source) const;
  [[nodiscard]] TransactionId id() const { return id_; }
  [[nodiscard]] bool terminated() const { return terminated_; }
  // Whether the TU has had its final response (received, or a local 408/503).
  [[nodiscard]] bool final_seen() const { return final_seen_; }
  [[nodiscard]] const SipMessage& request() const { return request_; }
  // Where the request was sent (its connection too, when the TU named one).
  [[nodiscard]] const PeerAddress& destination() const { return destination_; }
  [[nodiscard]] const std::string& key() const { return key_; }
  void set_key(std::string key) { key_ = std::move(key); }

 protected:
  [[nodiscard]] bool reliable() const { return is_reliable(destination_.kind); }
  bool send_request() { return context_.sender.send_request(request_, destination_); }
  void report(const SipMessage& response);
  // §8.1.3.1 and §17.1.4: a timeout (408) or transport failure (503) as a local response.
  void report_local(int status);
  void terminate();
  template <typename Fn>
  void linger(TransactionTimer& timer, Millis after, Fn fn) {
    if (after == Millis{0}) {
      fn();
    } else {
      timer.start(after, fn);
    }
  }

  const TransactionContext& context_;
  SipMessage request_;

 private:
  TransactionId id_;
  PeerAddress destination_;
  ResponseCallback on_response_;
  std::string key_;
  bool final_seen_ = false;
  TransactionTimer failure_timer_;
  bool terminated_ = false;
};

// Fills the typed fields (vias, cseq, call_id, from, to) of a request built as headers only, so the
// client side can match and answer it. False when Via or CSeq is missing or malformed.
bool complete_typed_fields(SipMessage& message);

// The To tag of a message, from its typed field or, for a message built as headers only, its header.
std::string to_tag_of(const SipMessage& message);

// The branch parameter of a Via, without copying it; empty when there is none.
std::string_view branch_of(const Via& via);

// Issue 12: a response counts only when it comes from where its request went — over UDP from the
// destination's IP and port, over a stream transport on the request's connection or one to the
// destination's IP and port. Branch + CSeq method (§17.1.3) alone let anyone who learns a branch
// (every proxy on the path, or a guess at a predictable one) answer for the peer.
bool response_source_matches(const PeerAddress& destination, const PeerAddress& source);

// Status classes (§21).
inline bool is_provisional(int status) {
  return status >= 100 && status < 200;
}
inline bool is_success(int status) {
  return status >= 200 && status < 300;
}
inline bool is_final(int status) {
  return status >= 200 && status < 700;
}

}  // namespace chorus::sip
