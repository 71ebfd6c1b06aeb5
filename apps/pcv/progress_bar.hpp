// A one-line progress bar on stderr: redrawn in place on a terminal; in logs, a line per 10%
// at most 5 s apart (so logs of batch jobs stay readable).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace pcv::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  // done of total, with a text such as "loss 0.41 acc 87.2%" after the bar.
  void update(double done, double total, const std::string& detail = "", double eta_seconds = -1);
  // Ends the line (call once at the end).
  void finish();

 private:
  std::string label_;
  bool terminal_;
  int last_decile_ = -1;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

std::string format_duration(double seconds);

}  // namespace pcv::cli
