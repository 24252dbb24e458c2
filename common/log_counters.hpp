// What the log itself counts, published for /metrics and the status line (published_counter.hpp):
// the lines of real-time threads that the deferred writer had no room for (log.hpp,
// defer_this_thread_logs). Its own header so that the server, not every file that logs, includes it.
#pragma once

#include "common/published_counter.hpp"

namespace chorus {

[[nodiscard]] PublishedCounter deferred_log_lines_dropped_counter();

}  // namespace chorus
