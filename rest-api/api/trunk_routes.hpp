// SIP trunks (issue 15), scope system:admin (a trunk's credentials reach a provider's account):
//   POST   /v1/trunks        trunk_json.hpp's body → 201 + Location + ETag; 409 beyond kMaxTrunks or
//                            when the name is taken
//   GET    /v1/trunks        {"items": [...], "next_page_token"}
//   GET    /v1/trunks/{id}   the trunk, with its registration's live status
//   PATCH  /v1/trunks/{id}   RFC 7396 merge patch, If-Match required (428/412)
//   DELETE /v1/trunks/{id}   204 (If-Match honoured); its registration is withdrawn (Expires: 0)
// Passwords are write-only (`password_set`); answers are Cache-Control: no-store all the same.
// 422 (validation) names each bad field; 404 for an unknown id. A write goes to the store first,
// then to the TrunkDirectory (ApiServices::trunks), whose listener applies it live.
//
// Threading: add before serving; the handlers run on the control loop.
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

void add_trunk_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
