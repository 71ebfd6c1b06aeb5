// The ROC curve of a verification report as a PNG (drawn with OpenCV, written atomically).
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "modules/drawing.hpp"

namespace pcv::detail::drawing {
namespace {

const cv::Scalar kCurve(200, 110, 30), kChance(170, 170, 170), kMinorGrid(242, 242, 242), kMark(30, 130, 240);
constexpr double kMinFar = 1e-4;  // the left edge; smaller FARs (0 included) are drawn on it

}  // namespace

void roc(const std::filesystem::path& path, const VerificationReport& report) {
  cv::Mat img(560, 680, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Rect plot(70, 50, 580, 440);
  const double decades = -std::log10(kMinFar);
  const auto x_of = [&](double far) {
    const double f = std::log10(std::clamp(far, kMinFar, 1.0));
    return plot.x + int(std::lround((f + decades) / decades * plot.width));
  };
  const auto y_of = [&](double tar) {
    return plot.y + plot.height - int(std::lround(std::clamp(tar, 0.0, 1.0) * plot.height));
  };

  // Gridlines: every decade and its multiples along FAR, every 0.1 along TAR.
  for (int e = -int(decades); e <= 0; ++e) {
    for (int m = 2; m <= 9 && e < 0; ++m) {
      const int x = x_of(m * std::pow(10.0, e));
      cv::line(img, cv::Point(x, plot.y), cv::Point(x, plot.y + plot.height), kMinorGrid, 1);
    }
    const int x = x_of(std::pow(10.0, e));
    cv::line(img, cv::Point(x, plot.y), cv::Point(x, plot.y + plot.height), kGrid, 1);
    const std::string label = e == 0 ? "1" : e == -1 ? "0.1" : e == -2 ? "0.01" : "1e" + std::to_string(e);
    text(img, label, cv::Point(x - 4 * int(label.size()), plot.y + plot.height + 18), 0.42);
  }
  for (int i = 0; i <= 10; ++i) {
    const int y = y_of(i / 10.0);
    cv::line(img, cv::Point(plot.x, y), cv::Point(plot.x + plot.width, y), kGrid, 1);
    char label[8];
    std::snprintf(label, sizeof label, "%.1f", i / 10.0);
    text(img, label, cv::Point(plot.x - 32, y + 5), 0.42);
  }
  cv::rectangle(img, plot, kInk, 1);

  // Chance (TAR = FAR), a curve on the log axis.
  std::vector<cv::Point> chance;
  for (int i = 0; i <= 200; ++i) {
    const double far = std::pow(10.0, -decades + decades * i / 200);
    chance.push_back(cv::Point(x_of(far), y_of(far)));
  }
  cv::polylines(img, chance, false, kChance, 1, cv::LINE_AA);

  // The curve; consecutive points on the same pixel are drawn once.
  std::vector<cv::Point> curve;
  for (const RocPoint& p : report.roc) {
    const cv::Point q(x_of(p.far), y_of(p.tar));
    if (curve.empty() || curve.back() != q) curve.push_back(q);
  }
  if (curve.size() > 1) cv::polylines(img, curve, false, kCurve, 2, cv::LINE_AA);
  for (const TarAtFar& t : report.tar_at_far)
    if (t.tar) cv::circle(img, cv::Point(x_of(t.far), y_of(*t.tar)), 4, kMark, cv::FILLED, cv::LINE_AA);

  char title[160];
  std::snprintf(title, sizeof title, "ROC: %zu pairs (%zu same, %zu different), %s", report.pairs,
                report.positives, report.negatives, verification_metric_name(report.metric));
  text(img, title, cv::Point(plot.x, 30), 0.5);
  text(img, "TAR", cv::Point(plot.x - 60, plot.y - 8), 0.45);
  text(img, "FAR (log scale)", cv::Point(plot.x + plot.width / 2 - 55, plot.y + plot.height + 45), 0.45);

  // Legend, lower right, clear of a good curve (which hugs the top).
  const cv::Rect legend(plot.x + plot.width - 230, plot.y + plot.height - 78, 220, 68);
  cv::rectangle(img, legend, cv::Scalar(255, 255, 255), cv::FILLED);
  cv::rectangle(img, legend, kGrid, 1);
  char auc[64];
  std::snprintf(auc, sizeof auc, "ROC, AUC = %.4f", report.auc);
  const auto entry = [&](int row, const std::string& label, cv::Scalar colour, bool dot) {
    const int y = legend.y + 18 + 20 * row;
    if (dot)
      cv::circle(img, cv::Point(legend.x + 22, y - 4), 4, colour, cv::FILLED, cv::LINE_AA);
    else
      cv::line(img, cv::Point(legend.x + 10, y - 4), cv::Point(legend.x + 34, y - 4), colour, 2, cv::LINE_AA);
    text(img, label, cv::Point(legend.x + 42, y), 0.42);
  };
  entry(0, auc, kCurve, false);
  entry(1, "chance (TAR = FAR)", kChance, false);
  entry(2, "TAR at the FAR targets", kMark, true);

  write_png(path, img);
}

}  // namespace pcv::detail::drawing
