// Dialog: the peer-to-peer SIP relationship of RFC 3261 §12, as seen by one side.
//
// Identified by Call-ID, local tag and remote tag (§12). Holds the sequence numbers, the route set
// and the remote target, and builds in-dialog requests (§12.2.1.1). The UAS side is created from the
// INVITE (§12.1.1), the UAC side from the request we sent and the 2xx we got (§12.1.2).
// Threading: control loop only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "signaling/message/sip_message.hpp"
#include "signaling/transaction/transaction_key.hpp"  // random_token for tags (§19.3)
#include "signaling/transport/peer_address.hpp"

namespace chorus::sip {

struct DialogId {
  std::string call_id;
  std::string local_tag;
  std::string remote_tag;

  // One string key for hash maps.
  [[nodiscard]] std::string key() const { return call_id + '\n' + local_tag + '\n' + remote_tag; }
  // The key of the dialog an incoming request belongs to: its To tag is ours (§12.2.2).
  static std::string key_for_incoming(const SipMessage& request);
  // The key of the dialog an incoming response belongs to: its From tag is ours.
  static std::string key_for_response(const SipMessage& response);
};

enum class DialogRole : std::uint8_t { kUas, kUac };

class Dialog {
 public:
  // §12.1.1: the UAS builds the dialog from the request and the tag it puts into To.
  static Dialog from_request(const SipMessage& request, std::string local_tag, const PeerAddress& source);
  // §12.1.2: the UAC builds the dialog from the INVITE it sent (typed fields filled) and the 2xx
  // (dialog_uac.cpp). `destination` is where the INVITE went: the flow of the dialog.
  static Dialog from_response(const SipMessage& invite, const SipMessage& response, const PeerAddress& destination);

  [[nodiscard]] const DialogId& id() const { return id_; }
  [[nodiscard]] DialogRole role() const { return role_; }
  [[nodiscard]] const PeerAddress& flow() const { return flow_; }

  // §12.2.2: a request with a CSeq lower than the last one is out of order (answered 500);
  // otherwise the remote sequence moves on. Requests with no remote sequence yet are accepted.
  bool accept_remote_cseq(std::uint32_t cseq);
  // §12.2: a target refresh request (re-INVITE, UPDATE) replaces the remote target with its Contact.
  void refresh_remote_target(const SipMessage& request);

  // §12.2.1.1: an in-dialog request with the next local CSeq, Route set and remote target.
  // `contact` is our Contact header value; the caller adds Via before sending.
  [[nodiscard]] SipMessage make_request(std::string_view method, std::string_view contact);
  // §13.2.2.4: the ACK for a 2xx to an INVITE we sent with CSeq `invite_cseq`.
  [[nodiscard]] SipMessage make_ack(std::uint32_t invite_cseq, std::string_view contact) const;

  // Where in-dialog requests go: the first route or the remote target when it is an IP literal,
  // else the flow the dialog arrived on (for stream transports always that connection: a phone
  // behind NAT, or on TCP/TLS, cannot be reached any other way — the RFC 5626 flow idea).
  [[nodiscard]] PeerAddress next_hop() const;

  [[nodiscard]] const std::string& remote_target() const { return remote_target_; }
  [[nodiscard]] const std::vector<std::string>& route_set() const { return route_set_; }
  [[nodiscard]] std::uint32_t local_cseq() const { return local_cseq_; }

 private:
  DialogId id_;
  DialogRole role_ = DialogRole::kUas;
  std::string local_uri_;   // From of our requests (the To of the INVITE, without tag)
  std::string remote_uri_;  // To of our requests (the From of the INVITE, without tag)
  std::string remote_target_;
  std::vector<std::string> route_set_;  // Record-Route values, in order for the UAS (§12.1.1)
  std::uint32_t local_cseq_ = 0;
  std::optional<std::uint32_t> remote_cseq_;
  PeerAddress flow_;
};

// Resolves a SIP URI to an address when its host is an IP literal; `fallback_kind` when the URI
// names no transport. Hostnames are not resolved (no DNS on the signalling path).
std::optional<PeerAddress> address_of_uri(const SipUri& uri, TransportKind fallback_kind);

}  // namespace chorus::sip
