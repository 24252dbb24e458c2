#include "conference/participant_events.hpp"

namespace chorus::conference {

void publish_participant_event(EventLog* events, std::string_view type, const Participant& participant,
                               std::string_view reason) {
  if (!events) return;
  nlohmann::json data{{"conference_id", participant.room_id}, {"room_id", participant.room_id}};
  if (type.starts_with("participant.")) {
    data["participant_id"] = participant.id;
    data["call_id"] = participant.call_id;
    data["caller_id"] = participant.from_uri;
    data["display_name"] = participant.display_name;
  }
  if (!reason.empty()) data["reason"] = std::string(reason);
  events->publish(type, std::move(data));
}

}  // namespace chorus::conference
