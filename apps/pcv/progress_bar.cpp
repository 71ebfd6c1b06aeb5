#include "progress_bar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace pcv::cli {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      terminal_(isatty(STDERR_FILENO) != 0),
      last_draw_(std::chrono::steady_clock::now()) {}

std::string format_duration(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "?";
  const long t = std::lround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

void ProgressBar::update(double done, double total, const std::string& detail, double eta_seconds) {
  const double share = total > 0 ? std::clamp(done / total, 0.0, 1.0) : 1.0;
  const auto now = std::chrono::steady_clock::now();
  std::string eta = eta_seconds >= 0 ? "  ETA " + format_duration(eta_seconds) : "";
  if (terminal_) {
    // Redrawing costs a write per call: at most ~10 per second, plus the final state.
    if (share < 1.0 && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    const int width = 28, filled = static_cast<int>(share * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r\033[K%s [%s] %3.0f%%  %s%s", label_.c_str(), bar.c_str(), share * 100,
                 detail.c_str(), eta.c_str());
    std::fflush(stderr);
    drawn_ = true;
    last_draw_ = now;
    return;
  }
  // Logs: one line per 10% at most, and only for work long enough to need it (5 s apart).
  const int decile = static_cast<int>(share * 10);
  if (decile == last_decile_ || now - last_draw_ < std::chrono::seconds(5)) return;
  last_decile_ = decile;
  last_draw_ = now;
  std::fprintf(stderr, "%s %3.0f%%  %s%s\n", label_.c_str(), share * 100, detail.c_str(), eta.c_str());
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace pcv::cli
