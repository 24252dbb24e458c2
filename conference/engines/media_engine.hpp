// MediaEngine: what serves a room's media, as the conference domain drives it (DESIGN §3, §7).
// A participant's accepted streams are attached one by one: the engine that takes a stream gives the
// sink its media session delivers to on the room's worker; when the participant leaves (or its
// streams are replaced) the engine lets go of everything it had for it. Which engine takes which
// stream is the conference's decision (the room's mode, the stream's media type): every room's
// audio goes to the audio MCU, video to the SFU or the video MCU, everything to the echo engine in
// the echo-test room.
// Engines report what happens inside them (digits, talking, prompts played out, the video slots a
// receiver sees) through an EngineListener, always on the control loop: an engine whose work runs
// on a media worker posts its events there itself.
// Threading: the interface is called on the control loop only; sinks run on the room's worker.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "media/worker/media_worker.hpp"
#include "signaling/sdp/offer_answer.hpp"

namespace chorus::conference {

// The participant an engine serves, as a value: engines keep ids, never pointers to the domain.
struct EngineMember {
  std::uint64_t participant_id = 0;
  std::string room_id;
  std::string display_name;
  media::MediaWorker* worker = nullptr;  // the room's worker, where the sinks run
  bool admitted = true;                  // false while held (PIN entry, waiting, early media)
  bool muted = false;                    // what the others hear of its audio
  double gain_db = 0.0;                  // its audio's input gain
};

// One accepted stream of a participant, as an engine is given it: what was negotiated, and what we
// send in it (our SSRCs, announced in our SDP).
struct EngineStream {
  const sdp::NegotiatedStream& negotiated;
  std::uint32_t local_ssrc = 0;      // RFC 3550 §8: what we send from in this section
  std::uint32_t local_rtx_ssrc = 0;  // RFC 4588 retransmissions (video we send); 0: none
  std::size_t send_order = 0;        // among the participant's video sections we send in (its slots)
  // In an sfu room: this section carries the room's composite (the video MCU's), not an SFU slot
  // (a SIP endpoint's one video section when the room's sip_video is composite).
  bool composite = false;
};

class MediaEngine {
 public:
  virtual ~MediaEngine() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The sink for one accepted stream of `member`, whose session is about to start on the member's
  // worker; an empty factory when this engine does not take such a stream.
  virtual media::SinkFactory attach(const EngineMember& member, const EngineStream& stream) = 0;
  // The participant's sessions are going away: drop everything held for it. Idempotent.
  virtual void detach(std::uint64_t participant_id) = 0;
};

// What engines report, on the control loop. The participant may have left meanwhile: look it up by
// id and ignore the event when it is gone.
class EngineListener {
 public:
  virtual ~EngineListener() = default;
  virtual void on_dtmf(std::uint64_t participant_id, char digit) = 0;  // RFC 4733 key press
  virtual void on_talking(std::uint64_t participant_id, bool talking) = 0;
  virtual void on_prompt_done(std::uint64_t participant_id, std::uint64_t token) = 0;
};

// Runs work on the control loop (the server wires boost::asio::post to it).
using PostToControl = std::function<void(std::function<void()>)>;

}  // namespace chorus::conference
