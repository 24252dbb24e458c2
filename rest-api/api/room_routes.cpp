#include "rest-api/api/room_routes.hpp"

#include "rest-api/api/json_codec.hpp"
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

HttpResponse room_response(const ApiServices& services, http::status status, const conf::Room& room) {
  return with_etag(HttpResponse::json(status, room_to_json(room, services.sip_host)), room.version);
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
  auto response = room_response(services, http::status::created, *created);
  response.message.set(http::field::location, room_path(created->id));
  return response;
}

HttpResponse list_rooms(ApiServices& services, const RequestContext& context) {
  const auto page = parse_page(context.query);
  if (!page) return page.error();
  // One more than the page: its presence says whether there is a next page.
  const auto rooms = services.store.list_rooms(page->after_id, page->limit + 1);
  if (!rooms) return store_error_response(rooms.error(), "rooms");
  return HttpResponse::json(http::status::ok, page_body(*rooms, page->limit, [&services](const conf::Room& room) {
                              return room_to_json(room, services.sip_host);
                            }));
}

HttpResponse get_room(ApiServices& services, const RequestContext& context) {
  const auto room = services.store.get_room(context.param("id"));
  if (!room) return store_error_response(room.error(), room_name(context.param("id")));
  return room_response(services, http::status::ok, *room);
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
  // RFC 7396: a patch that changes nothing is no write, and keeps the ETag.
  if (room_to_json(room, services.sip_host) == room_to_json(*current, services.sip_host)) {
    return room_response(services, http::status::ok, *current);
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
  return room_response(services, http::status::ok, room);
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
  router.add(http::verb::get, "/v1/rooms/{id}", {.scope = Scope::kRoomsRead, .summary = "Get a room"}, bind(get_room));
  router.add(http::verb::patch, "/v1/rooms/{id}", {.scope = Scope::kRoomsWrite, .summary = "Update a room"},
             bind(patch_room));
  router.add(http::verb::delete_, "/v1/rooms/{id}", {.scope = Scope::kRoomsWrite, .summary = "Delete a room"},
             bind(delete_room));
}

}  // namespace chorus::rest
