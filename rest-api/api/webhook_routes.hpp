// Webhooks, for the admin token only:
//   POST   /v1/webhooks                   {url, event_types[], secret?} → 201 {id, url, event_types,
//                                         created_at, secret}; without `secret` one is generated
//                                         ("whsec_" + base64 of 32 random bytes); it is shown only
//                                         in this answer
//   GET    /v1/webhooks                   {"items": [...], "next_page_token": id | null}
//   GET    /v1/webhooks/{id}              {id, url, event_types, created_at} (no secret)
//   DELETE /v1/webhooks/{id}              204, with its delivery log
//   GET    /v1/webhooks/{id}/deliveries   one row per (webhook, event): {id, webhook_id, event_id,
//                                         attempt, status, http_status, error, at}, oldest first
// 422 (validation): a URL parse_webhook_url refuses (http:// to an IP literal or localhost only —
// no DNS on the delivery path), event types that are neither known (event_type::kAll) nor "*",
// a secret that is not base64 (after an optional "whsec_"). 409 beyond kMaxWebhooks. 403
// problem+json (type egress-refused, issue 12): the URL's address is private (RFC 1918, RFC 6598),
// loopback, link-local, unique-local, unspecified or multicast and ApiServices::webhook_policy
// does not allow it.
// A create or delete reloads the WebhookFanout's cached list.
//
// Threading: add before serving; the handlers run on the control loop (the store, the fan-out).
#pragma once

#include <cstddef>

#include "rest-api/api/api_services.hpp"
#include "rest-api/api/webhook_fanout.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

// Each event is signed and sent once per webhook that wants it: the count bounds that work.
inline constexpr std::size_t kMaxWebhooks = 100;
inline constexpr std::size_t kMaxWebhookUrlLength = 2048;
inline constexpr std::size_t kMaxWebhookSecretLength = 256;

// `fanout` outlives the router.
void add_webhook_routes(Router& router, ApiServices& services, WebhookFanout& fanout);

}  // namespace chorus::rest
