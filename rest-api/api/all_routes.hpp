// The whole route table of chorusd's REST API, in one place: the server registers exactly this,
// and the OpenAPI test checks the document against exactly this.
#pragma once

#include "rest-api/api/api_services.hpp"
#include "rest-api/api/web_routes.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

class WebhookFanout;

void add_all_routes(Router& router, ApiServices& services, WebhookFanout& fanout, const WebRoutesConfig& web);

}  // namespace chorus::rest
