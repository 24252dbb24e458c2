// GET /v1/events (scope rooms:read): the conference event log as Server-Sent Events (WHATWG HTML
// §9.2). Each event is "id: N\nevent: TYPE\ndata: {id,type,timestamp,data}\n\n" (format_sse).
//
// Resuming (§9.2.4): the `Last-Event-ID` header, or `?last_event_id=N` for clients that cannot set
// headers, replays the events after N still in the log (EventLog::since), then goes live without a
// gap or a duplicate. When some of them are gone (fell out of the ring, or N is from an earlier
// run) the stream first sends an event "stream.reset" without an id: the client re-reads state.
// Without either, the stream starts with the next event. `?types=a,b` (repeatable) keeps only
// those types; 400 for an unknown type or a last id that is not a decimal number.
//
// Lifetime of a stream: the handler makes an EventStreamQueue (the response's source) and a
// subscription whose callback pushes into it. The subscription is held by a registry that the
// route owns — not by the callback, so nothing keeps itself alive. When the client goes away the
// session closes the queue; the next event published then finds push() false (or ended()) and the
// callback drops its own registry entry, releasing the subscription on that control-loop turn
// (event_log.hpp allows a callback to destroy its own Subscription). Streams whose client left
// while no event came are swept when the next stream opens, and all are released with the Router.
//
// Limits (issue 12, ApiServices::event_streams): at most `max_per_key` streams per API key (and
// for the admin token) — one more gets 429 problem+json with Retry-After — and `max_streams` in
// all (503 beyond); the server's connection caps also apply. Every `revalidate_interval` (on
// ApiServices::timers) the keys of open streams are looked up again, and the streams of a key that
// was deleted or lost rooms:read end cleanly (the queue finishes; the client sees the chunked
// body end), so revoking a key takes its live readers with it within about that interval.
//
// Threading: the handler and the callbacks run on the control loop (EventLog::publish is
// control-loop only), so the registry needs no lock; the queue is the thread-safe hand-off to the
// REST thread.
#pragma once

#include <cstddef>

#include "rest-api/api/api_services.hpp"
#include "rest-api/router.hpp"

namespace chorus::rest {

inline constexpr std::size_t kMaxEventStreams = EventStreamLimits{}.max_streams;  // the default
// The replay is sent in chunks of this many events (at least), so that a long backlog fits the
// queue's bound (EventStreamQueue::kDefaultMaxQueued chunks) with room left for live events.
inline constexpr std::size_t kReplayEventsPerChunk = 64;
inline constexpr std::string_view kStreamResetEvent = "stream.reset";

void add_event_routes(Router& router, ApiServices& services);

}  // namespace chorus::rest
