#include "conference/store/postgres_codec.hpp"

namespace chorus::conference::pg {

StoreError to_store_error(const PgError& error, std::string_view what) {
  StoreErrorKind kind = StoreErrorKind::kIo;
  if (error.sqlstate == "23505") kind = StoreErrorKind::kConflict;
  if (error.sqlstate == "23503") kind = StoreErrorKind::kNotFound;
  return StoreError{kind, std::string(what) + ": " + error.message};
}

}  // namespace chorus::conference::pg
