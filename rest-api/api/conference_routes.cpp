#include "rest-api/api/conference_routes.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "conference/room_lock.hpp"
#include "rest-api/api/cluster_redirect.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

constexpr std::uint64_t kMaxReceiveKbps = 100'000;  // 100 Mbit/s: beyond any video a room sends

// RTCP quality of the participant's first stream (RFC 3550 §6.4: loss and jitter of what we
// receive, round-trip time from its report blocks), as the media worker last published it.
json quality_json(const conference::Participant& p) {
  if (!p.worker || p.media.empty()) return nullptr;
  const auto quality = p.worker->quality(p.media.front().session_id);
  if (!quality) return nullptr;
  return json{{"packets_received", quality->packets_received},
              {"packets_sent", quality->packets_sent},
              {"loss", quality->fraction_lost},
              {"cumulative_lost", quality->cumulative_lost},
              {"jitter_ms", quality->jitter_ms},
              {"rtt_ms", quality->rtt ? json(static_cast<double>(quality->rtt->count()) / 1000.0) : json(nullptr)}};
}

// Who the participant sees in each of its video slots (sfu rooms), in slot order.
json video_slots_json(const ApiServices& services, const conference::Participant& p) {
  json slots = json::array();
  for (const auto& slot : services.conference.video().slots_of(p.id))
    slots.push_back({{"mid", slot.mid},
                     {"participant_id", slot.participant ? json(std::to_string(*slot.participant)) : json(nullptr)},
                     {"display_name", slot.participant ? json(slot.display_name) : json(nullptr)}});
  return slots;
}

json participant_json(const ApiServices& services, const conference::Participant& p) {
  json codecs = json::array();
  for (const auto& stream : p.streams)
    if (stream.accepted) codecs.push_back(stream.codec.name + "/" + std::to_string(stream.codec.clock_rate));
  const auto cap_bps = services.conference.video().receive_cap(p.id);
  return json{{"id", std::to_string(p.id)},
              {"display_name", p.display_name},
              {"caller_id", p.from_uri},
              {"call_id", p.call_id},
              {"user_agent", p.user_agent},
              {"codecs", std::move(codecs)},
              {"encrypted", std::ranges::any_of(p.media, [](const auto& m) { return m.security.keying.index() != 0; })},
              {"joined_at", conference::format_rfc3339_utc(p.joined_at)},
              {"moderator", p.moderator},
              {"admitted", p.admitted},  // false while it enters the PIN
              {"muted", p.muted},        // server-side, asked for by itself (*6) or the API
              // Whether the others hear it: its own mute, or guests_muted for a guest.
              {"audio_muted", services.conference.audio().effectively_muted(p)},
              {"talking", p.talking},
              {"gain_db", p.gain_db},
              {"video_slots", video_slots_json(services, p)},
              {"max_receive_kbps", cap_bps > 0 ? json(cap_bps / 1000) : json(nullptr)},
              {"quality", quality_json(p)}};
}

// An mcu room's layout (null in other rooms): its kind and its pinned participant.
json layout_json(const ApiServices& services, const conference::Room* room, const std::string& room_id) {
  if (room == nullptr || room->mode != conference::RoomMode::kMcu)
    return {{"layout", nullptr}, {"pinned_participant", nullptr}};
  const auto layout = services.conference.video_mcu().layout_of(room_id);
  return {{"layout", mixer::to_string(layout.kind)},
          {"pinned_participant", layout.pinned ? json(std::to_string(*layout.pinned)) : json(nullptr)}};
}

json conference_json(const ApiServices& services, const std::string& room_id) {
  const conference::Room* room = services.rooms.find(room_id);
  const auto participants = services.conference.participants_of(room_id);
  json out{{"id", room_id},
           {"room_id", room_id},
           {"name", room ? room->name : std::string()},
           {"mode", room ? conference::to_string(room->mode) : std::string_view("sfu")},
           {"locked", room && room->locked},
           {"guests_muted", services.conference.audio().guests_muted(room_id)},
           {"participant_count", participants.size()}};
  out.update(layout_json(services, room, room_id));
  if (!participants.empty()) out["started_at"] = conference::format_rfc3339_utc(participants.front()->joined_at);
  // Issue 14: clustered, each node lists its own conferences and says which node it is.
  if (!services.node_id.empty()) out["node"] = services.node_id;
  return out;
}

// PATCH's layout fields: `layout` (grid | speaker | presentation) and `pinned_participant` (a
// participant of this conference, or null), in mcu rooms only.
std::optional<conference::LayoutSetting> requested_layout(const ApiServices& services, const std::string& room_id,
                                                          const json& body, std::vector<FieldError>& errors) {
  if (!body.contains("layout") && !body.contains("pinned_participant")) return std::nullopt;
  const conference::Room* room = services.rooms.find(room_id);
  if (room == nullptr || room->mode != conference::RoomMode::kMcu) {
    errors.push_back({pointer_to("layout"), "layouts exist only in mcu rooms"});
    return std::nullopt;
  }
  auto layout = services.conference.video_mcu().layout_of(room_id);
  if (body.contains("layout")) {
    const auto& value = body["layout"];
    auto kind = value.is_string() ? mixer::layout_kind_from_string(value.get<std::string>()) : std::nullopt;
    if (!kind)
      errors.push_back({pointer_to("layout"), "must be \"grid\", \"speaker\" or \"presentation\""});
    else
      layout.kind = *kind;
  }
  if (body.contains("pinned_participant")) {
    const auto& value = body["pinned_participant"];
    std::uint64_t pinned = 0;
    const std::string text = value.is_string() ? value.get<std::string>() : std::string();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pinned);
    const auto participants = services.conference.participants_of(room_id);
    const bool present = error == std::errc() && end == text.data() + text.size() &&
                         std::ranges::any_of(participants, [&](const auto* p) { return p->id == pinned; });
    if (value.is_null())
      layout.pinned.reset();
    else if (!present)
      errors.push_back(
          {pointer_to("pinned_participant"), "must be the id of a participant of this conference, or null"});
    else
      layout.pinned = pinned;
  }
  return layout;
}

bool active(const ApiServices& services, std::string_view room_id) {
  return services.conference.participants_in(room_id) > 0;
}

HttpResponse list_conferences(ApiServices& services, const RequestContext& context) {
  auto page = parse_page(context.query);
  if (!page) return page.error();
  json items = json::array();
  std::string last;
  bool more = false;
  for (const auto& room_id : services.conference.active_rooms()) {  // sorted by id
    if (!page->after_id.empty() && room_id <= page->after_id) continue;
    if (items.size() == page->limit) {
      more = true;
      break;
    }
    items.push_back(conference_json(services, room_id));
    last = room_id;
  }
  return HttpResponse::json(http::status::ok,
                            json{{"items", std::move(items)}, {"next_page_token", more ? json(last) : json(nullptr)}});
}

HttpResponse get_conference(ApiServices& services, const RequestContext& context) {
  const std::string id(context.param("id"));
  if (!active(services, id)) return not_found("no conference is running in room " + id);
  return HttpResponse::json(http::status::ok, conference_json(services, id));
}

HttpResponse patch_conference(ApiServices& services, const RequestContext& context) {
  const std::string id(context.param("id"));
  if (!active(services, id)) return not_found("no conference is running in room " + id);
  auto body = parse_json_body(context);
  if (!body) return body.error();
  if (!body->is_object()) return validation_failed({{"", "the body must be a JSON object"}});
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body->items())
    if (key != "locked" && key != "guests_muted" && key != "layout" && key != "pinned_participant")
      errors.push_back({pointer_to(key), "unknown or read-only field"});
  for (const char* field : {"locked", "guests_muted"})
    if (body->contains(field) && !(*body)[field].is_boolean())
      errors.push_back({pointer_to(field), "must be true or false"});
  const auto layout = requested_layout(services, id, *body, errors);
  if (!errors.empty()) return validation_failed(std::move(errors));
  if (layout && *layout != services.conference.video_mcu().layout_of(id)) {
    services.conference.video_mcu().set_layout(id, *layout);
    const conference::Room* room = services.rooms.find(id);
    json data = layout_json(services, room, id);
    data["conference_id"] = id;
    data["room_id"] = id;
    services.events.publish(conference::event_type::kLayoutChanged, std::move(data));
  }
  if (body->contains("locked")) {
    auto changed = conference::set_room_locked(services.store, services.rooms, &services.events, id,
                                               (*body)["locked"].get<bool>());
    if (!changed) return internal_error(changed.error());
  }
  if (body->contains("guests_muted"))
    services.conference.audio().set_guests_muted(id, (*body)["guests_muted"].get<bool>());
  return HttpResponse::json(http::status::ok, conference_json(services, id));
}

HttpResponse end_conference(ApiServices& services, const RequestContext& context) {
  const std::string id(context.param("id"));
  if (!active(services, id)) return not_found("no conference is running in room " + id);
  std::vector<sip::CallHandle> calls;
  for (const auto* participant : services.conference.participants_of(id)) calls.push_back(participant->call);
  for (auto call : calls) services.hang_up(call, "conference ended by the API");
  return HttpResponse::empty(http::status::no_content);
}

HttpResponse list_participants(ApiServices& services, const RequestContext& context) {
  const std::string id(context.param("id"));
  if (!active(services, id)) return not_found("no conference is running in room " + id);
  auto page = parse_page(context.query);
  if (!page) return page.error();
  std::uint64_t after = 0;
  if (!page->after_id.empty()) {
    auto [end, error] = std::from_chars(page->after_id.data(), page->after_id.data() + page->after_id.size(), after);
    if (error != std::errc() || end != page->after_id.data() + page->after_id.size())
      return bad_request("page_token is not one this API gave", {{"page_token", "unknown token"}});
  }
  json items = json::array();
  std::uint64_t last = 0;
  bool more = false;
  for (const auto* participant : services.conference.participants_of(id)) {
    if (participant->id <= after) continue;
    if (items.size() == page->limit) {
      more = true;
      break;
    }
    items.push_back(participant_json(services, *participant));
    last = participant->id;
  }
  return HttpResponse::json(
      http::status::ok,
      json{{"items", std::move(items)}, {"next_page_token", more ? json(std::to_string(last)) : json(nullptr)}});
}

// The participant {pid} of conference {id}, or the 404 to answer.
std::expected<const conference::Participant*, HttpResponse> find_participant(ApiServices& services,
                                                                             const RequestContext& context) {
  const std::string id(context.param("id"));
  const std::string_view pid = context.param("pid");
  std::uint64_t participant_id = 0;
  auto [end, error] = std::from_chars(pid.data(), pid.data() + pid.size(), participant_id);
  const conference::Participant* participant = error == std::errc() && end == pid.data() + pid.size()
                                                   ? services.conference.find_participant(participant_id)
                                                   : nullptr;
  if (!participant || participant->room_id != id)
    return std::unexpected(not_found("no participant " + std::string(pid) + " in conference " + id));
  return participant;
}

HttpResponse kick_participant(ApiServices& services, const RequestContext& context) {
  auto participant = find_participant(services, context);
  if (!participant) return participant.error();
  services.hang_up((*participant)->call, "removed by the API");
  return HttpResponse::empty(http::status::no_content);
}

// PATCH {"audio_muted": bool, "gain_db": number, "max_receive_kbps": integer | null}: server-side
// mute (the participant's own *6 toggles the same flag), input gain, and a cap on the video the SFU
// sends it (its slots together, whatever its bandwidth estimate says; null or 0 removes the cap).
HttpResponse patch_participant(ApiServices& services, const RequestContext& context) {
  auto participant = find_participant(services, context);
  if (!participant) return participant.error();
  auto body = parse_json_body(context);
  if (!body) return body.error();
  if (!body->is_object()) return validation_failed({{"", "the body must be a JSON object"}});
  std::vector<FieldError> errors;
  for (const auto& [key, value] : body->items())
    if (key != "audio_muted" && key != "gain_db" && key != "max_receive_kbps")
      errors.push_back({pointer_to(key), "unknown or read-only field"});
  if (body->contains("audio_muted") && !(*body)["audio_muted"].is_boolean())
    errors.push_back({"/audio_muted", "must be true or false"});
  if (body->contains("gain_db")) {
    const json& gain = (*body)["gain_db"];
    if (!gain.is_number() || gain.get<double>() < mixer::kMinGainDb || gain.get<double>() > mixer::kMaxGainDb)
      errors.push_back({"/gain_db", "must be a number from -60 to 20"});
  }
  if (body->contains("max_receive_kbps")) {
    const json& cap = (*body)["max_receive_kbps"];
    if (!cap.is_null() && (!cap.is_number_integer() || cap.get<std::int64_t>() < 0 ||
                           cap.get<std::int64_t>() > static_cast<std::int64_t>(kMaxReceiveKbps)))
      errors.push_back({"/max_receive_kbps", "must be null or an integer from 0 to 100000"});
  }
  if (!errors.empty()) return validation_failed(std::move(errors));
  if (body->contains("max_receive_kbps")) {
    const json& cap = (*body)["max_receive_kbps"];
    services.conference.video().set_receive_cap((*participant)->id,
                                                cap.is_null() ? 0 : cap.get<std::uint64_t>() * 1000);
  }
  if (body->contains("audio_muted"))
    services.conference.audio().set_participant_muted((*participant)->id, (*body)["audio_muted"].get<bool>());
  if (body->contains("gain_db"))
    services.conference.audio().set_participant_gain((*participant)->id, (*body)["gain_db"].get<double>());
  return HttpResponse::json(http::status::ok, participant_json(services, **participant));
}

}  // namespace

void add_conference_routes(Router& router, ApiServices& services) {
  auto bind = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) { return handler(services, context); };
  };
  // Issue 14: one conference running on another node of the cluster is answered 307 to that node.
  auto bind_one = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) {
      if (auto moved = conference_elsewhere(services, context, context.param("id"))) return std::move(*moved);
      return handler(services, context);
    };
  };
  const RouteOptions read{Scope::kRoomsRead, "List or read live conferences"};
  const RouteOptions moderate{Scope::kConferencesModerate, "Moderate a live conference"};
  router.add(http::verb::get, "/v1/conferences", read, bind(&list_conferences));
  router.add(http::verb::get, "/v1/conferences/{id}", read, bind_one(&get_conference));
  router.add(http::verb::patch, "/v1/conferences/{id}", moderate, bind_one(&patch_conference));
  router.add(http::verb::delete_, "/v1/conferences/{id}", moderate, bind_one(&end_conference));
  router.add(http::verb::get, "/v1/conferences/{id}/participants", read, bind_one(&list_participants));
  router.add(http::verb::patch, "/v1/conferences/{id}/participants/{pid}", moderate, bind_one(&patch_participant));
  router.add(http::verb::delete_, "/v1/conferences/{id}/participants/{pid}", moderate, bind_one(&kick_participant));
}

}  // namespace chorus::rest
