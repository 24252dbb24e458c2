// Participant: one call in a room as the conference domain sees it — the caller's details, its
// negotiated streams, their port leases and media sessions, and the bridge state (PIN entry,
// moderator, mute). ParticipantTable holds the participants who have joined a room (answered and
// counted against its capacity); callers held in early media or being dialled are kept apart by
// ConferenceService until they join.
// Threading: control loop only; other threads name a participant by id (DESIGN §5).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "conference/engines/media_engine.hpp"
#include "conference/ivr/keypad_controls.hpp"
#include "conference/ivr/pin_entry.hpp"
#include "conference/media_layout.hpp"
#include "conference/media_security.hpp"
#include "media/udp_port_pool.hpp"
#include "media/worker/media_worker.hpp"
#include "signaling/sdp/offer_answer.hpp"
#include "signaling/sdp/session_description.hpp"
#include "signaling/ua/call_listener.hpp"

namespace chorus::conference {

// One transport's media session (one accepted section, or the sections a BUNDLE group shares), run
// by the participant's media worker.
struct ParticipantStream {
  std::uint64_t session_id = 0;
  StreamTransport security;
  std::vector<std::size_t> sections;  // indices into the accepted sections it carries, tagged first
};

struct Participant {
  std::uint64_t id = 0;
  sip::CallHandle call = 0;
  std::string room_id;
  std::string call_id;  // SIP Call-ID, for logs
  std::string from_uri;
  std::string display_name;
  std::string user_agent;
  // The address its INVITE came from (no port): what PIN guesses are counted against.
  std::string source_ip;
  // Where its INVITE came from (issue 12: an SDP naming this IP is proven; loopback media only for
  // a loopback caller); nullopt for a callee we dialled.
  std::optional<boost::asio::ip::address> signaling_source;
  // Issue 12: the signaling source is proven to receive what we send it — the INVITE came over a
  // connection (TCP, TLS, WebSocket: the handshake proves the address), or over UDP its caller ACKed
  // our 2xx (which a spoofer of the source never sees). Until then an SDP naming that IP is not proven
  // by it (media waits for the latch), except an early-media call's prompt (bounded by the UA's
  // early-media timeout).
  bool signaling_verified = false;
  std::chrono::system_clock::time_point joined_at;
  // One RTP/RTCP pair per transport, shared with the media session that reads it: the pair goes back
  // to the pool when both have let go (MediaSessionSpec::sockets_owner).
  std::vector<std::shared_ptr<media::PortLease>> ports;
  std::vector<sdp::NegotiatedStream> streams;
  std::vector<ParticipantStream> media;  // one per transport, in the order of `ports`
  std::vector<SectionSources> sources;   // what we send in each accepted section (media_layout.hpp)
  std::string cname;                     // RFC 7022: our RTCP CNAME towards this participant
  // RFC 6086: its INVITE said Recv-Info: chorus-video-slots (the slot map is sent to it by INFO).
  bool receives_slot_info = false;
  std::uint64_t slot_info_version = 0;  // of the last slot map sent to it
  // The worker serving the room, once the participant has media. A control-loop handle: we
  // only post to it, and name sessions by id.
  media::MediaWorker* worker = nullptr;
  // RFC 3264 §5 / RFC 8866 §5.2: o= session id fixed per call, version bumped per new description.
  std::uint64_t sdp_session_id = 0;
  std::uint64_t sdp_version = 0;
  std::optional<sdp::SessionDescription> our_pending_offer;  // sent in a 2xx, answer due in the ACK
  std::optional<sdp::SessionDescription> current_local;      // the last description we sent
  // Audio bridge (conference/audio_bridge.cpp).
  bool in_audio_room = false;  // its audio stream is a member of the room's audio MCU
  bool admitted = true;        // false while it enters the PIN (held: hears prompts only)
  bool moderator = false;      // entered the moderator PIN
  bool muted = false;          // server-side mute asked for by itself (*6) or the API
  double gain_db = 0.0;        // input gain set by the API (what it contributes to the mix)
  bool talking = false;        // as the mixer last reported
  bool leaving = false;        // the goodbye prompt plays; BYE when it ends
  bool waiting = false;        // a guest past its PIN, held until a moderator joins (Room::wait_for_moderator)
  bool early = false;          // outside the meeting window: hears "not started" over early media, then 480
  std::optional<PinEntry> pin;
  std::uint64_t pin_timer = 0;  // its PIN entry timeout on the control loop's TimerQueue (0: none)
  KeypadControls keypad{false};
};

// What an engine is told about `participant` (its audio heard as `muted` by the others).
EngineMember engine_member(const Participant& participant, bool muted);

class ParticipantTable {
 public:
  // Adds a participant who joined; it counts against its room from now on. Returns the stored one.
  Participant& add(Participant participant);
  // Removes the participant of `call` and hands it back (its port leases go when it is dropped).
  std::optional<Participant> extract(sip::CallHandle call);

  [[nodiscard]] Participant* find(sip::CallHandle call);
  [[nodiscard]] const Participant* find(sip::CallHandle call) const;
  [[nodiscard]] Participant* find_by_id(std::uint64_t participant_id);
  [[nodiscard]] const Participant* find_by_id(std::uint64_t participant_id) const;
  // The room's participants in joined order (by id).
  [[nodiscard]] std::vector<const Participant*> in_room(std::string_view room_id) const;
  [[nodiscard]] std::vector<Participant*> in_room(std::string_view room_id);
  // Whether one of the room's participants satisfies `predicate` (in joined order, stopping at the
  // first): what a join asks of a full room, without listing it.
  template <typename Predicate>
  [[nodiscard]] bool any_in_room(std::string_view room_id, Predicate predicate) const {
    auto room = rooms_.find(room_id);
    if (room == rooms_.end()) return false;
    for (const auto& [id, participant] : room->second)
      if (predicate(static_cast<const Participant&>(*participant))) return true;
    return false;
  }

  [[nodiscard]] std::size_t count() const { return by_call_.size(); }
  [[nodiscard]] std::size_t count_in(std::string_view room_id) const;
  // The rooms that have participants now: the live conferences.
  [[nodiscard]] std::vector<std::string> active_rooms() const;

 private:
  void unindex(const Participant& participant);

  // The participants, and two indexes into them (unordered_map keeps its elements in place).
  // Issue 13: a join asked for its room's participants (who else is here), and with one list of
  // every participant that cost a scan and a sort of all calls per join: a third of the control
  // loop at 5,000 joins/s into room 1000.
  std::unordered_map<sip::CallHandle, Participant> by_call_;
  std::unordered_map<std::uint64_t, Participant*> by_id_;
  // Each room's participants by id (the order they joined); a room is here while it has any.
  std::map<std::string, std::map<std::uint64_t, Participant*>, std::less<>> rooms_;
};

}  // namespace chorus::conference
