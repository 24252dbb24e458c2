#include "conference/engines/echo_engine.hpp"

#include "media/echo/echo_sink.hpp"

namespace chorus::conference {

media::SinkFactory EchoEngine::attach(const EngineMember&, const EngineStream& stream) {
  if (!stream.negotiated.accepted) return {};
  return [] { return std::make_unique<media::EchoSink>(); };
}

}  // namespace chorus::conference
