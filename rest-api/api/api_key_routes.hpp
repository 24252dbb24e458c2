// API keys, for the admin token only (the README's Auth section):
//   POST   /v1/api-keys        {name, scopes[]} → 201 {id, name, scopes, created_at, token}; the
//                              token ("chorus_" + 43 base64url characters) is shown this once —
//                              the store keeps only hash_token(token)
//   GET    /v1/api-keys        {"items": [...], "next_page_token": id | null}; limit/page_token
//   GET    /v1/api-keys/{id}   {id, name, scopes, created_at} (never the token or its hash)
//   DELETE /v1/api-keys/{id}   204; the key stops authenticating at once (ApiServices::key_cache,
//                              when set, is cleared before the 204)
// 422 (validation) for an empty or missing name or an unknown scope; scopes are stored once each,
// in the order scope_name() lists them.
//
// StoreApiKeyLookup is how the Authenticator finds a presented key: by hash, in the store.
//
// Threading: add before serving; the handlers, and StoreApiKeyLookup (through the Authenticator
// the Router calls), run on the control loop, which owns the store.
#pragma once

#include <optional>
#include <string>

#include "conference/store/store.hpp"
#include "rest-api/api/api_services.hpp"
#include "rest-api/auth.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxApiKeyNameLength = 200;

void add_api_key_routes(Router& router, ApiServices& services);

class StoreApiKeyLookup final : public ApiKeyLookup {
 public:
  explicit StoreApiKeyLookup(conference::Store& store) : store_(store) {}

  // nullopt for an unknown hash, and when the store fails (logged): the caller gets 401, never a
  // principal that was not checked. Stored scope names this build does not know are skipped.
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override;

 private:
  conference::Store& store_;
};

}  // namespace chorus::rest
