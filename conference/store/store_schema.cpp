#include "conference/store/store_schema.hpp"

namespace chorus::conference {
namespace {

// v2: a room can hold its guests until a moderator joins (issue 4).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE rooms ADD COLUMN wait_for_moderator INTEGER NOT NULL DEFAULT 0;
)sql";

// v3: one room mode says which engine serves a room (issue 10). The echo room's separate `engine`
// column becomes mode 'echo'. Rooms stored as 'mcu' become 'sfu', the new default: before v3 the mode
// was accepted and ignored (every room got the audio bridge and no video), and 'mcu' was simply the
// value every room received unasked, so no stored 'mcu' records a choice this could overturn.
constexpr const char* kSchemaV3 = R"sql(
UPDATE rooms SET mode = 'echo' WHERE engine = 'echo';
UPDATE rooms SET mode = 'sfu' WHERE mode = 'mcu';
ALTER TABLE rooms DROP COLUMN engine;
)sql";

// v4: what a SIP endpoint's video shows in an sfu room (issue 11). Existing rooms keep what they
// showed before the setting existed: the voice-switched speaker.
constexpr const char* kSchemaV4 = R"sql(
ALTER TABLE rooms ADD COLUMN sip_video TEXT NOT NULL DEFAULT 'speaker';
)sql";

constexpr Migration kPortable[] = {
    {2, kSchemaV2},
    {3, kSchemaV3},
    {4, kSchemaV4},
};

}  // namespace

std::span<const Migration> portable_migrations() {
  return kPortable;
}

std::vector<Migration> schema_history(Migration first) {
  std::vector<Migration> history{first};
  for (const Migration& migration : portable_migrations()) history.push_back(migration);
  return history;
}

std::string newer_schema_message(int found, int known) {
  return "database schema version " + std::to_string(found) + " is newer than this build's " + std::to_string(known);
}

}  // namespace chorus::conference
