// A small Prometheus metrics registry rendering the text exposition format 0.0.4: counters,
// gauges and histograms grouped in families with HELP and TYPE lines, each metric with a label set
// fixed when it is registered.
//
// Why not prometheus-cpp: it is not packaged in Debian 12, and the project installs its
// dependencies from Debian (scripts/install-deps.sh); what /metrics needs fits in this file.
//
// Labels must have bounded values: no per-room, per-call or per-key labels (the REST issue forbids
// them; they would grow without bound). Label names "room" and "room_id" are refused.
//
// Threading: registering and rendering take the registry's mutex; updating a metric is a relaxed
// atomic operation, safe from any thread (control loop, media workers, the REST thread). Metric
// references stay valid for the registry's lifetime.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chorus::rest {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void inc(std::uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void dec(double amount = 1) { value_.fetch_sub(amount, std::memory_order_relaxed); }
  [[nodiscard]] double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, finite and strictly increasing; +Inf is implied.
  explicit Histogram(std::vector<double> bounds);
  void observe(double value);
  void observe(std::chrono::nanoseconds duration) { observe(std::chrono::duration<double>(duration).count()); }

  [[nodiscard]] const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then the +Inf count (= the total), as rendered.
  [[nodiscard]] std::vector<std::uint64_t> cumulative_counts() const;
  [[nodiscard]] double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// Default latency buckets in seconds, 1 ms to 10 s.
std::vector<double> default_latency_buckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registers (or returns the already registered) metric `name{labels}`. Throws
  // std::invalid_argument for a bad name or label, a name reused with another type or help, or a
  // histogram re-registered with other buckets (startup wiring errors).
  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds, Labels labels = {});

  // Runs before every render (on the rendering thread), e.g. to copy another module's counter
  // snapshot into gauges. Collectors must not register metrics.
  void on_collect(std::function<void()> collector);

  // The exposition text: families in registration order, metrics in registration order.
  [[nodiscard]] std::string render() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, int type);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family>> families_;
  std::vector<std::function<void()>> collectors_;
};

// The REST server's own metrics, with bounded labels (status class only).
class HttpMetrics {
 public:
  explicit HttpMetrics(MetricsRegistry& registry);

  void on_response(unsigned status, std::chrono::nanoseconds latency);
  void on_connection_opened() { connections_.inc(); }
  void on_connection_closed() { connections_.dec(); }
  void on_connection_rejected() { rejected_.inc(); }
  // Issue 12: a connection over http_max_connections_per_ip (refused with 503, or closed at once
  // when even the refusals are at their cap).
  void on_connection_refused_per_ip() { refused_per_ip_.inc(); }
  // A request whose header block (or body) did not arrive in time: closed, 408 when it can be sent.
  void on_request_timeout(bool body) { (body ? body_timeouts_ : header_timeouts_).inc(); }

 private:
  std::array<Counter*, 5> responses_{};  // 1xx … 5xx
  Histogram& latency_;
  Gauge& connections_;
  Counter& rejected_;
  Counter& refused_per_ip_;
  Counter& header_timeouts_;
  Counter& body_timeouts_;
};

}  // namespace chorus::rest
