#include "rest-api/api/message_routes.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "common/utf8.hpp"
#include "conference/chat/chat_service.hpp"
#include "rest-api/api/cluster_redirect.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::size_t kMaxFromBytes = 128;  // as a caller's display name (conference/events/bounded_text.hpp)

json message_json(const conference::ChatMessage& message) {
  json from{{"display_name", message.from.display_name}};
  from["participant_id"] =
      message.from.participant_id ? json(std::to_string(*message.from.participant_id)) : json(nullptr);
  return json{{"seq", message.seq},
              {"sent_at", conference::format_rfc3339_utc(message.sent_at)},
              {"from", std::move(from)},
              {"text", message.text},
              {"origin", message.origin == conference::ChatOrigin::kSip ? "sip" : "api"}};
}

HttpResponse list_messages(conference::ChatService& chat, const RequestContext& context, const std::string& id) {
  std::uint64_t since = 0;
  if (const auto value = context.query.get("since")) {
    const auto* end = value->data() + value->size();
    const auto [ptr, ec] = std::from_chars(value->data(), end, since);
    if (value->empty() || ec != std::errc() || ptr != end)
      return bad_request("since must be a non-negative integer (the seq of the last message seen)",
                         {{"since", "not a non-negative integer"}});
  }
  if (!chat.live(id)) return not_found("no conference is running in room " + id);
  json messages = json::array();
  for (const auto& message : chat.history(id, since)) messages.push_back(message_json(message));
  return HttpResponse::json(http::status::ok,
                            json{{"messages", std::move(messages)}, {"last_seq", chat.rooms().last_seq()}});
}

// The body's members, each checked; every problem named by its JSON Pointer (RFC 9457 errors[]).
std::expected<std::pair<std::string, std::string>, HttpResponse> read_post(const RequestContext& context,
                                                                           std::size_t max_text) {
  auto body = parse_json_body(context);
  if (!body) return std::unexpected(body.error());
  if (!body->is_object()) return std::unexpected(validation_failed({{"", "the body must be a JSON object"}}));
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body->items())
    if (key != "text" && key != "from") errors.push_back({pointer_to(key), "unknown field (text, from)"});
  std::string text;
  std::string from;
  const auto t = body->find("text");
  if (t == body->end() || !t->is_string()) {
    errors.push_back({"/text", "text is required and must be a string"});
  } else {
    text = t->get<std::string>();
    if (conference::check_text(text, conference::ChatLimits{.max_text_bytes = max_text}))
      errors.push_back({"/text", "text must be 1 to " + std::to_string(max_text) +
                                     " bytes of UTF-8 without control characters other than tab and line ends"});
  }
  if (const auto f = body->find("from"); f != body->end() && !f->is_null()) {
    if (!f->is_string()) {
      errors.push_back({"/from", "from must be a string"});
    } else {
      from = f->get<std::string>();
      if (from.size() > kMaxFromBytes || has_control_characters(from) || !is_valid_utf8(from))
        errors.push_back({"/from", "from must be at most 128 bytes of UTF-8 without control characters"});
    }
  }
  if (!errors.empty()) return std::unexpected(validation_failed(std::move(errors)));
  return std::pair{std::move(from), std::move(text)};
}

HttpResponse post_message(conference::ChatService& chat, const RequestContext& context, const std::string& id) {
  auto request = read_post(context, chat.rooms().limits().max_text_bytes);
  if (!request) return request.error();
  auto posted = chat.post(id, request->first, std::move(request->second));
  if (!posted) {
    if (posted.error().refusal == conference::ChatPostRefusal::kNoConference) return not_found(posted.error().detail);
    return validation_failed({{"/text", posted.error().detail}});
  }
  // RFC 9110 §15.3.2: the message is now part of the conference's history.
  return HttpResponse::json(http::status::created, message_json(*posted));
}

}  // namespace

void add_message_routes(Router& router, ApiServices& services) {
  using Handler = HttpResponse (*)(conference::ChatService&, const RequestContext&, const std::string&);
  auto bind = [&services](Handler handler) {
    return [&services, handler](const RequestContext& context) {
      if (auto moved = conference_elsewhere(services, context, context.param("id"))) return std::move(*moved);
      conference::ChatService* chat = services.conference.chat();
      if (chat == nullptr) return service_unavailable("chat is not available in this server");
      return handler(*chat, context, std::string(context.param("id")));
    };
  };
  router.add(http::verb::get, "/v1/conferences/{id}/messages",
             {.scope = Scope::kRoomsRead, .summary = "A live conference's chat history"}, bind(&list_messages));
  router.add(http::verb::post, "/v1/conferences/{id}/messages",
             {.scope = Scope::kConferencesModerate, .summary = "Send a chat message to a live conference"},
             bind(&post_message));
}

}  // namespace chorus::rest
