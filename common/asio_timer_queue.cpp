#include "common/asio_timer_queue.hpp"

namespace chorus {

void AsioTimerQueue::on_earliest_changed(TimePoint when) {
  if (armed_for_ && *armed_for_ <= when) return;
  arm(when);
}

void AsioTimerQueue::arm(TimePoint when) {
  armed_for_ = when;
  timer_.expires_at(when);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // re-armed earlier, or shutting down
    armed_for_.reset();
    if (auto next = run_due(now())) arm(*next);
  });
}

}  // namespace chorus
