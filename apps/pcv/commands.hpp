// The subcommands of the pcv CLI; each lives in its own file.
#pragma once

#include <CLI/CLI.hpp>

#include "plugin_loading.hpp"

namespace pcv::cli {

void add_plugins_command(CLI::App& app, const PluginOptions& options);
void add_ops_command(CLI::App& app, const PluginOptions& options);
void add_op_command(CLI::App& app, const PluginOptions& options);
void add_train_command(CLI::App& app, const PluginOptions& options);
void add_rf_command(CLI::App& app, const PluginOptions& options);
void add_eval_command(CLI::App& app, const PluginOptions& options);
void add_classify_command(CLI::App& app, const PluginOptions& options);
void add_verify_command(CLI::App& app, const PluginOptions& options);
void add_run_command(CLI::App& app, const PluginOptions& options);
void add_label_command(CLI::App& app, const PluginOptions& options);
void add_segment_command(CLI::App& app, const PluginOptions& options);
void add_faces_command(CLI::App& app, const PluginOptions& options);

}  // namespace pcv::cli
