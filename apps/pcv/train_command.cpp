// pcv train CONFIG: trains a classifier as the config file says (see docs in README).
#include <pcv/threads.hpp>
#include <pcv/trainer.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "progress_bar.hpp"

namespace pcv::cli {

void add_train_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand(
      "train",
      "Train a point-cloud classifier. CONFIG (JSON) names the initial model file, the data (class\n"
      "folders or a file list), preprocessing, augmentation, loss, optimizer, schedule and epochs.\n"
      "Writes model.safetensors, checkpoint.safetensors, log.csv, curves.png and confusion.png\n"
      "into its output_dir.");
  auto config_path = std::make_shared<std::string>();
  auto resume = std::make_shared<bool>(false);
  auto epochs = std::make_shared<std::int64_t>(0);
  auto output_dir = std::make_shared<std::string>();
  cmd->add_option("config", *config_path, "Training config file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--resume", *resume, "Continue from output_dir/checkpoint.safetensors");
  cmd->add_option("--epochs", *epochs, "Override the config's number of epochs")->check(CLI::PositiveNumber);
  cmd->add_option("--output-dir", *output_dir, "Override the config's output_dir")->type_name("DIR");
  cmd->callback([&options, config_path, resume, epochs, output_dir] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    TrainConfig config = TrainConfig::from_file(*config_path);
    if (*epochs > 0) config.epochs = *epochs;
    if (!output_dir->empty()) config.output_dir = *output_dir;
    if (config.threads == 0) config.threads = num_threads();
    Trainer trainer(registry, config);
    std::unique_ptr<ProgressBar> bar;
    trainer.on_progress = [&](const TrainProgress& p) {
      if (!bar)
        bar = std::make_unique<ProgressBar>("epoch " + std::to_string(p.epoch) + "/" +
                                            std::to_string(p.epochs));
      char detail[128];
      std::snprintf(detail, sizeof detail, "loss %.4f  acc %5.1f%%  %.0f samples/s", p.loss, 100 * p.accuracy,
                    p.samples_per_second);
      bar->update(double(p.step), double(p.steps), detail, p.eta_seconds);
    };
    trainer.on_warning = [&](const std::string& m) {
      if (bar) bar->finish();
      std::fprintf(stderr, "pcv: warning: skipped %s\n", m.c_str());
    };
    trainer.on_epoch = [&](const EpochStats& e) {
      if (bar) bar->finish();
      bar.reset();
      std::fprintf(stderr, "epoch %lld: lr %.3g  train loss %.4f acc %.1f%%", static_cast<long long>(e.epoch),
                   e.lr, e.train_loss, 100 * e.train_accuracy);
      if (!std::isnan(e.val_accuracy))
        std::fprintf(stderr, "  val loss %.4f acc %.1f%%", e.val_loss, 100 * e.val_accuracy);
      if (!std::isnan(e.val_miou)) std::fprintf(stderr, " mIoU %.1f%%", 100 * e.val_miou);
      std::fprintf(stderr, "  (%s)\n", format_duration(e.seconds).c_str());
    };
    trainer.run(*resume);
    std::cout << "trained model: " << (config.output_dir / "model.safetensors").string() << "\n";
  });
}

}  // namespace pcv::cli
