#include "rest-api/api/recording_routes.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "conference/recording/recording_service.hpp"
#include "rest-api/api/cluster_redirect.hpp"
#include "rest-api/api/json_codec.hpp"
#include "rest-api/file_response.hpp"
#include "rest-api/problem.hpp"

namespace chorus::rest {
namespace {

namespace http = boost::beast::http;
namespace conf = chorus::conference;
using nlohmann::json;

// RFC 4918 §11.5: the server cannot store what the request needs (the recordings quota).
inline constexpr std::string_view kProblemInsufficientStorage = "insufficient-storage";

std::string recording_path(std::string_view id) {
  return "/v1/recordings/" + std::string(id);
}

json recording_json(const conf::RecordingService& recordings, const conf::RecordingInfo& info) {
  const bool running = info.state == conf::RecordingState::kRecording;
  const auto end = info.stopped_at.value_or(std::chrono::system_clock::now());
  const auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(end - info.started_at).count();
  auto optional_text = [](const std::string& text) { return text.empty() ? json(nullptr) : json(text); };
  return json{{"id", info.id},
              {"conference_id", info.conference_id},
              {"state", running && recordings.stopping(info.id) ? "stopping" : std::string(to_string(info.state))},
              {"media_type", info.media_type},
              {"started_at", conf::format_rfc3339_utc(info.started_at)},
              {"stopped_at", info.stopped_at ? json(conf::format_rfc3339_utc(*info.stopped_at)) : json(nullptr)},
              {"duration_seconds", static_cast<double>(std::max<std::int64_t>(duration_ms, 0)) / 1000.0},
              {"bytes", running ? recordings.live_bytes(info.id) : info.bytes},
              {"reason", optional_text(info.reason)},
              {"error", optional_text(info.error)},
              {"media_url", recording_path(info.id) + "/media"}};
}

HttpResponse not_configured() {
  return service_unavailable("recording is not configured on this server");
}

HttpResponse unknown_recording(std::string_view id) {
  return not_found("no recording " + std::string(id));
}

HttpResponse start_recording(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  const std::string conference_id(context.param("id"));
  auto started = services.recordings->start(conference_id);
  if (!started) {
    const auto& error = started.error();
    switch (error.refusal) {
      case conf::RecordingRefusal::kNoConference:
        return not_found("conference " + conference_id + " has no participants");
      case conf::RecordingRefusal::kAlreadyRecording:
        return conflict("conference " + conference_id + " is being recorded already (" + error.detail + ")");
      case conf::RecordingRefusal::kQuotaReached:
        return problem_response(
            {http::status::insufficient_storage, kProblemInsufficientStorage, "Recording quota used up",
             "recordings use " + error.detail + " of " + std::to_string(services.recordings->quota_bytes()) +
                 " bytes; delete some to record again"});
      case conf::RecordingRefusal::kTooMany:
        return service_unavailable("too many recordings are running (" + error.detail + ")", std::chrono::seconds(60));
      case conf::RecordingRefusal::kCannotRecord:
        return internal_error("the recorder could not start: " + error.detail);
    }
  }
  auto response = HttpResponse::json(http::status::created, recording_json(*services.recordings, *started));
  response.message.set(http::field::location, recording_path(started->id));
  return response;
}

HttpResponse list_recordings(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  auto page = parse_page(context.query);
  if (!page) return page.error();
  const auto all = services.recordings->catalog().list(context.query.get("conference_id"));
  auto from = all.begin();
  if (!page->after_id.empty()) {
    from = std::ranges::find_if(all, [&](const conf::RecordingInfo* info) { return info->id == page->after_id; });
    if (from != all.end()) ++from;
  }
  json items = json::array();
  json next = nullptr;
  for (auto it = from; it != all.end(); ++it) {
    if (items.size() == page->limit) {
      next = (*std::prev(it))->id;
      break;
    }
    items.push_back(recording_json(*services.recordings, **it));
  }
  return HttpResponse::json(http::status::ok, json{{"items", std::move(items)},
                                                   {"next_page_token", std::move(next)},
                                                   {"quota_bytes", services.recordings->quota_bytes()},
                                                   {"used_bytes", services.recordings->used_bytes()}});
}

HttpResponse get_recording(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  const auto* info = services.recordings->catalog().find(context.param("id"));
  if (info == nullptr) return unknown_recording(context.param("id"));
  return HttpResponse::json(http::status::ok, recording_json(*services.recordings, *info));
}

HttpResponse patch_recording(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  const std::string id(context.param("id"));
  const auto* info = services.recordings->catalog().find(id);
  if (info == nullptr || (!context.param("cid").empty() && info->conference_id != context.param("cid")))
    return unknown_recording(id);
  auto body = parse_json_body(context);
  if (!body) return body.error();
  if (!body->is_object() || !body->contains("state") || (*body)["state"] != "stopped")
    return validation_failed({{pointer_to("state"), "must be \"stopped\""}});
  if (info->state != conf::RecordingState::kRecording)  // stopped already: nothing to do
    return HttpResponse::json(http::status::ok, recording_json(*services.recordings, *info));
  services.recordings->stop(id);
  return HttpResponse::json(http::status::accepted, recording_json(*services.recordings, *info));
}

HttpResponse download_recording(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  const auto* info = services.recordings->catalog().find(context.param("id"));
  if (info == nullptr) return unknown_recording(context.param("id"));
  auto response = file_download(services.recordings->catalog().media_path(*info), info->media_type,
                                range_to_honour(context.request.message));
  const std::string file_name = info->id + "." + info->extension;
  if (response.status() < 300)
    response.message.set(http::field::content_disposition, "attachment; filename=\"" + file_name + "\"");
  return response;
}

HttpResponse delete_recording(ApiServices& services, const RequestContext& context) {
  if (services.recordings == nullptr) return not_configured();
  const std::string id(context.param("id"));
  switch (services.recordings->remove(id)) {
    case conf::RecordingService::RemoveResult::kRemoved:
      return HttpResponse::empty(http::status::no_content);
    case conf::RecordingService::RemoveResult::kNotFound:
      return unknown_recording(id);
    case conf::RecordingService::RemoveResult::kRunning:
      return conflict("recording " + id + " is running; stop it first");
    case conf::RecordingService::RemoveResult::kFailed:
      break;
  }
  return internal_error("recording " + id + " could not be deleted");
}

}  // namespace

void add_recording_routes(Router& router, ApiServices& services) {
  auto bind = [&services](HttpResponse (*handler)(ApiServices&, const RequestContext&)) {
    return [&services, handler](const RequestContext& context) { return handler(services, context); };
  };
  const RouteOptions record{Scope::kConferencesModerate, "Record a live conference"};
  const RouteOptions read{Scope::kConferencesModerate, "List, read or download recordings"};
  // Issue 14: a conference running on another node is recorded there (307, cluster_redirect.hpp).
  router.add(http::verb::post, "/v1/conferences/{id}/recordings", record, [&services](const RequestContext& context) {
    if (auto moved = conference_elsewhere(services, context, context.param("id"))) return std::move(*moved);
    return start_recording(services, context);
  });
  router.add(http::verb::patch, "/v1/conferences/{cid}/recordings/{id}", record, bind(&patch_recording));
  router.add(http::verb::get, "/v1/recordings", read, bind(&list_recordings));
  router.add(http::verb::get, "/v1/recordings/{id}", read, bind(&get_recording));
  router.add(http::verb::patch, "/v1/recordings/{id}", record, bind(&patch_recording));
  router.add(http::verb::delete_, "/v1/recordings/{id}", record, bind(&delete_recording));
  router.add(http::verb::get, "/v1/recordings/{id}/media", read, bind(&download_recording));
}

}  // namespace chorus::rest
