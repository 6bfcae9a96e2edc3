// SVG charts for reports: line charts (cumulative gains, calibration) and grouped bars
// (decile tables). Pure functions from data to markup.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cf::report {

struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
};

struct ChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  double x_min = 0, x_max = 1;  // axis ranges
  double y_min = 0, y_max = 1;
  bool diagonal = false;  // draw the y = x reference (random targeting, perfect calibration)
  int width = 560;        // pixels
  int height = 360;
};

std::string LineChart(const ChartOptions& options, const std::vector<Series>& series);

// One group of bars per category label; one bar per series in each group.
std::string BarChart(const ChartOptions& options, const std::vector<std::string>& categories,
                     const std::vector<Series>& series);

// The colour of series i, shared by charts and legends.
std::string SeriesColor(size_t i);

}  // namespace cf::report
