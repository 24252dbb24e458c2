// AsioTimerQueue: TimerQueue on a boost::asio io_context, with one steady_timer armed for the
// earliest deadline. Threading: lives on the io_context's thread (the control loop).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/timer_queue.hpp"

namespace chorus {

class AsioTimerQueue final : public TimerQueue {
 public:
  explicit AsioTimerQueue(boost::asio::io_context& io) : timer_(io) {}
  [[nodiscard]] TimePoint now() const override { return SteadyClock::now(); }

 private:
  void on_earliest_changed(TimePoint when) override;
  void arm(TimePoint when);

  boost::asio::steady_timer timer_;
  std::optional<TimePoint> armed_for_;
};

}  // namespace chorus
