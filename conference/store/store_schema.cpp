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

// v5: SIP trunks (issue 15). Written once for both dialects: BIGINT is SQLite's INTEGER and
// PostgreSQL's int8; ids have no COLLATE "C" (SQLite knows no such collation), so PostgreSQL's
// trunk queries compare and order ids with COLLATE "C" themselves. Passwords have their own
// columns (never in the JSON ones); the database file is the protection (0600, or PostgreSQL's
// own access control), as for webhook secrets.
constexpr const char* kSchemaV5 = R"sql(
CREATE TABLE trunks (
  id                        TEXT PRIMARY KEY NOT NULL,
  name                      TEXT NOT NULL UNIQUE,
  targets_json              TEXT NOT NULL,
  registration_json         TEXT,  -- NULL: no outbound registration
  registration_password     TEXT NOT NULL,
  outbound_username         TEXT,  -- NULL: no dial-out credentials
  outbound_password         TEXT NOT NULL,
  inbound_ranges_json       TEXT NOT NULL,
  inbound_from_registration INTEGER NOT NULL,
  country_code              TEXT NOT NULL,
  national_prefix           TEXT NOT NULL,
  international_prefix      TEXT NOT NULL,
  caller_id                 TEXT NOT NULL,
  created_at_us             BIGINT NOT NULL,
  updated_at_us             BIGINT NOT NULL,
  version                   BIGINT NOT NULL
);
)sql";

constexpr Migration kPortable[] = {
    {2, kSchemaV2},
    {3, kSchemaV3},
    {4, kSchemaV4},
    {5, kSchemaV5},
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
