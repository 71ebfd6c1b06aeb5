// Training plots: loss and accuracy curves, and the confusion matrix.
#include <algorithm>
#include <cmath>
#include <functional>

#include "modules/drawing.hpp"

namespace pcv::detail::drawing {
namespace {

const cv::Scalar kTrainColour(200, 110, 30), kValColour(30, 130, 240);

std::string format(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) >= 100 ? "%.0f" : "%.3g", v);
  return buf;
}

// One panel: series of (epoch, value) pairs over a shared x range; NaN values are gaps.
void panel(cv::Mat& img, cv::Rect area, const std::string& title, const std::vector<EpochStats>& h,
           const std::function<double(const EpochStats&)>& train,
           const std::function<double(const EpochStats&)>& val) {
  const cv::Rect plot(area.x + 55, area.y + 30, area.width - 75, area.height - 70);
  double lo = INFINITY, hi = -INFINITY;
  for (const EpochStats& e : h)
    for (double v : {train(e), val(e)})
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  const double x_max = std::max<double>(1, double(h.back().epoch));
  const auto point = [&](double epoch, double v) {
    return cv::Point(plot.x + int(std::lround((epoch / x_max) * plot.width)),
                     plot.y + plot.height - int(std::lround((v - lo) / (hi - lo) * plot.height)));
  };
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4;
    const cv::Point p = point(0, v);
    cv::line(img, p, cv::Point(plot.x + plot.width, p.y), kGrid, 1);
    text(img, format(v), cv::Point(area.x + 5, p.y + 4), 0.4);
  }
  cv::rectangle(img, plot, kInk, 1);
  text(img, title, cv::Point(area.x + 55, area.y + 20), 0.55);
  text(img, "epoch", cv::Point(plot.x + plot.width / 2 - 20, plot.y + plot.height + 35), 0.45);
  text(img, "0", cv::Point(plot.x - 4, plot.y + plot.height + 16), 0.4);
  text(img, format(x_max), cv::Point(plot.x + plot.width - 10, plot.y + plot.height + 16), 0.4);
  for (const auto& [series, colour] : {std::pair(train, kTrainColour), std::pair(val, kValColour)}) {
    std::vector<cv::Point> line;
    for (const EpochStats& e : h) {
      const double v = series(e);
      if (!std::isfinite(v)) continue;
      line.push_back(point(double(e.epoch), v));
      cv::circle(img, line.back(), 3, colour, cv::FILLED, cv::LINE_AA);
    }
    if (line.size() > 1) cv::polylines(img, line, false, colour, 2, cv::LINE_AA);
  }
  // The legend sits in the title row, clear of the curves.
  text(img, "train", cv::Point(plot.x + plot.width - 150, area.y + 20), 0.45, kTrainColour);
  text(img, "validation", cv::Point(plot.x + plot.width - 95, area.y + 20), 0.45, kValColour);
}

}  // namespace

void curves(const std::filesystem::path& path, const std::vector<EpochStats>& history) {
  if (history.empty()) return;
  cv::Mat img(400, 1000, CV_8UC3, cv::Scalar(255, 255, 255));
  panel(
      img, cv::Rect(0, 0, 500, 400), "loss", history, [](const EpochStats& e) { return e.train_loss; },
      [](const EpochStats& e) { return e.val_loss; });
  panel(
      img, cv::Rect(500, 0, 500, 400), "accuracy", history,
      [](const EpochStats& e) { return e.train_accuracy; },
      [](const EpochStats& e) { return e.val_accuracy; });
  write_png(path, img);
}

void confusion(const std::filesystem::path& path, const ConfusionMatrix& m,
               const std::vector<std::string>& labels) {
  const int n = static_cast<int>(m.classes());
  if (n == 0) return;
  const int cell = std::clamp(600 / n, 18, 60), left = 150, top = 60;
  cv::Mat img(top + n * cell + 20, std::max(left + n * cell + 20, 480), CV_8UC3, cv::Scalar(255, 255, 255));
  text(img, "rows: truth, columns: prediction", cv::Point(10, 22), 0.5);
  for (int j = 0; j < n; ++j)
    text(img, std::to_string(j), cv::Point(left + j * cell + cell / 2 - 5, top - 8), 0.4);
  for (int i = 0; i < n; ++i) {
    std::int64_t row = 0;
    for (int j = 0; j < n; ++j) row += m.count(i, j);
    const std::string name = labels.size() > std::size_t(i) ? " " + labels[i].substr(0, 16) : "";
    text(img, std::to_string(i) + name, cv::Point(5, top + i * cell + cell / 2 + 5), 0.4);
    for (int j = 0; j < n; ++j) {
      const double share = row > 0 ? double(m.count(i, j)) / double(row) : 0.0;
      const int shade = 255 - int(std::lround(share * 200));
      const cv::Rect r(left + j * cell, top + i * cell, cell, cell);
      cv::rectangle(img, r, cv::Scalar(255, shade, shade), cv::FILLED);
      cv::rectangle(img, r, kGrid, 1);
      if (cell >= 28 && m.count(i, j) > 0)
        text(img, std::to_string(m.count(i, j)), cv::Point(r.x + 3, r.y + cell / 2 + 4), 0.35,
             share > 0.6 ? cv::Scalar(255, 255, 255) : kInk);
    }
  }
  write_png(path, img);
}

}  // namespace pcv::detail::drawing
