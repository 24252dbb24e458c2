#include "rest-api/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace chorus::rest {

namespace {

enum FamilyType { kCounterType, kGaugeType, kHistogramType };
constexpr std::array<std::string_view, 3> kTypeNames = {"counter", "gauge", "histogram"};

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void check_labels(const Labels& labels, bool histogram) {
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& name = labels[i].first;
    if (!valid_name(name, false) || name.starts_with("__")) throw std::invalid_argument("bad label name " + name);
    if (histogram && name == "le") throw std::invalid_argument("a histogram may not use the label le");
    if (name == "room" || name == "room_id") throw std::invalid_argument("per-room labels are not allowed");
    for (std::size_t j = 0; j < i; ++j) {
      if (labels[j].first == name) throw std::invalid_argument("label " + name + " given twice");
    }
  }
}

// Go's strconv 'g'-style shortest form as Prometheus clients print it: integers without a
// fraction, +Inf/-Inf/NaN spelled out.
void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    std::array<char, 32> text{};
    const auto result = std::to_chars(text.data(), text.data() + text.size(), value);
    out.append(text.data(), result.ptr);
  }
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out.push_back(c);
    }
  }
}

void append_labels(std::string& out, const Labels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out.push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out.push_back(',');
    first = false;
    out.append(name).append("=\"");
    append_escaped(out, value, true);
    out.push_back('"');
  }
  if (!le.empty()) {
    if (!first) out.push_back(',');
    out.append("le=\"").append(le).push_back('"');
  }
  out.push_back('}');
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]) || (i > 0 && bounds_[i] <= bounds_[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and strictly increasing");
    }
  }
}

void Histogram::observe(double value) {
  // The first bucket whose upper bound is >= value ("le" is inclusive).
  const auto index =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  counts_[index].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = total += counts_[i].load(std::memory_order_relaxed);
  return out;
}

std::vector<double> default_latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  int type;
  struct Entry {
    Labels labels;
    std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>, std::unique_ptr<Histogram>> metric;
  };
  std::vector<Entry> entries;

  Entry* find(const Labels& labels) {
    for (auto& entry : entries) {
      if (entry.labels == labels) return &entry;
    }
    return nullptr;
  }
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help, int type) {
  if (!valid_name(name, true)) throw std::invalid_argument("bad metric name " + std::string(name));
  for (auto& family : families_) {
    if (family->name != name) continue;
    if (family->type != type || family->help != help) {
      throw std::invalid_argument("metric " + std::string(name) + " registered twice with another type or help");
    }
    return *family;
  }
  families_.push_back(std::make_unique<Family>(Family{std::string(name), std::string(help), type, {}}));
  return *families_.back();
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help, Labels labels) {
  check_labels(labels, false);
  std::lock_guard lock(mutex_);
  auto& owner = family(name, help, kCounterType);
  if (auto* entry = owner.find(labels)) return *std::get<std::unique_ptr<Counter>>(entry->metric);
  auto& entry = owner.entries.emplace_back(std::move(labels), std::make_unique<Counter>());
  return *std::get<std::unique_ptr<Counter>>(entry.metric);
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, Labels labels) {
  check_labels(labels, false);
  std::lock_guard lock(mutex_);
  auto& owner = family(name, help, kGaugeType);
  if (auto* entry = owner.find(labels)) return *std::get<std::unique_ptr<Gauge>>(entry->metric);
  auto& entry = owner.entries.emplace_back(std::move(labels), std::make_unique<Gauge>());
  return *std::get<std::unique_ptr<Gauge>>(entry.metric);
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                      Labels labels) {
  check_labels(labels, true);
  std::lock_guard lock(mutex_);
  auto& owner = family(name, help, kHistogramType);
  if (auto* entry = owner.find(labels)) {
    auto& existing = *std::get<std::unique_ptr<Histogram>>(entry->metric);
    if (existing.bounds() != bounds) throw std::invalid_argument("histogram " + owner.name + " with other buckets");
    return existing;
  }
  auto& entry = owner.entries.emplace_back(std::move(labels), std::make_unique<Histogram>(std::move(bounds)));
  return *std::get<std::unique_ptr<Histogram>>(entry.metric);
}

void MetricsRegistry::on_collect(std::function<void()> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::render() const {
  std::vector<std::function<void()>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (const auto& collect : collectors) collect();  // outside the lock: they update metrics
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& family : families_) {
    out.append("# HELP ").append(family->name).push_back(' ');
    append_escaped(out, family->help, false);
    out.append("\n# TYPE ").append(family->name).append(" ").append(kTypeNames[family->type]).push_back('\n');
    for (const auto& entry : family->entries) {
      if (const auto* counter = std::get_if<std::unique_ptr<Counter>>(&entry.metric)) {
        out.append(family->name);
        append_labels(out, entry.labels);
        out.append(" ").append(std::to_string((*counter)->value())).push_back('\n');
      } else if (const auto* gauge = std::get_if<std::unique_ptr<Gauge>>(&entry.metric)) {
        out.append(family->name);
        append_labels(out, entry.labels);
        out.push_back(' ');
        append_number(out, (*gauge)->value());
        out.push_back('\n');
      } else {
        const auto& histogram = *std::get<std::unique_ptr<Histogram>>(entry.metric);
        const auto counts = histogram.cumulative_counts();
        for (std::size_t i = 0; i < counts.size(); ++i) {
          std::string le;
          append_number(le, i < histogram.bounds().size() ? histogram.bounds()[i] : INFINITY);
          out.append(family->name).append("_bucket");
          append_labels(out, entry.labels, le);
          out.append(" ").append(std::to_string(counts[i])).push_back('\n');
        }
        out.append(family->name).append("_sum");
        append_labels(out, entry.labels);
        out.push_back(' ');
        append_number(out, histogram.sum());
        out.append("\n").append(family->name).append("_count");
        append_labels(out, entry.labels);
        out.append(" ").append(std::to_string(counts.back())).push_back('\n');
      }
    }
  }
  return out;
}

HttpMetrics::HttpMetrics(MetricsRegistry& registry)
    : latency_(registry.histogram("chorus_http_request_duration_seconds",
                                  "Time from a complete HTTP request to its response being ready.",
                                  default_latency_buckets())),
      connections_(registry.gauge("chorus_http_connections", "Open HTTP connections.")),
      rejected_(registry.counter("chorus_http_connections_rejected_total",
                                 "HTTP connections refused with 503 at the connection cap.")),
      refused_per_ip_(
          registry.counter("chorus_http_connections_refused_per_ip_total",
                           "HTTP connections refused because their address held http_max_connections_per_ip.")),
      header_timeouts_(registry.counter("chorus_http_request_timeouts_total",
                                        "HTTP connections closed because a request did not arrive in time.",
                                        {{"phase", "header"}})),
      body_timeouts_(registry.counter("chorus_http_request_timeouts_total",
                                      "HTTP connections closed because a request did not arrive in time.",
                                      {{"phase", "body"}})) {
  for (std::size_t i = 0; i < responses_.size(); ++i) {
    responses_[i] = &registry.counter("chorus_http_responses_total", "HTTP responses sent, by status class.",
                                      {{"code", std::to_string(i + 1) + "xx"}});
  }
}

void HttpMetrics::on_response(unsigned status, std::chrono::nanoseconds latency) {
  const unsigned index = status / 100;
  if (index >= 1 && index <= 5) responses_[index - 1]->inc();
  latency_.observe(latency);
}

}  // namespace chorus::rest
