// PNG plots of a training run, written atomically (drawn by the plots module, modules/plots.hpp).
#pragma once

#include <pcv/metrics.hpp>
#include <pcv/trainer.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace pcv::detail {

// Loss and accuracy per epoch, training and validation, side by side.
void plot_curves(const std::filesystem::path& path, const std::vector<EpochStats>& history);
// The confusion matrix, each row normalised to the class's samples, with counts in the cells.
void plot_confusion(const std::filesystem::path& path, const ConfusionMatrix& confusion,
                    const std::vector<std::string>& labels);

}  // namespace pcv::detail
