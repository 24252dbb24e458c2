#include "signaling/transaction/transaction_layer.hpp"

#include <string_view>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "signaling/transaction/client_invite_transaction.hpp"
#include "signaling/transaction/client_non_invite_transaction.hpp"
#include "signaling/transaction/server_invite_transaction.hpp"
#include "signaling/transaction/server_non_invite_transaction.hpp"
#include "signaling/transaction/transaction.hpp"
#include "signaling/transaction/transaction_key.hpp"

namespace chorus::sip {
namespace {

// §8.2.6.2: a response the layer makes itself gets a To tag of its own.
constexpr std::size_t kToTagLength = 10;
constexpr std::size_t kBranchRandomLength = 16;

// Index from a matching key (a view of the string the transaction owns) to the transaction.
template <typename Transaction>
using KeyIndex = std::unordered_map<std::string_view, Transaction*>;

}  // namespace

// Ownership: `servers` / `clients` own the live transactions by id; the key indexes point into
// them. A terminated transaction is unlinked at once (so counts drop and a late retransmission
// starts afresh) and parked in a graveyard that a zero-delay timer empties: a transaction is
// never destroyed while one of its own callbacks is running.
struct TransactionLayer::State final : TransactionOwner {
  struct DeadServer {
    std::unique_ptr<ServerTransaction> transaction;
    bool timed_out = false;
  };

  explicit State(TransactionLayer& owner_layer)
      : layer(owner_layer), context{owner_layer.timers_, owner_layer.sender_, owner_layer.config_, *this} {}
  ~State() override { layer.timers_.cancel(reap_timer); }

  void on_terminated(ServerTransaction& transaction, bool timed_out) override;
  void on_terminated(ClientTransaction& transaction) override;
  void schedule_reap();
  void reap();

  void on_request(const SipMessage& request, const PeerAddress& source);
  void on_ack(const SipMessage& ack, const PeerAddress& source);
  void on_cancel(const SipMessage& cancel, const PeerAddress& source);
  void on_response(const SipMessage& response, const PeerAddress& source);
  void drop_wrong_source(const ClientTransaction& transaction, const SipMessage& response, const PeerAddress& source);
  ServerTransaction* find_server(std::string_view key) const;
  ServerTransaction* create_server(const SipMessage& request, const PeerAddress& source);
  void answer_statelessly(const SipMessage& request, int status, std::string_view reason, const PeerAddress& source,
                          const std::vector<Header>& headers = {});
  bool reject_statelessly(ServerTransaction& transaction, const SipMessage& response);
  void refuse_over_capacity(const SipMessage& request, const PeerAddress& source);

  TransactionLayer& layer;
  TransactionContext context;
  std::unordered_map<TransactionId, std::unique_ptr<ServerTransaction>> servers;
  std::unordered_map<TransactionId, std::unique_ptr<ClientTransaction>> clients;
  KeyIndex<ServerTransaction> server_index;
  KeyIndex<ClientTransaction> client_index;
  std::vector<DeadServer> dead_servers;
  std::vector<std::unique_ptr<ClientTransaction>> dead_clients;
  std::vector<DeadServer> reaping_servers;  // spares, so reaping keeps its capacity
  std::vector<std::unique_ptr<ClientTransaction>> reaping_clients;
  TimerQueue::TimerId reap_timer = TimerQueue::kNoTimer;
  std::string scratch;  // the key being looked up
  TransactionId next_id = 1;
  TransactionId answering = 0;  // the transaction whose request the TU is being told of, if any
  TimePoint capacity_logged{};
  TimePoint wrong_source_logged{};
};

void TransactionLayer::State::on_terminated(ServerTransaction& transaction, bool timed_out) {
  auto indexed = server_index.find(transaction.key());
  if (indexed != server_index.end() && indexed->second == &transaction) server_index.erase(indexed);
  auto owned = servers.find(transaction.id());
  if (owned == servers.end()) return;
  dead_servers.push_back(DeadServer{std::move(owned->second), timed_out});
  servers.erase(owned);
  schedule_reap();
}

void TransactionLayer::State::on_terminated(ClientTransaction& transaction) {
  auto indexed = client_index.find(transaction.key());
  if (indexed != client_index.end() && indexed->second == &transaction) client_index.erase(indexed);
  auto owned = clients.find(transaction.id());
  if (owned == clients.end()) return;
  dead_clients.push_back(std::move(owned->second));
  clients.erase(owned);
  schedule_reap();
}

void TransactionLayer::State::schedule_reap() {
  if (reap_timer == TimerQueue::kNoTimer) reap_timer = layer.timers_.schedule(Millis{0}, [this] { reap(); });
}

void TransactionLayer::State::reap() {
  reap_timer = TimerQueue::kNoTimer;
  while (!dead_servers.empty() || !dead_clients.empty()) {
    reaping_servers.swap(dead_servers);
    reaping_clients.swap(dead_clients);
    // The TU may start or end other transactions from here; they land in the emptied vectors.
    for (const DeadServer& dead : reaping_servers) {
      if (!dead.transaction->internal())
        layer.user_.on_server_transaction_ended(dead.transaction->id(), dead.timed_out);
    }
    reaping_servers.clear();
    reaping_clients.clear();
  }
}

ServerTransaction* TransactionLayer::State::find_server(std::string_view key) const {
  auto found = server_index.find(key);
  return found == server_index.end() ? nullptr : found->second;
}

void TransactionLayer::State::answer_statelessly(const SipMessage& request, int status, std::string_view reason,
                                                 const PeerAddress& source, const std::vector<Header>& headers) {
  if (request.method == "ACK") return;  // §17: an ACK is never answered
  SipMessage response = make_response(request, status, random_token(kToTagLength), reason);
  for (const auto& header : headers) response.add_header(header.name, header.value);
  layer.counters_.stateless.fetch_add(1, std::memory_order_relaxed);
  layer.sender_.send_response(response, source);
}

bool TransactionLayer::State::reject_statelessly(ServerTransaction& transaction, const SipMessage& response) {
  // §8.2.7: one response, sent as a stateless UAS would; the transaction never reaches Completed,
  // so there is no Timer G to retransmit it and nothing kept for Timer H or J.
  layer.counters_.stateless.fetch_add(1, std::memory_order_relaxed);
  const bool sent = layer.sender_.send_response(response, transaction.peer());
  on_terminated(transaction, /*timed_out=*/false);
  return sent;
}

void TransactionLayer::State::refuse_over_capacity(const SipMessage& request, const PeerAddress& source) {
  layer.counters_.over_capacity.fetch_add(1, std::memory_order_relaxed);
  const TimePoint now = layer.timers_.now();
  if (now - capacity_logged >= std::chrono::seconds(1)) {  // one line a second during a flood
    capacity_logged = now;
    CHORUS_LOG(kWarn, "security", "sip_transaction_cap", {"source", source.address.to_string()},
               {"max_server_transactions", layer.limits_.max_server_transactions},
               {"refused_total", layer.counters_.over_capacity.load(std::memory_order_relaxed)});
  }
  // RFC 3261 §21.5.4: 503 with Retry-After; no state is created for it.
  answer_statelessly(request, 503, "Service Unavailable", source,
                     {{"Retry-After", std::to_string(layer.limits_.retry_after.count())}});
}

void TransactionLayer::State::on_request(const SipMessage& request, const PeerAddress& source) {
  if (request.vias.empty()) {
    CHORUS_LOG(kDebug, "sip", "request without Via dropped", {"peer", source.to_string()});
    return;
  }
  if (request.method == "ACK") {
    on_ack(request, source);
    return;
  }
  make_server_key(request, request.method, scratch);
  if (ServerTransaction* existing = find_server(scratch)) {
    // A retransmission (§17.2.3).
    if (existing->on_request(request, source) == ServerTransaction::RequestOutcome::kRetransmittedAfter2xx)
      layer.user_.on_invite_retransmitted(existing->id(), request, source);
    return;
  }
  if (request.method == "CANCEL") {
    on_cancel(request, source);
    return;
  }
  if (servers.size() >= layer.limits_.max_server_transactions) {
    refuse_over_capacity(request, source);
    return;
  }
  ServerTransaction* transaction = create_server(request, source);
  const TransactionId id = transaction->id();
  // Only out-of-dialog requests are refused statelessly: an in-dialog one comes from a peer that
  // completed a handshake, and its retransmission must get the same answer, not a CSeq error.
  answering = to_tag_of(request).empty() ? id : 0;
  layer.user_.on_request(id, request, source);
  answering = 0;
  // RFC 3261 §17.2.1: the 100 is there to stop the client's Timer A while the TU works. A TU that
  // answered inside on_request needs none: its final response does that, one datagram fewer.
  if (request.method == "INVITE") {
    auto owned = servers.find(id);
    if (owned != servers.end() && owned->second->awaiting_final() && !owned->second->responded())
      static_cast<ServerInviteTransaction*>(owned->second.get())->start(request);
  }
}

ServerTransaction* TransactionLayer::State::create_server(const SipMessage& request, const PeerAddress& source) {
  // `scratch` holds the new transaction's key.
  const TransactionId id = next_id++;
  std::unique_ptr<ServerTransaction> owned;
  if (request.method == "INVITE") {
    owned = std::make_unique<ServerInviteTransaction>(context, id, source);
  } else {
    owned = std::make_unique<ServerNonInviteTransaction>(context, id, source);
  }
  ServerTransaction* transaction = owned.get();
  transaction->set_key(scratch);
  server_index.emplace(transaction->key(), transaction);
  servers.emplace(id, std::move(owned));
  return transaction;
}

void TransactionLayer::State::on_ack(const SipMessage& ack, const PeerAddress& source) {
  // RFC 3261 §17.2.3: an ACK matches the INVITE transaction it acknowledges.
  const bool legacy = make_server_key(ack, "INVITE", scratch);
  // Only INVITE server transactions are indexed under method INVITE.
  auto* invite = static_cast<ServerInviteTransaction*>(find_server(scratch));
  // §17.2.3 (RFC 2543): the ACK's To tag must also equal that of the response it acknowledges.
  if (invite != nullptr && legacy) {
    const std::string sent_tag = invite->last_response_to_tag();
    if (!sent_tag.empty() && sent_tag != ack.to.tag()) invite = nullptr;
  }
  if (invite != nullptr && invite->on_request(ack, source) == ServerTransaction::RequestOutcome::kAbsorbed) return;
  // §13.3.1.4: the ACK for a 2xx is the TU's business.
  layer.user_.on_ack(ack, source);
}

void TransactionLayer::State::on_cancel(const SipMessage& cancel, const PeerAddress& source) {
  // RFC 3261 §9.2: the CANCEL is answered here. One that matches no INVITE gets 481 statelessly
  // (§8.2.7: nothing kept for a stranger); a matching one gets a transaction of its own, which
  // answers its retransmissions.
  make_server_key(cancel, "INVITE", scratch);
  auto* invite = static_cast<ServerInviteTransaction*>(find_server(scratch));
  if (invite == nullptr) {
    answer_statelessly(cancel, 481, {}, source);
    return;
  }
  make_server_key(cancel, cancel.method, scratch);
  ServerTransaction* own = create_server(cancel, source);
  own->set_internal();
  // §9.2: a matched CANCEL gets 200, with the To tag of the INVITE's response when it had one. It
  // affects only an INVITE still without a final response; the TU then answers that with 487.
  std::string to_tag = invite->last_response_to_tag();
  if (to_tag.empty()) to_tag = random_token(kToTagLength);
  const TransactionId invite_id = invite->id();
  const bool pending = invite->awaiting_final();
  own->respond(make_response(cancel, 200, to_tag));
  if (pending) layer.user_.on_cancel(invite_id, cancel);
}

void TransactionLayer::State::on_response(const SipMessage& response, const PeerAddress& source) {
  if (response.vias.empty()) {
    CHORUS_LOG(kDebug, "sip", "response without Via dropped", {"peer", source.to_string()});
    return;
  }
  const Via& top = response.vias.front();
  make_client_key(branch_of(top), response.cseq.method, scratch);
  auto found = client_index.find(scratch);
  // §17.1.3 matching, and §18.1.2: a top Via sent-by that is not ours means it is not for us.
  if (found == client_index.end() || !found->second->sent_by_matches(top)) {
    layer.user_.on_stray_response(response, source);
    return;
  }
  if (layer.response_source_check_ && !found->second->came_from_destination(source)) {
    drop_wrong_source(*found->second, response, source);
    return;
  }
  found->second->on_response(response);
}

void TransactionLayer::State::drop_wrong_source(const ClientTransaction& transaction, const SipMessage& response,
                                                const PeerAddress& source) {
  const auto dropped = layer.response_counters_.wrong_source.fetch_add(1, std::memory_order_relaxed) + 1;
  const TimePoint now = layer.timers_.now();
  if (now - wrong_source_logged < std::chrono::seconds(1)) return;  // one line a second under a spray
  wrong_source_logged = now;
  CHORUS_LOG(kWarn, "security", "sip_response_wrong_source", {"source", source.address.to_string()},
             {"peer", source.to_string()}, {"expected", transaction.destination().to_string()},
             {"method", response.cseq.method}, {"status", response.status}, {"dropped_total", dropped});
}

TransactionLayer::TransactionLayer(TimerQueue& timers, MessageSender& sender, TransactionUser& user, TimerConfig config,
                                   ServerLimits limits)
    : timers_(timers),
      sender_(sender),
      user_(user),
      config_(config),
      limits_(limits),
      state_(std::make_unique<State>(*this)) {}

TransactionLayer::~TransactionLayer() = default;

void TransactionLayer::on_message(SipMessage message, const PeerAddress& source) {
  if (message.is_request) {
    state_->on_request(message, source);
  } else {
    state_->on_response(message, source);
  }
}

void TransactionLayer::on_bad_message(const ParseError& error, const PeerAddress& source) {
  // RFC 3261 §8.2 and §18.3: an unparseable request gets its error status when the headers a
  // response needs were readable; a bad response is dropped (§18.1.2).
  if (!error.is_request || !error.have_response_headers) {
    CHORUS_LOG(kDebug, "sip", "unanswerable bad message dropped", {"peer", source.to_string()},
               {"reason", error.reason});
    return;
  }
  state_->answer_statelessly(error.partial, error.status, error.reason, source);
}

bool TransactionLayer::respond(TransactionId id, const SipMessage& response) {
  auto found = state_->servers.find(id);
  if (found == state_->servers.end()) return false;
  ServerTransaction& transaction = *found->second;
  // A refusal made at once (from inside on_request, before any provisional) needs no transaction.
  if (limits_.stateless_rejections && id == state_->answering && response.status >= 300 && response.status <= 699 &&
      !transaction.responded())
    return state_->reject_statelessly(transaction, response);
  return transaction.respond(response);
}

TransactionId TransactionLayer::send_request(SipMessage request, const PeerAddress& destination,
                                             ResponseCallback on_response) {
  State& state = *state_;
  const TransactionId id = state.next_id++;
  // The ACK for a 2xx goes through send_stateless(); every other request needs a Via and a CSeq
  // naming its method (§8.1.1.5).
  const bool complete = request.is_request && request.method != "ACK" && complete_typed_fields(request) &&
                        request.cseq.method == request.method;
  const bool is_invite = request.method == "INVITE";
  const bool is_cancel = request.method == "CANCEL";
  std::unique_ptr<ClientTransaction> owned;
  if (is_invite) {
    owned = std::make_unique<ClientInviteTransaction>(state.context, id, std::move(request), destination,
                                                      std::move(on_response));
  } else {
    owned = std::make_unique<ClientNonInviteTransaction>(state.context, id, std::move(request), destination,
                                                         std::move(on_response));
  }
  ClientTransaction* transaction = owned.get();
  state.clients.emplace(id, std::move(owned));
  const std::string_view branch = complete ? branch_of(transaction->request().vias.front()) : std::string_view();
  if (complete) make_client_key(branch, transaction->request().cseq.method, state.scratch);
  if (branch.empty() || state.client_index.contains(state.scratch)) {
    // A TU error: without a fresh branch no response could be matched (§17.1.3).
    CHORUS_LOG(kError, "sip", "request not sendable: needs a Via with a fresh branch and a CSeq",
               {"method", transaction->request().method});
    transaction->report_transport_failure_later();
    return id;
  }
  transaction->set_key(state.scratch);
  state.client_index.emplace(transaction->key(), transaction);
  transaction->start();
  if (is_cancel) {
    // RFC 3261 §9.1: the CANCEL carries the INVITE's branch; the INVITE now waits at most 64*T1.
    make_client_key(branch, "INVITE", state.scratch);
    auto invite = state.client_index.find(state.scratch);
    if (invite != state.client_index.end()) static_cast<ClientInviteTransaction*>(invite->second)->on_cancel_sent();
  }
  return id;
}

bool TransactionLayer::send_stateless(const SipMessage& message, const PeerAddress& destination) {
  return message.is_request ? sender_.send_request(message, destination) : sender_.send_response(message, destination);
}

bool TransactionLayer::send_response_stateless(const SipMessage& response, const PeerAddress& source) {
  return sender_.send_response(response, source);
}

std::size_t TransactionLayer::server_count() const {
  return state_->servers.size();
}

std::size_t TransactionLayer::client_count() const {
  return state_->clients.size();
}

std::size_t TransactionLayer::clients_awaiting_final() const {
  std::size_t n = 0;
  for (const auto& [id, client] : state_->clients)
    if (!client->final_seen()) ++n;
  return n;
}

std::string TransactionLayer::new_branch() {
  std::string branch(kMagicCookie);
  branch += random_token(kBranchRandomLength);
  return branch;
}

}  // namespace chorus::sip
