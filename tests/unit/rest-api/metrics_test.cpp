#include "rest-api/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace chorus::rest {
namespace metrics_test {

using namespace std::chrono_literals;

TEST(Metrics, RendersTextFormat004Exactly) {
  MetricsRegistry registry;
  auto& calls_in = registry.counter("chorus_sip_calls_total", "SIP calls by outcome.", {{"outcome", "answered"}});
  auto& calls_failed = registry.counter("chorus_sip_calls_total", "SIP calls by outcome.", {{"outcome", "failed"}});
  auto& rooms = registry.gauge("chorus_rooms_active", "Rooms with at least one participant.");
  auto& latency = registry.histogram("chorus_http_request_duration_seconds", "Request latency.", {0.01, 0.1, 1});
  calls_in.inc(3);
  calls_failed.inc();
  rooms.set(2);
  rooms.inc(0.5);
  latency.observe(0.005);
  latency.observe(0.01);  // on a bound: counted in that bucket ("le" is inclusive)
  latency.observe(0.5);
  latency.observe(2.0);
  EXPECT_EQ(registry.render(),
            "# HELP chorus_sip_calls_total SIP calls by outcome.\n"
            "# TYPE chorus_sip_calls_total counter\n"
            "chorus_sip_calls_total{outcome=\"answered\"} 3\n"
            "chorus_sip_calls_total{outcome=\"failed\"} 1\n"
            "# HELP chorus_rooms_active Rooms with at least one participant.\n"
            "# TYPE chorus_rooms_active gauge\n"
            "chorus_rooms_active 2.5\n"
            "# HELP chorus_http_request_duration_seconds Request latency.\n"
            "# TYPE chorus_http_request_duration_seconds histogram\n"
            "chorus_http_request_duration_seconds_bucket{le=\"0.01\"} 2\n"
            "chorus_http_request_duration_seconds_bucket{le=\"0.1\"} 2\n"
            "chorus_http_request_duration_seconds_bucket{le=\"1\"} 3\n"
            "chorus_http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"
            "chorus_http_request_duration_seconds_sum 2.515\n"
            "chorus_http_request_duration_seconds_count 4\n");
}

TEST(Metrics, EscapesHelpAndLabelValues) {
  MetricsRegistry registry;
  registry.gauge("g", "line one\nback\\slash \"quoted\"", {{"path", "a\"b\\c\nd"}}).set(-1);
  EXPECT_EQ(registry.render(),
            "# HELP g line one\\nback\\\\slash \"quoted\"\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\"b\\\\c\\nd\"} -1\n");
}

TEST(Metrics, HistogramLabelsComeBeforeLe) {
  MetricsRegistry registry;
  registry.histogram("h", "x", {1}, {{"engine", "mcu"}}).observe(3s);
  EXPECT_EQ(registry.render(),
            "# HELP h x\n# TYPE h histogram\n"
            "h_bucket{engine=\"mcu\",le=\"1\"} 0\n"
            "h_bucket{engine=\"mcu\",le=\"+Inf\"} 1\n"
            "h_sum{engine=\"mcu\"} 3\n"
            "h_count{engine=\"mcu\"} 1\n");
}

TEST(Metrics, SameNameAndLabelsReturnTheSameMetric) {
  MetricsRegistry registry;
  auto& a = registry.counter("c_total", "help", {{"k", "v"}});
  auto& b = registry.counter("c_total", "help", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
}

TEST(Metrics, WiringErrorsThrow) {
  MetricsRegistry registry;
  registry.counter("c_total", "help");
  EXPECT_THROW(registry.gauge("c_total", "help"), std::invalid_argument);
  EXPECT_THROW(registry.counter("c_total", "other help"), std::invalid_argument);
  EXPECT_THROW(registry.counter("1bad", "help"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "help", {{"bad-label", "v"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "help", {{"room", "1000"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h", "help", {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "help", {1}, {{"le", "x"}}), std::invalid_argument);
}

TEST(Metrics, CollectorsRunBeforeRender) {
  MetricsRegistry registry;
  auto& gauge = registry.gauge("chorus_media_sessions", "Media sessions.");
  int source = 7;
  registry.on_collect([&] { gauge.set(source); });
  EXPECT_EQ(registry.render(),
            "# HELP chorus_media_sessions Media sessions.\n# TYPE chorus_media_sessions gauge\n"
            "chorus_media_sessions 7\n");
}

TEST(Metrics, UpdatesFromSeveralThreadsAreAllCounted) {
  MetricsRegistry registry;
  auto& counter = registry.counter("c_total", "help");
  auto& histogram = registry.histogram("h", "help", {0.5});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        counter.inc();
        histogram.observe(1.0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40'000U);
  EXPECT_EQ(histogram.cumulative_counts().back(), 40'000U);
  EXPECT_EQ(histogram.sum(), 40'000.0);
}

TEST(HttpMetrics, CountsByStatusClass) {
  MetricsRegistry registry;
  HttpMetrics http(registry);
  http.on_response(200, 2ms);
  http.on_response(204, 2ms);
  http.on_response(404, 20ms);
  http.on_connection_opened();
  const auto text = registry.render();
  EXPECT_NE(text.find("chorus_http_responses_total{code=\"2xx\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_responses_total{code=\"4xx\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_request_duration_seconds_count 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chorus_http_connections 1\n"), std::string::npos) << text;
}

}  // namespace metrics_test
}  // namespace chorus::rest
