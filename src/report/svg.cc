#include "report/svg.h"

#include <fmt/format.h>

#include <algorithm>

#include "report/html.h"

namespace cf::report {
namespace {

constexpr int kMarginLeft = 56;
constexpr int kMarginRight = 150;  // room for the legend
constexpr int kMarginTop = 30;
constexpr int kMarginBottom = 44;
constexpr int kTicks = 5;

struct Frame {
  const ChartOptions& o;
  double px(double x) const {
    return kMarginLeft + (x - o.x_min) / (o.x_max - o.x_min) * (o.width - kMarginLeft - kMarginRight);
  }
  double py(double y) const {
    return o.height - kMarginBottom - (y - o.y_min) / (o.y_max - o.y_min) * (o.height - kMarginTop - kMarginBottom);
  }
};

std::string Open(const ChartOptions& o) {
  return fmt::format(
      R"(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" font-size="11">)"
      R"(<text x="{}" y="18" font-size="13" font-weight="bold">{}</text>)",
      o.width, o.height, o.width, o.height, kMarginLeft, Escape(o.title));
}

std::string Axes(const Frame& f, bool x_ticks) {
  const ChartOptions& o = f.o;
  std::string s;
  for (int i = 0; i <= kTicks; ++i) {
    const double y = o.y_min + (o.y_max - o.y_min) * i / kTicks;
    s += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#eee"/>)", f.px(o.x_min), f.py(y),
                     f.px(o.x_max), f.py(y));
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end">{:.3g}</text>)", f.px(o.x_min) - 4, f.py(y) + 4,
                     y);
    if (x_ticks) {
      const double x = o.x_min + (o.x_max - o.x_min) * i / kTicks;
      s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{:.3g}</text>)", f.px(x), f.py(o.y_min) + 14,
                       x);
    }
  }
  s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{2:.1f}" y2="{1:.1f}" stroke="#444"/>)", f.px(o.x_min),
                   f.py(o.y_min), f.px(o.x_max));
  s += fmt::format(R"(<line x1="{0:.1f}" y1="{1:.1f}" x2="{0:.1f}" y2="{2:.1f}" stroke="#444"/>)", f.px(o.x_min),
                   f.py(o.y_min), f.py(o.y_max));
  s += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{}</text>)", (f.px(o.x_min) + f.px(o.x_max)) / 2,
                   o.height - 8, Escape(o.x_label));
  s += fmt::format(R"svg(<text x="12" y="{:.1f}" text-anchor="middle" transform="rotate(-90 12 {:.1f})">{}</text>)svg",
                   (f.py(o.y_min) + f.py(o.y_max)) / 2, (f.py(o.y_min) + f.py(o.y_max)) / 2, Escape(o.y_label));
  return s;
}

std::string Legend(const ChartOptions& o, const std::vector<Series>& series) {
  std::string s;
  for (size_t i = 0; i < series.size(); ++i) {
    const int y = kMarginTop + 10 + static_cast<int>(i) * 16;
    const int x = o.width - kMarginRight + 12;
    s += fmt::format(R"(<rect x="{}" y="{}" width="12" height="3" fill="{}"/>)", x, y - 4, SeriesColor(i));
    s += fmt::format(R"(<text x="{}" y="{}">{}</text>)", x + 16, y, Escape(series[i].name));
  }
  return s;
}

}  // namespace

std::string SeriesColor(size_t i) {
  static const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return kPalette[i % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::string LineChart(const ChartOptions& options, const std::vector<Series>& series) {
  const Frame f{options};
  std::string s = Open(options) + Axes(f, true);
  if (options.diagonal) {
    const double lo = std::max(options.x_min, options.y_min);
    const double hi = std::min(options.x_max, options.y_max);
    s += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#999" stroke-dasharray="4 3"/>)",
                     f.px(lo), f.py(lo), f.px(hi), f.py(hi));
  }
  for (size_t i = 0; i < series.size(); ++i) {
    std::string points;
    for (const auto& [x, y] : series[i].points) {
      points += fmt::format("{:.1f},{:.1f} ", f.px(std::clamp(x, options.x_min, options.x_max)),
                            f.py(std::clamp(y, options.y_min, options.y_max)));
    }
    s += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="1.6" points="{}"/>)", SeriesColor(i), points);
  }
  return s + Legend(options, series) + "</svg>";
}

std::string BarChart(const ChartOptions& options, const std::vector<std::string>& categories,
                     const std::vector<Series>& series) {
  const Frame f{options};
  std::string s = Open(options) + Axes(f, false);
  const double group_width = (f.px(options.x_max) - f.px(options.x_min)) / std::max<size_t>(1, categories.size());
  const double bar = group_width * 0.8 / std::max<size_t>(1, series.size());
  for (size_t c = 0; c < categories.size(); ++c) {
    const double x0 = f.px(options.x_min) + group_width * static_cast<double>(c) + group_width * 0.1;
    s += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)", x0 + group_width * 0.4,
                     f.py(options.y_min) + 14, Escape(categories[c]));
    for (size_t i = 0; i < series.size(); ++i) {
      if (c >= series[i].points.size()) {
        continue;
      }
      const double y = std::clamp(series[i].points[c].second, options.y_min, options.y_max);
      s += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"/>)",
                       x0 + bar * static_cast<double>(i), f.py(y), bar, f.py(options.y_min) - f.py(y), SeriesColor(i));
    }
  }
  return s + Legend(options, series) + "</svg>";
}

}  // namespace cf::report
