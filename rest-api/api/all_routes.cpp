#include "rest-api/api/all_routes.hpp"

#include "rest-api/api/api_key_routes.hpp"
#include "rest-api/api/conference_routes.hpp"
#include "rest-api/api/dial_out_route.hpp"
#include "rest-api/api/event_routes.hpp"
#include "rest-api/api/meeting_routes.hpp"
#include "rest-api/api/message_routes.hpp"
#include "rest-api/api/openapi_routes.hpp"
#include "rest-api/api/recording_routes.hpp"
#include "rest-api/api/room_routes.hpp"
#include "rest-api/api/system_routes.hpp"
#include "rest-api/api/trunk_routes.hpp"
#include "rest-api/api/web_routes.hpp"
#include "rest-api/api/webhook_routes.hpp"

namespace chorus::rest {

void add_all_routes(Router& router, ApiServices& services, WebhookFanout& fanout, const WebRoutesConfig& web) {
  add_system_routes(router, services);
  add_room_routes(router, services);
  add_meeting_routes(router, services);
  add_conference_routes(router, services);
  add_recording_routes(router, services);
  add_dial_out_route(router, services);
  add_message_routes(router, services);
  add_event_routes(router, services);
  add_api_key_routes(router, services);
  add_webhook_routes(router, services, fanout);
  add_trunk_routes(router, services);
  add_web_routes(router, web);
  add_openapi_routes(router);
}

}  // namespace chorus::rest
