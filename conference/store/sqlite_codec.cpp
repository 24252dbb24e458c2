#include "conference/store/sqlite_codec.hpp"

#include <sqlite3.h>

#include <string>

namespace chorus::conference::sqlite {

StoreError to_store_error(const SqliteError& error, std::string_view what) {
  StoreErrorKind kind = StoreErrorKind::kIo;
  switch (error.code) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
      kind = StoreErrorKind::kConflict;
      break;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      kind = StoreErrorKind::kNotFound;
      break;
    default:
      break;
  }
  return StoreError{kind, std::string(what) + ": " + error.message};
}

}  // namespace chorus::conference::sqlite
