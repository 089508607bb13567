// Implementation of the metrics registry (see metrics.h).

#include "server/common/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace sftpgate::server {
namespace {

// 100 us .. 10 s, roughly 1-2.5-5 per decade.
std::vector<double> DefaultBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

void AppendEscapedLabelValue(absl::string_view value, std::string* out) {
  for (char c : value) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '"') {
      out->append("\\\"");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// {k="v",...}; `extra` (e.g. le="0.5") comes last. Empty when no labels.
std::string LabelText(
    const MetricLabels& labels,
    const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr) return "";
  std::string out = "{";
  bool first = true;
  auto add = [&](const std::pair<std::string, std::string>& label) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, label.first, "=\"");
    AppendEscapedLabelValue(label.second, &out);
    out.push_back('"');
  };
  for (const auto& label : labels) add(label);
  if (extra != nullptr) add(*extra);
  out.push_back('}');
  return out;
}

std::string FormatDouble(double value) {
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return absl::StrCat(value);
}

std::vector<std::string> LabelNames(const MetricLabels& labels) {
  std::vector<std::string> names;
  for (const auto& label : labels) names.push_back(label.first);
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------
// Histogram.

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(bounds_.size() + 1) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double seconds) {
  // The first bucket whose bound is >= the value (Prometheus "le").
  size_t index = std::lower_bound(bounds_.begin(), bounds_.end(), seconds) -
                 bounds_.begin();
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  double micros = std::max(0.0, seconds) * 1e6;
  sum_micros_.fetch_add(static_cast<uint64_t>(std::llround(micros)),
                        std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> counts;
  counts.reserve(buckets_.size());
  uint64_t total = 0;
  for (const auto& bucket : buckets_) {
    total += bucket.load(std::memory_order_relaxed);
    counts.push_back(total);
  }
  return counts;
}

uint64_t Histogram::count() const {
  return count_.load(std::memory_order_relaxed);
}

double Histogram::sum() const {
  return sum_micros_.load(std::memory_order_relaxed) / 1e6;
}

// ---------------------------------------------------------------------------
// Registry.

struct Metrics::Impl {
  enum class Kind { kCounter, kGauge, kHistogram };
  using Series = std::variant<std::unique_ptr<Counter>, std::unique_ptr<Gauge>,
                              std::unique_ptr<Histogram>>;
  struct Family {
    Kind kind;
    std::string help;
    std::vector<std::string> label_names;
    std::map<MetricLabels, Series> series;  // sorted: stable output
  };

  template <typename T, Kind kKind, typename Make>
  T* Get(absl::string_view name, absl::string_view help,
         const MetricLabels& labels, Make make) {
    absl::MutexLock lock(&mu);
    auto [it, inserted] = families.try_emplace(std::string(name));
    Family& family = it->second;
    if (inserted) {
      family.kind = kKind;
      family.help = std::string(help);
      family.label_names = LabelNames(labels);
    }
    if (family.kind != kKind || family.label_names != LabelNames(labels)) {
      // Misuse: hand out an object nobody exports.
      detached.push_back(make());
      return std::get<std::unique_ptr<T>>(detached.back()).get();
    }
    auto [series, created] = family.series.try_emplace(labels);
    if (created) series->second = make();
    return std::get<std::unique_ptr<T>>(series->second).get();
  }

  mutable absl::Mutex mu;
  std::map<std::string, Family> families ABSL_GUARDED_BY(mu);
  std::vector<Series> detached ABSL_GUARDED_BY(mu);
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

Metrics& Metrics::Global() {
  static Metrics* const global = new Metrics();  // never destroyed
  return *global;
}

Counter* Metrics::GetCounter(absl::string_view name, absl::string_view help,
                             const MetricLabels& labels) {
  return impl_->Get<Counter, Impl::Kind::kCounter>(
      name, help, labels, [] { return std::make_unique<Counter>(); });
}

Gauge* Metrics::GetGauge(absl::string_view name, absl::string_view help,
                         const MetricLabels& labels) {
  return impl_->Get<Gauge, Impl::Kind::kGauge>(
      name, help, labels, [] { return std::make_unique<Gauge>(); });
}

Histogram* Metrics::GetHistogram(absl::string_view name, absl::string_view help,
                                 const MetricLabels& labels) {
  return impl_->Get<Histogram, Impl::Kind::kHistogram>(name, help, labels, [] {
    return std::make_unique<Histogram>(DefaultBuckets());
  });
}

std::string Metrics::RenderPrometheus() const {
  std::string out;
  absl::MutexLock lock(&impl_->mu);
  for (const auto& [name, family] : impl_->families) {
    const char* type = family.kind == Impl::Kind::kCounter ? "counter"
                       : family.kind == Impl::Kind::kGauge ? "gauge"
                                                           : "histogram";
    std::string help;
    for (char c : family.help) {
      if (c == '\\') {
        help.append("\\\\");
      } else if (c == '\n') {
        help.append("\\n");
      } else {
        help.push_back(c);
      }
    }
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
    for (const auto& [labels, series] : family.series) {
      if (const auto* counter =
              std::get_if<std::unique_ptr<Counter>>(&series)) {
        absl::StrAppend(&out, name, LabelText(labels), " ", (*counter)->value(),
                        "\n");
      } else if (const auto* gauge =
                     std::get_if<std::unique_ptr<Gauge>>(&series)) {
        absl::StrAppend(&out, name, LabelText(labels), " ", (*gauge)->value(),
                        "\n");
      } else {
        const Histogram& histogram =
            *std::get<std::unique_ptr<Histogram>>(series);
        std::vector<uint64_t> counts = histogram.CumulativeCounts();
        const std::vector<double>& bounds = histogram.upper_bounds();
        for (size_t i = 0; i < counts.size(); ++i) {
          std::pair<std::string, std::string> le{
              "le", i < bounds.size() ? FormatDouble(bounds[i]) : "+Inf"};
          absl::StrAppend(&out, name, "_bucket", LabelText(labels, &le), " ",
                          counts[i], "\n");
        }
        absl::StrAppend(&out, name, "_sum", LabelText(labels), " ",
                        FormatDouble(histogram.sum()), "\n", name, "_count",
                        LabelText(labels), " ", histogram.count(), "\n");
      }
    }
  }
  return out;
}

}  // namespace sftpgate::server
