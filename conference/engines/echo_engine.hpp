// EchoEngine: the echo-test room's engine (room mode `echo`, dial-in 9196): every stream a caller
// sends comes back to it through media::EchoSink (our SSRC, continuous sequence numbers, re-encrypted).
// Nothing is shared between participants, so there is no state to keep.
// Threading: control loop; the sinks run on the participant's worker.
#pragma once

#include "conference/engines/media_engine.hpp"

namespace chorus::conference {

class EchoEngine final : public MediaEngine {
 public:
  [[nodiscard]] std::string_view name() const override { return "echo"; }
  media::SinkFactory attach(const EngineMember& member, const EngineStream& stream) override;
  void detach(std::uint64_t /*participant_id*/) override {}
};

}  // namespace chorus::conference
