#include "rest-api/api/meeting_routes.hpp"

#include <charconv>

#include "conference/schedule/ics.hpp"
#include "conference/schedule/occurrences.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace {

namespace http = boost::beast::http;
namespace conf = chorus::conference;
using nlohmann::json;

std::string meeting_path(std::string_view id) {
  return "/v1/meetings/" + std::string(id);  // ids are [A-Za-z0-9_-]: nothing to percent-encode
}

std::string meeting_name(std::string_view id) {
  return "meeting " + std::string(id);
}

json meeting_event(const ApiServices& services, const conf::Meeting& meeting) {
  return json{{"meeting_id", meeting.id},
              {"room_id", meeting.room_id},
              {"meeting", meeting_to_json(meeting, false, services.web_base_url)}};
}

// After the write is durable (these routes run in write groups): the calendar the SIP path admits
// callers by, then the event. A cancelled meeting leaves the calendar.
void announce(ApiServices& services, std::string_view event_type, const conf::Meeting& meeting) {
  services.commit_effects.after_commit([&services, event_type, meeting] {
    if (meeting.cancelled) {
      services.calendar.remove(meeting.id);
    } else {
      services.calendar.put(meeting);
    }
    services.events.publish(event_type, meeting_event(services, meeting));
  });
}

HttpResponse meeting_response(const ApiServices& services, const RequestContext& context, http::status status,
                              const conf::Meeting& meeting) {
  return with_etag(HttpResponse::json(status, meeting_to_json(meeting, sees_secrets(context), services.web_base_url)),
                   meeting.version);
}

std::expected<conf::Meeting, HttpResponse> load_meeting(ApiServices& services, std::string_view id) {
  auto record = services.store.get_meeting(id);
  if (!record) return std::unexpected(store_error_response(record.error(), meeting_name(id)));
  return meeting_from_record(*record);
}

// validate_meeting's verdict plus the room check (the store would only say "not found").
std::expected<std::vector<FieldError>, HttpResponse> check_meeting(ApiServices& services,
                                                                   const conf::Meeting& meeting) {
  auto errors = to_field_errors(conf::validate_meeting(meeting));
  if (!meeting.room_id.empty()) {
    const auto room = services.store.get_room(meeting.room_id);
    if (!room && room.error().kind != conf::StoreErrorKind::kNotFound) {
      return std::unexpected(store_error_response(room.error(), "room " + meeting.room_id));
    }
    if (!room) errors.insert(errors.begin(), FieldError{"/room_id", "no room has id " + meeting.room_id});
  }
  return errors;
}

HttpResponse create_meeting(ApiServices& services, const RequestContext& context) {
  const auto body = parse_json_body(context);
  if (!body) return body.error();
  conf::Meeting meeting;
  meeting.join_window_before = kDefaultJoinWindowBefore;
  meeting.created_at = meeting.updated_at = services.now();
  if (auto errors = apply_meeting_json(*body, meeting, true); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  const auto errors = check_meeting(services, meeting);
  if (!errors) return errors.error();
  if (!errors->empty()) return validation_failed(*errors);
  if (meeting.id.empty()) meeting.id = generate_id(kMeetingIdPrefix);
  const auto created = services.store.create_meeting(meeting_to_record(meeting));
  if (!created) {
    if (created.error().kind == conf::StoreErrorKind::kNotFound) {  // the room went away meanwhile
      return validation_failed({{"/room_id", "no room has id " + meeting.room_id}});
    }
    if (created.error().kind == conf::StoreErrorKind::kConflict) {
      return conflict("a meeting with id " + meeting.id + " already exists");
    }
    return store_error_response(created.error(), meeting_name(meeting.id));
  }
  meeting = meeting_from_record(*created);
  announce(services, conf::event_type::kMeetingCreated, meeting);
  auto response = meeting_response(services, context, http::status::created, meeting);
  response.message.set(http::field::location, meeting_path(meeting.id));
  return response;
}

HttpResponse list_meetings(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  const auto room_id = context.query.get("room_id");
  // One more than the page: its presence says whether there is a next page.
  const auto records = services.store.list_meetings(page->after_id, page->limit + 1, room_id);
  if (!records) return store_error_response(records.error(), "meetings");
  const bool with_pin = sees_secrets(context);
  return HttpResponse::json(http::status::ok,
                            page_body(*records, page->limit, [&services, with_pin](const conf::MeetingRecord& record) {
                              return meeting_to_json(meeting_from_record(record), with_pin, services.web_base_url);
                            }));
}

HttpResponse get_meeting(ApiServices& services, const RequestContext& context) {
  const auto meeting = load_meeting(services, context.param("id"));
  if (!meeting) return meeting.error();
  return meeting_response(services, context, http::status::ok, *meeting);
}

// Stores `meeting` (one more sequence, updated now) over `expected_version`; the new version.
std::expected<std::uint64_t, HttpResponse> store_change(ApiServices& services, conf::Meeting& meeting,
                                                        std::uint64_t expected_version) {
  ++meeting.sequence;  // RFC 5545 §3.8.7.4: calendars replace the event they hold
  meeting.updated_at = services.now();
  const auto version = services.store.update_meeting(meeting_to_record(meeting), expected_version);
  if (!version) {
    if (version.error().kind == conf::StoreErrorKind::kNotFound) {  // the room went away meanwhile
      return std::unexpected(validation_failed({{"/room_id", "no room has id " + meeting.room_id}}));
    }
    return std::unexpected(store_error_response(version.error(), meeting_name(meeting.id)));
  }
  meeting.version = *version;
  return *version;
}

HttpResponse patch_meeting(ApiServices& services, const RequestContext& context) {
  const auto current = load_meeting(services, context.param("id"));
  if (!current) return current.error();
  if (auto refused = precondition_error(context, current->version, true)) return std::move(*refused);
  if (current->cancelled) return conflict(meeting_name(current->id) + " is cancelled; schedule a new one");
  const auto body = parse_json_body(context);
  if (!body) return body.error();
  conf::Meeting meeting = *current;
  if (auto errors = apply_meeting_json(*body, meeting, false); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  // RFC 7396: a patch that changes nothing is no write: the ETag and SEQUENCE stay.
  if (meeting_to_json(meeting) == meeting_to_json(*current))
    return meeting_response(services, context, http::status::ok, *current);
  const auto errors = check_meeting(services, meeting);
  if (!errors) return errors.error();
  if (!errors->empty()) return validation_failed(*errors);
  if (auto stored = store_change(services, meeting, current->version); !stored) return stored.error();
  announce(services, conf::event_type::kMeetingUpdated, meeting);
  return meeting_response(services, context, http::status::ok, meeting);
}

HttpResponse delete_meeting(ApiServices& services, const RequestContext& context) {
  auto meeting = load_meeting(services, context.param("id"));
  if (!meeting) return meeting.error();
  if (auto refused = precondition_error(context, meeting->version, false)) return std::move(*refused);
  if (meeting->cancelled) return HttpResponse::empty(http::status::no_content);  // already: idempotent
  const std::uint64_t expected = meeting->version;
  meeting->cancelled = true;
  if (auto stored = store_change(services, *meeting, expected); !stored) return stored.error();
  announce(services, conf::event_type::kMeetingDeleted, *meeting);
  return HttpResponse::empty(http::status::no_content);
}

// The from/to/limit of an occurrence query; 400 naming every bad parameter.
struct OccurrenceQuery {
  TimePoint from;
  TimePoint to;
  std::size_t limit = kDefaultOccurrenceLimit;
};

std::expected<OccurrenceQuery, HttpResponse> parse_occurrence_query(const QueryParams& query) {
  OccurrenceQuery out;
  std::vector<FieldError> errors;
  for (auto [name, target] : {std::pair{"from", &out.from}, std::pair{"to", &out.to}}) {
    const auto text = query.get(name);
    const auto at = text ? parse_rfc3339(*text) : std::nullopt;
    if (at) {
      *target = *at;
    } else {
      errors.push_back({name, std::string(name) + " must be an RFC 3339 date-time such as 2026-11-26T09:00:00Z"});
    }
  }
  if (errors.empty() && (out.to <= out.from || out.to - out.from > kMaxOccurrenceWindow)) {
    errors.push_back({"to", "to must be after from, and at most 366 days after it"});
  }
  if (const auto limit = query.get("limit")) {
    const auto* end = limit->data() + limit->size();
    const auto [ptr, ec] = std::from_chars(limit->data(), end, out.limit);
    if (limit->empty() || ec != std::errc{} || ptr != end || out.limit < 1 || out.limit > conf::kMaxOccurrences) {
      errors.push_back({"limit", "limit must be an integer from 1 to 1000"});
    }
  }
  if (!errors.empty()) return std::unexpected(bad_request("the occurrence query is invalid", std::move(errors)));
  return out;
}

HttpResponse list_occurrences(ApiServices& services, const RequestContext& context) {
  const auto meeting = load_meeting(services, context.param("id"));
  if (!meeting) return meeting.error();
  const auto query = parse_occurrence_query(context.query);
  if (!query) return query.error();
  const auto occurrences = conf::expand_occurrences(*meeting, query->from, query->to, query->limit);
  // A stored meeting passed validate_meeting, so expansion failing is the server's fault.
  if (!occurrences) return internal_error("the meeting cannot be expanded: " + occurrences.error());
  json items = json::array();
  for (const auto& occurrence : *occurrences) {
    items.push_back({{"start", format_rfc3339(occurrence.start)}, {"end", format_rfc3339(occurrence.end)}});
  }
  return HttpResponse::json(http::status::ok, json{{"items", std::move(items)}});
}

HttpResponse get_ics(ApiServices& services, const RequestContext& context) {
  const auto meeting = load_meeting(services, context.param("id"));
  if (!meeting) return meeting.error();
  const auto room = services.store.get_room(meeting->room_id);
  if (!room) return store_error_response(room.error(), "room " + meeting->room_id);
  conf::IcsDetails details;
  details.sip_uri = room_sip_uri(room->id, services.sip_host);
  details.join_url = room_join_url(services.web_base_url, room->id);
  details.dial_in_number = room->dial_in_number;
  // The invitation carries the PIN only for callers who may read secrets (DESIGN §7).
  if (sees_secrets(context)) details.pin = meeting->pin.value_or(room->pin);
  details.dtstamp = services.now();
  const auto text = conf::to_ics(*meeting, details);
  if (!text) return internal_error("the invitation cannot be built: " + text.error());
  return with_etag(HttpResponse::text(http::status::ok, *text, conf::ics_content_type(*meeting)), meeting->version);
}

}  // namespace

void add_meeting_routes(Router& router, ApiServices& services) {
  const auto bind = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) { return handler(services, context); };
  };
  router.add(http::verb::post, "/v1/meetings",
             {.scope = Scope::kMeetingsWrite, .summary = "Schedule a meeting", .write_group = true},
             bind(create_meeting));
  router.add(http::verb::get, "/v1/meetings", {.scope = Scope::kRoomsRead, .summary = "List meetings"},
             bind(list_meetings));
  router.add(http::verb::get, "/v1/meetings/{id}", {.scope = Scope::kRoomsRead, .summary = "Get a meeting"},
             bind(get_meeting));
  router.add(http::verb::patch, "/v1/meetings/{id}",
             {.scope = Scope::kMeetingsWrite, .summary = "Update a meeting", .write_group = true}, bind(patch_meeting));
  router.add(http::verb::delete_, "/v1/meetings/{id}",
             {.scope = Scope::kMeetingsWrite, .summary = "Cancel a meeting", .write_group = true},
             bind(delete_meeting));
  router.add(http::verb::get, "/v1/meetings/{id}/occurrences",
             {.scope = Scope::kRoomsRead, .summary = "List a meeting's occurrences"}, bind(list_occurrences));
  router.add(http::verb::get, "/v1/meetings/{id}.ics",
             {.scope = Scope::kRoomsRead, .summary = "Get a meeting's iCalendar invitation"}, bind(get_ics));
}

}  // namespace chorus::rest
