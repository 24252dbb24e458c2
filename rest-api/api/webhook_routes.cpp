#include "rest-api/api/webhook_routes.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "conference/events/bounded_text.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/problem.hpp"
#include "rest-api/webhooks/webhook_dispatcher.hpp"
#include "rest-api/webhooks/webhook_signature.hpp"

namespace chorus::rest {

namespace {

namespace http = boost::beast::http;
using conference::Webhook;
using conference::WebhookDelivery;

constexpr std::string_view kWebhookIdPrefix = "wh_";
constexpr std::string_view kAllTypes = "*";

nlohmann::json webhook_json(const Webhook& webhook) {
  return {{"id", webhook.id},
          {"url", webhook.url},
          {"event_types", webhook.event_types},
          {"created_at", format_rfc3339(webhook.created_at)}};
}

std::string_view status_name(conference::DeliveryStatus status) {
  switch (status) {
    case conference::DeliveryStatus::kPending:
      return "pending";
    case conference::DeliveryStatus::kDelivered:
      return "delivered";
    case conference::DeliveryStatus::kFailed:
      return "failed";
  }
  return "failed";
}

nlohmann::json delivery_json(const WebhookDelivery& delivery) {
  // The recorder stores event ids in decimal; they are numbers in event bodies too.
  std::uint64_t event_id = 0;
  const auto* end = delivery.event_id.data() + delivery.event_id.size();
  const bool numeric = std::from_chars(delivery.event_id.data(), end, event_id).ptr == end;
  return {{"id", delivery.id},
          {"webhook_id", delivery.webhook_id},
          {"event_id", numeric ? nlohmann::json(event_id) : nlohmann::json(delivery.event_id)},
          {"attempt", delivery.attempt},
          {"status", status_name(delivery.status)},
          {"http_status", delivery.http_status ? nlohmann::json(*delivery.http_status) : nlohmann::json(nullptr)},
          {"error", delivery.error},
          {"at", format_rfc3339(delivery.at)}};
}

void check_url(const nlohmann::json& body, Webhook& webhook, std::vector<FieldError>& errors) {
  const auto url = body.find("url");
  if (url == body.end() || !url->is_string()) {
    errors.push_back({"/url", "url is required: a string"});
    return;
  }
  const auto& text = url->get_ref<const std::string&>();
  if (text.size() > kMaxWebhookUrlLength) {
    errors.push_back({"/url", "url is longer than " + std::to_string(kMaxWebhookUrlLength) + " bytes"});
    return;
  }
  if (auto parsed = parse_webhook_url(text); !parsed) {
    errors.push_back({"/url", parsed.error()});
    return;
  }
  webhook.url = text;
}

void check_event_types(const nlohmann::json& body, Webhook& webhook, std::vector<FieldError>& errors) {
  const auto types = body.find("event_types");
  if (types == body.end() || !types->is_array() || types->empty()) {
    errors.push_back({"/event_types", "event_types is required: a non-empty array of event types or \"*\""});
    return;
  }
  for (std::size_t i = 0; i < types->size(); ++i) {
    const auto& item = (*types)[i];
    if (!item.is_string() || (item.get_ref<const std::string&>() != kAllTypes &&
                              !conference::event_type::is_known(item.get<std::string>()))) {
      errors.push_back({"/event_types/" + std::to_string(i), "unknown event type"});
      continue;
    }
    if (std::ranges::find(webhook.event_types, item.get<std::string>()) == webhook.event_types.end()) {
      webhook.event_types.push_back(item.get<std::string>());
    }
  }
}

void check_secret(const nlohmann::json& body, Webhook& webhook, std::vector<FieldError>& errors) {
  const auto secret = body.find("secret");
  if (secret == body.end() || secret->is_null()) {
    webhook.secret = generate_webhook_secret();
    return;
  }
  if (!secret->is_string() || secret->get_ref<const std::string&>().size() > kMaxWebhookSecretLength ||
      !decode_webhook_secret(secret->get_ref<const std::string&>())) {
    errors.push_back({"/secret", "secret must be \"whsec_\" followed by base64 (24 to 64 bytes recommended)"});
    return;
  }
  webhook.secret = secret->get<std::string>();
}

// Issue 12: a webhook makes the server connect where the admin says; a private, loopback or
// link-local address is refused unless the operator allowed it (the dispatcher checks again before
// each attempt). parse_webhook_url accepts IP literals and "localhost" only, so there is no name
// to resolve — and none to rebind.
std::optional<std::string> refused_target(const ApiServices& services, const std::string& url) {
  auto parsed = parse_webhook_url(url);
  if (!parsed) return parsed.error();
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(parsed->address, ec);
  if (ec) return "the webhook URL's address does not parse";
  return services.webhook_policy.refuse(address);
}

HttpResponse create_webhook(ApiServices& services, WebhookFanout& fanout, const RequestContext& context) {
  auto body = parse_json_body(context);
  if (!body) return std::move(body.error());
  if (!body->is_object()) return validation_failed({{"", "the body must be a JSON object"}});
  Webhook webhook;
  std::vector<FieldError> errors;
  check_url(*body, webhook, errors);
  check_event_types(*body, webhook, errors);
  check_secret(*body, webhook, errors);
  if (!errors.empty()) return validation_failed(std::move(errors));
  if (auto refused = refused_target(services, webhook.url)) {
    CHORUS_LOG(kWarn, "security", "webhook_refused", {"url", conference::bounded_text(webhook.url)},
               {"reason", *refused});
    return problem_response(Problem{.status = http::status::forbidden,
                                    .slug = kProblemEgressRefused,
                                    .title = "Target refused by the egress policy",
                                    .detail = *refused,
                                    .instance = {},
                                    .errors = {{"/url", *refused}}});
  }
  if (fanout.webhook_count() >= kMaxWebhooks) {
    return conflict("at most " + std::to_string(kMaxWebhooks) + " webhooks; delete one first");
  }
  webhook.id = generate_id(kWebhookIdPrefix);
  webhook.created_at = services.now();
  if (auto created = services.store.create_webhook(webhook); !created) {
    return store_error_response(created.error(), "the webhook");
  }
  if (auto reloaded = fanout.reload(); !reloaded) {
    CHORUS_LOG(kError, "webhooks", "could not reload webhooks", {"error", reloaded.error().message});
  }
  CHORUS_LOG(kInfo, "rest", "webhook created", {"webhook_id", webhook.id}, {"url", webhook.url});
  nlohmann::json out = webhook_json(webhook);
  out["secret"] = webhook.secret;  // shown once: GET never returns it
  auto response = HttpResponse::json(http::status::created, out);
  response.message.set(http::field::location, "/v1/webhooks/" + webhook.id);
  response.message.set(http::field::cache_control, "no-store");  // RFC 9111 §5.2.2.5: it holds a secret
  return response;
}

HttpResponse list_webhooks(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  auto webhooks = services.store.list_webhooks(page->after_id, page->limit + 1);  // one more: is there a next page?
  if (!webhooks) return store_error_response(webhooks.error(), "the webhooks");
  return HttpResponse::json(http::status::ok, page_body(*webhooks, page->limit,
                                                        [](const Webhook& webhook) { return webhook_json(webhook); }));
}

HttpResponse delete_webhook(ApiServices& services, WebhookFanout& fanout, const RequestContext& context) {
  const auto id = context.param("id");
  if (auto deleted = services.store.delete_webhook(id); !deleted) {
    return store_error_response(deleted.error(), "the webhook");
  }
  if (auto reloaded = fanout.reload(); !reloaded) {
    CHORUS_LOG(kError, "webhooks", "could not reload webhooks", {"error", reloaded.error().message});
  }
  CHORUS_LOG(kInfo, "rest", "webhook deleted", {"webhook_id", id});
  return HttpResponse::empty(http::status::no_content);
}

HttpResponse list_deliveries(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  std::int64_t after = 0;
  if (!page->after_id.empty()) {
    const auto* end = page->after_id.data() + page->after_id.size();
    const auto [next, error] = std::from_chars(page->after_id.data(), end, after);
    if (error != std::errc{} || next != end || after < 0) {
      return bad_request("page_token is not one this API returned", {{"page_token", "not a delivery cursor"}});
    }
  }
  const auto id = context.param("id");
  if (auto webhook = services.store.get_webhook(id); !webhook) {
    return store_error_response(webhook.error(), "the webhook");
  }
  auto deliveries = services.store.list_deliveries(id, after, page->limit + 1);
  if (!deliveries) return store_error_response(deliveries.error(), "the deliveries");
  nlohmann::json out{{"items", nlohmann::json::array()}, {"next_page_token", nullptr}};
  const bool more = deliveries->size() > page->limit;
  if (more) deliveries->resize(page->limit);
  for (const auto& delivery : *deliveries) out["items"].push_back(delivery_json(delivery));
  if (more) out["next_page_token"] = std::to_string(deliveries->back().id);
  return HttpResponse::json(http::status::ok, out);
}

}  // namespace

void add_webhook_routes(Router& router, ApiServices& services, WebhookFanout& fanout) {
  router.add(http::verb::post, "/v1/webhooks", {.summary = "Create a webhook", .admin_only = true},
             [&services, &fanout](const RequestContext& context) { return create_webhook(services, fanout, context); });
  router.add(http::verb::get, "/v1/webhooks", {.summary = "List webhooks", .admin_only = true},
             [&services](const RequestContext& context) { return list_webhooks(services, context); });
  router.add(http::verb::get, "/v1/webhooks/{id}", {.summary = "Get a webhook", .admin_only = true},
             [&services](const RequestContext& context) {
               const auto webhook = services.store.get_webhook(context.param("id"));
               if (!webhook) return store_error_response(webhook.error(), "the webhook");
               return HttpResponse::json(http::status::ok, webhook_json(*webhook));
             });
  router.add(http::verb::delete_, "/v1/webhooks/{id}", {.summary = "Delete a webhook", .admin_only = true},
             [&services, &fanout](const RequestContext& context) { return delete_webhook(services, fanout, context); });
  router.add(http::verb::get, "/v1/webhooks/{id}/deliveries",
             {.summary = "List a webhook's deliveries", .admin_only = true},
             [&services](const RequestContext& context) { return list_deliveries(services, context); });
}

}  // namespace chorus::rest
