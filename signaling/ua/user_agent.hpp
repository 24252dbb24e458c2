// UserAgent: the UAS/UAC core of RFC 3261 §8, §12–§15 for a conference server.
//
// It sits on the TransactionLayer (as its TransactionUser) and turns SIP into calls for a
// CallListener (the conference domain): a new INVITE becomes on_incoming_call, whose decision is
// sent as the final response; the 2xx is retransmitted until the ACK (§13.3.1.4; to a UDP source
// that has not proved its address only within a byte budget, user_agent_ack.cpp) and a BYE is sent
// when none comes (not to such a source); BYE either way ends the call; re-INVITE and UPDATE carry new offers (RFC
// 3311); INFO carries DTMF; OPTIONS reports capabilities; session timers (RFC 4028) end dead calls. Early media
// (user_agent_early.cpp, RFC 3960 §3 gateway model): a decision of 183 answers with a 183 Session Progress carrying the
// SDP answer; media flows while the call is early, and the listener later ends it with a final non-2xx
// (reject_after_early_media), or CANCEL (487) or BYE from the caller, or early_media_timeout (480) does. Dial-out
// (dial(), §13.2): an INVITE as a UAC, 1xx tolerated, the 2xx ACKed by the dialog (§13.2.2.4, re-ACKed when
// retransmitted) and turned into a call, CANCEL after no_answer_timeout; 401/407 answered with Digest (§22), hops
// failed over on 503, Timer B and transport errors (RFC 3263 §4.3).
//
// Limits against strangers (issue 12): at most max_calls_per_source calls from one IP (trusted
// sources exempt); beyond it an INVITE gets 486 at once, which the transaction layer sends
// statelessly. Error responses carry only what RFC 3261 requires (no Server header), and an
// OPTIONS over UDP from a source that has not completed a handshake (ACKed one of our 2xx) gets a
// bare 200, so neither can be used to amplify traffic at a spoofed address.
//
// Threading: control loop only (DESIGN §2). Calls are referred to by CallHandle, never by pointer,
// across timers and callbacks.
#pragma once

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/timer_queue.hpp"
#include "signaling/dialog/dialog.hpp"
#include "signaling/transaction/transaction_layer.hpp"
#include "signaling/transport/address_range.hpp"
#include "signaling/ua/call_listener.hpp"
#include "signaling/ua/host_resolver.hpp"
#include "signaling/ua/method_handler.hpp"
#include "signaling/ua/outgoing_call.hpp"
#include "signaling/ua/request_checks.hpp"
#include "signaling/ua/session_timer.hpp"
#include "signaling/ua/sip_locator.hpp"

namespace chorus::sip {

struct UserAgentConfig {
  std::string contact_user = "chorus";
  std::string server_name = "Chorus/0.1";
  std::size_t max_calls = 2000;  // past it new INVITEs get 503 with Retry-After
  // Calls from one source IP at once; past it new INVITEs from that IP get 486 Busy Here. 486, not
  // 503: the limit is this caller's, and a 503 would make a proxy in front (RFC 3263 §4.3, a
  // Kamailio dispatcher) take the whole server out of service for everyone. 0: no limit.
  std::size_t max_calls_per_source = 20;
  std::vector<AddressRange> trusted_sources;  // exempt from max_calls_per_source (trunks, a SIP front)
  std::size_t max_verified_sources = 4096;    // handshake-proven UDP sources remembered
  SessionTimerPolicy session_timer;
  // Dial-out: an INVITE with no final response by then is CANCELled (RFC 3261 §9.1) and fails 408.
  Millis no_answer_timeout{60'000};
  // Early media: a call answered 183 gets its final response by then, or a 480 from the UA itself
  // (the INVITE's transaction has no timer in Proceeding; Timer C is a proxy's, RFC 3261 §16.6).
  Millis early_media_timeout{30'000};
};

struct UserAgentCounters {
  std::atomic<std::uint64_t> calls_refused_per_source{0};  // INVITEs refused 486: max_calls_per_source
  std::atomic<std::uint64_t> retransmissions_withheld{0};  // 2xx copies over an unverified source's budget

  [[nodiscard]] std::array<PublishedCounter, 2> published() const {
    return {PublishedCounter{"chorus_sip_source_call_limit_rejections_total",
                             "INVITEs refused 486 because their source IP had max_calls_per_source calls",
                             "sip_source_call_limit_rejections", &calls_refused_per_source},
            PublishedCounter{"chorus_sip_2xx_retransmissions_withheld_total",
                             "2xx retransmissions not sent: the caller's UDP source has not proved its address "
                             "and the copy would take what we sent past 3 times what it sent",
                             "sip_2xx_retransmissions_withheld", &retransmissions_withheld}};
  }
};

// Over UDP, what we send for an INVITE from a source that has not proved its address stays within
// this many times the bytes the source sent for it (issue 12: INVITE amplification ≤ 3).
inline constexpr std::size_t kUnverifiedReflectionFactor = 3;

class UserAgent final : public TransactionUser {
 public:
  UserAgent(TimerQueue& timers, MessageSender& sender, CallListener& listener, UserAgentConfig config = {});
  ~UserAgent() override;
  // The transaction layer is built with this UA as its user, so it is attached after construction.
  void attach(TransactionLayer& transactions) { transactions_ = &transactions; }

  // TransactionUser
  void on_request(TransactionId id, const SipMessage& request, const PeerAddress& source) override;
  void on_ack(const SipMessage& ack, const PeerAddress& source) override;
  void on_invite_retransmitted(TransactionId id, const SipMessage& invite, const PeerAddress& source) override;
  void on_cancel(TransactionId invite, const SipMessage& cancel) override;
  void on_server_transaction_ended(TransactionId id, bool timed_out) override;
  void on_stray_response(const SipMessage& response, const PeerAddress& source) override;

  // Ends a call from our side with BYE (§15.1.1). The listener hears on_call_ended. false: unknown call.
  bool hang_up(CallHandle call, std::string_view reason);
  // Ends a call answered with early media (183) by sending the INVITE's final response: `status`
  // 300–699 with `reason` and `headers` (e.g. Warning). The transaction absorbs its ACK (§17.2.1);
  // the listener hears on_call_ended. false: unknown call, a call past its early phase, or a bad
  // status (nothing is sent). hang_up() on an early call sends 480.
  bool reject_after_early_media(CallHandle call, int status, std::string_view reason = {},
                                const std::vector<Header>& headers = {});
  // Sends an INFO in the call's dialog (RFC 6086): `package` in Info-Package (empty: none, the
  // legacy usage of RFC 5168), `content_type` and `body`. The answer is not waited for. false: unknown
  // call, or one not yet answered (INFO needs the dialog an answered INVITE made, RFC 6086 §4.3).
  bool send_info(CallHandle call, std::string_view package, std::string_view content_type, std::string body);
  // Sends a request in the call's dialog (RFC 3261 §12.2.1.1): `method` with `headers`, and a body
  // of `content_type` when `body` is not empty (e.g. MESSAGE, RFC 3428 §4). `on_response` (may be
  // empty) hears its final response, or the 408/503 the transaction layer makes. false: unknown
  // call, or one not yet answered.
  bool send_in_call(CallHandle call, std::string_view method, const std::vector<Header>& headers,
                    std::string_view content_type, std::string body, ResponseCallback on_response = {});
  // Whether the call's peer listed `method` in its Allow (RFC 3261 §20.5); false for an unknown call
  // or a peer that sent no Allow.
  [[nodiscard]] bool peer_allows(CallHandle call, std::string_view method) const;

  // Methods beyond calls (method_handler.hpp): `handler` takes every `method` request (upper-case)
  // whose body, if any, is one of `accepted_bodies` (lower-case media types; others get 415). The
  // method joins Allow. The handler must outlive the UA.
  void add_method_handler(std::string method, std::vector<std::string> accepted_bodies, MethodHandler& handler);
  // The Allow header value (§20.5): the call methods and the registered ones.
  [[nodiscard]] const std::string& allowed_methods() const { return extensions_.allow; }
  // A response to `request` (§8.2.6) with `to_tag` (none for 100); Server only on success.
  [[nodiscard]] SipMessage response_for(const SipMessage& request, int status, std::string_view to_tag,
                                        std::string_view reason = {}) const;
  // Sends a handler's response on its server transaction.
  void send_response(TransactionId id, const SipMessage& response);
  // Sends a request we make outside any call (a NOTIFY in a subscription's dialog, a REGISTER): a
  // Via for `hop` is stamped on it (§8.1.1.7) and a client transaction sends it; `on_response` hears
  // the final response (or the layer's own 408/503).
  void send_request(SipMessage request, const PeerAddress& hop, ResponseCallback on_response);
  // Our Contact for requests and responses over `kind` ("<sip:chorus@host:port;transport=tcp>").
  [[nodiscard]] std::string contact_for(TransportKind kind) const;

  // Stops taking calls (new INVITEs get 503) and hangs up every call.
  void shutdown();
  // Issue 14, a node draining out of a cluster: out-of-dialog OPTIONS are answered 503 Service
  // Unavailable (RFC 3261 §21.5.4), so a proxy probing its destinations (Kamailio's dispatcher)
  // marks this server inactive and sends it no new calls; calls in progress go on, and which
  // INVITEs are still taken is the listener's decision. false: 200 again.
  void set_options_unavailable(bool unavailable) { options_unavailable_ = unavailable; }
  [[nodiscard]] bool shutting_down() const { return shutting_down_; }
  [[nodiscard]] std::size_t call_count() const { return calls_.size(); }
  // Calls (incoming and dialled) since start, ended ones included.
  [[nodiscard]] std::uint64_t calls_started() const { return next_handle_ - 1; }
  // Calls in progress that `source` started (0 for a trusted or unknown source).
  [[nodiscard]] std::size_t calls_from(const boost::asio::ip::address& source) const;
  // Whether a UDP source has proved it receives what we send (it ACKed one of our 2xx).
  [[nodiscard]] bool verified(const PeerAddress& source) const;
  [[nodiscard]] const UserAgentCounters& counters() const { return counters_; }

  // Dial-out (user_agent_outgoing.cpp): sends an INVITE with `request.sdp_offer` as a UAC. The
  // outcome comes through the CallListener (on_outgoing_answered / on_outgoing_failed), never from
  // inside this call. hang_up() on a dial still ringing CANCELs it. Error: a bad target (or an IP
  // literal request.check_address refuses, or preset hops it all refuses), bad extra headers,
  // shutting down, too many calls. A host name is looked up afterwards by the SipLocator (or the
  // HostResolver), off the control loop; its failure is an on_outgoing_failed. The hops are walked
  // on 503, Timer B and transport errors (RFC 3263 §4.3); 401/407 are answered with the request's
  // credentials (RFC 3261 §22), in the call's dialog too.
  std::expected<OutgoingCallStarted, std::string> dial(const OutgoingCallRequest& request);
  [[nodiscard]] std::size_t dialing_count() const { return outgoing_.size(); }
  // Resolves dial-out host names as A/AAAA names (host_resolver.hpp) when no locator is set; must
  // outlive the UA. Without either, only IP literals and preset hops can be dialled.
  void set_resolver(HostResolver& resolver) { resolver_ = &resolver; }
  // Locates dial-out targets by RFC 3263 (NAPTR, SRV, A/AAAA: sip_locator.hpp), the ordered hops a
  // dial fails over along; takes precedence over the resolver. Must outlive the UA.
  void set_locator(SipLocator& locator) { locator_ = &locator; }

 private:
  struct Call;

  // Out-of-dialog requests.
  void on_new_invite(TransactionId id, const SipMessage& invite, const PeerAddress& source);
  // In-dialog requests (§12.2.2).
  void on_in_dialog_request(TransactionId id, const SipMessage& request, const PeerAddress& source, Call& call);
  void on_reinvite(TransactionId id, const SipMessage& request, const PeerAddress& source, Call& call);
  void on_update(TransactionId id, const SipMessage& request, Call& call);
  void on_info(TransactionId id, const SipMessage& request, Call& call);

  // Session description exchange in a re-INVITE/UPDATE: the response to send.
  SipMessage answer_offer(const SipMessage& request, Call& call, bool in_invite);

  // §13.3.1.4 (user_agent_ack.cpp): send a 2xx to an INVITE of `request_wire_size` bytes and keep it
  // until the ACK; send it again (timer or INVITE retransmission) within an unverified source's budget.
  void send_invite_2xx(TransactionId id, Call& call, SipMessage response, const PeerAddress& source,
                       std::size_t request_wire_size);
  void send_2xx_again(Call& call);
  void forget_unacked_2xx(Call& call);
  // Early media (user_agent_early.cpp).
  void answer_early(TransactionId id, const SipMessage& invite, const PeerAddress& source, std::unique_ptr<Call> call,
                    CallDecision decision);
  // Ends an early call: the final response `status` (0: none can be sent), then on_call_ended.
  void finish_early(CallHandle handle, int status, std::string_view reason, const std::vector<Header>& headers,
                    std::string_view why);
  void on_early_request(TransactionId id, const SipMessage& request, Call& call);
  Call* find_early_call(TransactionId invite_transaction);
  void retransmit_2xx(CallHandle handle);
  void respond(TransactionId id, const SipMessage& request, int status, std::string_view reason = {},
               const std::vector<Header>& extra = {}, std::string_view to_tag = {});
  void add_capabilities(SipMessage& message) const;
  // A request for a registered method (method_handler.hpp); true when a handler took it.
  bool dispatch_to_handler(TransactionId id, const SipMessage& request, const PeerAddress& source,
                           std::optional<CallHandle> call, std::string_view to_tag);

  // RFC 4028.
  void apply_session_timer(Call& call, const SessionTimerOutcome& outcome);
  void on_session_timer(CallHandle handle);
  void send_refresh(Call& call);

  // A new top Via for a request we send towards `hop` (§8.1.1.7, with rport: RFC 3581).
  void stamp_via(SipMessage& request, const PeerAddress& hop) const;
  void send_in_dialog(Call& call, SipMessage request, ResponseCallback on_response);
  void end_call(CallHandle handle, std::string_view reason, bool send_bye);
  // Per-source call accounting: a new incoming call takes a slot of its source IP; its end frees it.
  [[nodiscard]] bool over_source_limit(const PeerAddress& source) const;
  void count_source(Call& call, const PeerAddress& source);
  void release_source(Call& call);
  void remember_verified(const PeerAddress& source);
  Call* find_call(const std::string& dialog_key);
  Call* find_call(CallHandle handle);

  // Dial-out (user_agent_outgoing.cpp).
  struct Outgoing;
  void on_outgoing_response(CallHandle handle, std::uint64_t attempt, const SipMessage& response);
  void on_outgoing_answered(CallHandle handle, const SipMessage& response);
  void cancel_outgoing(CallHandle handle, int fail_status, std::string_view reason);
  void send_cancel(Outgoing& outgoing);
  void on_resolved(CallHandle handle, ResolveResult result);
  void on_located(CallHandle handle, LocateResult result);
  // Starts walking `hops` (RFC 3263 §4.3); false (with `why`) when check_address refuses them all.
  bool start_hops(Outgoing& outgoing, std::vector<PeerAddress> hops, std::string& why);
  // Sends a fresh INVITE to the next hop check_address allows; false when none is left.
  bool try_next_hop(Outgoing& outgoing, std::string* why = nullptr);
  // Re-sends the INVITE answering a 401/407 (RFC 3261 §22.2, §22.3); false: give up with its status.
  bool answer_challenge(Outgoing& outgoing, const SipMessage& response);
  bool send_invite(Outgoing& outgoing);
  void fail_outgoing(CallHandle handle, int status, std::string_view reason);
  // In-dialog requests of a call dialled with credentials (user_agent_dialog.cpp): wraps
  // `on_response` so a 401/407 to `request` (not yet Via-stamped) is answered once, with the
  // dialog's next CSeq (RFC 3261 §22.3, §12.2.1.1).
  ResponseCallback answer_dialog_challenges(const Call& call, const SipMessage& request, ResponseCallback on_response);

  TimerQueue& timers_;
  MessageSender& sender_;
  CallListener& listener_;
  UserAgentConfig config_;
  TransactionLayer* transactions_ = nullptr;
  bool shutting_down_ = false;
  bool options_unavailable_ = false;  // set_options_unavailable
  CallHandle next_handle_ = 1;
  std::unordered_map<CallHandle, std::unique_ptr<Call>> calls_;
  // Calls that were put in the early phase (183); some may have left it since (find_early_call).
  std::unordered_set<CallHandle> early_calls_;
  std::unordered_map<std::string, CallHandle> calls_by_dialog_;
  std::unordered_map<CallHandle, std::unique_ptr<Outgoing>> outgoing_;  // INVITEs we sent, not yet answered
  HostResolver* resolver_ = nullptr;
  SipLocator* locator_ = nullptr;
  ExtensionMethods extensions_;  // registered methods: their bodies, and Allow
  std::map<std::string, MethodHandler*, std::less<>> method_handlers_;
  // Resolver callbacks hold a weak_ptr to this: one that arrives after the UA is gone does nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::map<boost::asio::ip::address, std::size_t> calls_per_source_;    // incoming calls by source IP
  std::unordered_map<TransactionId, CallHandle> awaiting_ack_;          // an unACKed 2xx's INVITE transaction → call
  std::map<boost::asio::ip::address, std::uint64_t> verified_sources_;  // source → when (an ever-growing stamp)
  std::uint64_t verified_stamp_ = 0;
  UserAgentCounters counters_;
};

}  // namespace chorus::sip
