// The events a participant's life publishes (participant.joined, .left, .muted, ..., and
// conference.started/ended, which name the room): one JSON shape for all of them (REST event stream
// and webhooks, rest-api/README.md).
// Threading: control loop.
#pragma once

#include <string_view>

#include "conference/events/event_log.hpp"
#include "conference/participant.hpp"

namespace chorus::conference {

// Publishes `type` about `participant` on `events` (nothing when it is null).
void publish_participant_event(EventLog* events, std::string_view type, const Participant& participant,
                               std::string_view reason = {});

}  // namespace chorus::conference
