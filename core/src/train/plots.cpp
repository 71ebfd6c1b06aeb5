// libpcv's plotting calls, forwarded to the plots module (modules/plots.hpp).
#include "train/plots.hpp"

#include <pcv/verification.hpp>

#include "modules/plots.hpp"

namespace pcv {

namespace detail {

void plot_curves(const std::filesystem::path& path, const std::vector<EpochStats>& history) {
  plots().curves(path, history);
}

void plot_confusion(const std::filesystem::path& path, const ConfusionMatrix& confusion,
                    const std::vector<std::string>& labels) {
  plots().confusion(path, confusion, labels);
}

}  // namespace detail

void plot_roc(const std::filesystem::path& path, const VerificationReport& report) {
  detail::plots().roc(path, report);
}

}  // namespace pcv
