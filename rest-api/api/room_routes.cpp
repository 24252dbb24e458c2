#include "rest-api/api/room_routes.hpp"

#include "common/log.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/api/room_list_snapshot.hpp"
#include "rest-api/api/route_support.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {

namespace {

namespace http = boost::beast::http;
namespace conf = chorus::conference;
using nlohmann::json;

std::string room_path(std::string_view id) {
  return "/v1/rooms/" + std::string(id);  // ids are [A-Za-z0-9_-]: nothing to percent-encode
}

std::string room_name(std::string_view id) {
  return "room " + std::string(id);
}

json room_event(const ApiServices& services, const conf::Room& room) {
  return json{{"room_id", room.id}, {"room", room_to_json(room, services.sip_host, false)}};
}

HttpResponse room_response(const ApiServices& services, const RequestContext& context, http::status status,
                           const conf::Room& room) {
  return with_etag(HttpResponse::json(status, room_to_json(room, services.sip_host, sees_secrets(context))),
                   room.version);
}

// The PINs this request sets (a non-empty string under pin / moderator_pin) must have at least
// min_pin_digits digits; one the setting allows below kRecommendedPinDigits is taken, with a
// warning in the log (never the PIN). PINs already stored are not checked: patching a room's name
// keeps its old 4-digit PIN.
std::vector<FieldError> check_new_pins(const ApiServices& services, const json& body, std::string_view room_id) {
  std::vector<FieldError> errors;
  if (!body.is_object()) return errors;
  for (const std::string_view key : {"pin", "moderator_pin"}) {
    const auto member = body.find(std::string(key));
    if (member == body.end() || !member->is_string()) continue;
    const auto digits = member->get_ref<const std::string&>().size();
    if (digits == 0) continue;
    if (digits < services.min_pin_digits) {
      errors.push_back({"/" + std::string(key), std::string(key) + " must have at least " +
                                                    std::to_string(services.min_pin_digits) + " digits"});
    } else if (digits < kRecommendedPinDigits) {
      CHORUS_LOG(kWarn, "rest", "room PIN shorter than recommended (min_pin_digits allows it)", {"room", room_id},
                 {"field", key}, {"digits", digits}, {"recommended", kRecommendedPinDigits});
    }
  }
  return errors;
}

HttpResponse create_room(ApiServices& services, const RequestContext& context) {
  const auto body = parse_json_body(context);
  if (!body) return body.error();
  conf::Room room;
  room.created_at = services.now();
  if (auto errors = apply_room_json(*body, room, true); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  if (room.id.empty()) room.id = generate_id(kRoomIdPrefix);
  if (auto errors = check_new_pins(services, *body, room.id); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  auto created = services.store.create_room(room);
  if (!created) {
    if (created.error().kind == conf::StoreErrorKind::kConflict) {
      // Ids and dial-in numbers are both dial strings, so they share one namespace (room.hpp).
      return conflict("id " + room.id +
                      (room.dial_in_number.empty() ? "" : " or dial-in number " + room.dial_in_number) +
                      " is already used by another room's id or number");
    }
    return store_error_response(created.error(), room_name(room.id));
  }
  // The store checked uniqueness against every room; the directory mirrors it.
  services.rooms.replace(*created);
  services.events.publish(conf::event_type::kRoomCreated, room_event(services, *created));
  auto response = room_response(services, context, http::status::created, *created);
  response.message.set(http::field::location, room_path(created->id));
  return response;
}

// The answer from the snapshot, on whichever thread (the control loop after a refresh, or the HTTP
// thread while it is current): the page's bytes, no JSON tree.
HttpResponse list_rooms_from(const RoomListSnapshot& snapshot, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  return HttpResponse::text(http::status::ok, snapshot.page(page->after_id, page->limit, sees_secrets(context)),
                            kJsonContentType);
}

HttpResponse list_rooms(ApiServices& services, const RequestContext& context) {
  if (services.room_list != nullptr) {
    if (auto refreshed = services.room_list->refresh(services.store); !refreshed) {
      return store_error_response(refreshed.error(), "rooms");
    }
    return list_rooms_from(*services.room_list, context);
  }
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  // One more than the page: its presence says whether there is a next page.
  const auto rooms = services.store.list_rooms(page->after_id, page->limit + 1);
  if (!rooms) return store_error_response(rooms.error(), "rooms");
  const bool with_pins = sees_secrets(context);
  return HttpResponse::json(http::status::ok,
                            page_body(*rooms, page->limit, [&services, with_pins](const conf::Room& room) {
                              return room_to_json(room, services.sip_host, with_pins);
                            }));
}

HttpResponse get_room(ApiServices& services, const RequestContext& context) {
  const auto room = services.store.get_room(context.param("id"));
  if (!room) return store_error_response(room.error(), room_name(context.param("id")));
  return room_response(services, context, http::status::ok, *room);
}

HttpResponse patch_room(ApiServices& services, const RequestContext& context) {
  const auto id = context.param("id");
  const auto current = services.store.get_room(id);
  if (!current) return store_error_response(current.error(), room_name(id));
  if (auto refused = precondition_error(context, current->version, true)) return std::move(*refused);
  const auto body = parse_json_body(context);
  if (!body) return body.error();
  conf::Room room = *current;
  if (auto errors = apply_room_json(*body, room, false); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  if (auto errors = check_new_pins(services, *body, room.id); !errors.empty()) {
    return validation_failed(std::move(errors));
  }
  // RFC 7396: a patch that changes nothing is no write, and keeps the ETag.
  if (room_to_json(room, services.sip_host) == room_to_json(*current, services.sip_host)) {
    return room_response(services, context, http::status::ok, *current);
  }
  const auto version = services.store.update_room(room, current->version);
  if (!version) {
    if (version.error().kind == conf::StoreErrorKind::kConflict) {
      return conflict("dial-in number " + room.dial_in_number + " is taken by another room");
    }
    return store_error_response(version.error(), room_name(id));
  }
  room.version = *version;
  services.rooms.replace(room);
  services.events.publish(conf::event_type::kRoomUpdated, room_event(services, room));
  return room_response(services, context, http::status::ok, room);
}

HttpResponse delete_room(ApiServices& services, const RequestContext& context) {
  const auto id = context.param("id");
  const auto current = services.store.get_room(id);
  if (!current) return store_error_response(current.error(), room_name(id));
  if (auto refused = precondition_error(context, current->version, false)) return std::move(*refused);
  if (const auto present = services.conference.participants_in(id); present > 0) {
    return conflict(room_name(id) + " has " + std::to_string(present) +
                    " participant(s) in it; end the conference first");
  }
  // The store deletes the room's meetings with it; name them in events.
  const auto meetings = services.store.list_meetings_for_room(id);
  if (!meetings) return store_error_response(meetings.error(), room_name(id));
  if (auto deleted = services.store.delete_room(id); !deleted) {
    return store_error_response(deleted.error(), room_name(id));
  }
  services.rooms.remove(id);
  services.calendar.remove_room(id);
  for (const auto& meeting : *meetings) {
    services.events.publish(conf::event_type::kMeetingDeleted,
                            json{{"meeting_id", meeting.id}, {"room_id", meeting.room_id}});
  }
  services.events.publish(conf::event_type::kRoomDeleted, room_event(services, *current));
  return HttpResponse::empty(http::status::no_content);
}

}  // namespace

void add_room_routes(Router& router, ApiServices& services) {
  const auto bind = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) { return handler(services, context); };
  };
  router.add(http::verb::post, "/v1/rooms", {.scope = Scope::kRoomsWrite, .summary = "Create a room"},
             bind(create_room));
  router.add(http::verb::get, "/v1/rooms", {.scope = Scope::kRoomsRead, .summary = "List rooms"}, bind(list_rooms));
  if (auto* snapshot = services.room_list) {
    router.set_local(
        http::verb::get, "/v1/rooms",
        LocalRoute{
            .ready = [snapshot] { return snapshot->current(); },
            .answer = [snapshot](const RequestContext& context) { return list_rooms_from(*snapshot, context); }});
  }
  router.add(http::verb::get, "/v1/rooms/{id}", {.scope = Scope::kRoomsRead, .summary = "Get a room"}, bind(get_room));
  router.add(http::verb::patch, "/v1/rooms/{id}", {.scope = Scope::kRoomsWrite, .summary = "Update a room"},
             bind(patch_room));
  router.add(http::verb::delete_, "/v1/rooms/{id}", {.scope = Scope::kRoomsWrite, .summary = "Delete a room"},
             bind(delete_room));
}

}  // namespace chorus::rest
