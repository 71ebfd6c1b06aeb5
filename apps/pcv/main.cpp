// pcv - command-line client of libpcv.
#include <pcv/plugin.h>
#include <pcv/error.hpp>
#include <pcv/threads.hpp>
#include <pcv/version.hpp>

#include <cstdio>
#include <exception>
#include <string>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "pcv - point-cloud and vision deep learning with operator plugins.\n\n"
      "Plugins are searched in --plugin-path entries, then in $PCV_PLUGIN_PATH\n"
      "(':'-separated directories or .so files), then in pcv/plugins beside libpcv."};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --plugin-path may also follow the subcommand
  const std::string version = std::string("pcv ") + pcv::kVersion + " (plugin ABI " +
                              std::to_string(PCV_ABI_VERSION_MAJOR) + "." +
                              std::to_string(PCV_ABI_VERSION_MINOR) + ")";
  app.set_version_flag("--version", version);

  pcv::cli::PluginOptions options;
  app.add_option("--plugin-path", options.plugin_paths,
                 "A plugin file or a directory of plugins to load first (repeatable)")
      ->type_name("PATH");
  app.add_option_function<int>(
         "--threads", [](int n) { pcv::set_num_threads(n); },
         "CPU threads for kernels and data loading (default: $PCV_NUM_THREADS, else all CPUs)")
      ->check(CLI::Range(1, 4096));
  pcv::cli::add_plugins_command(app, options);
  pcv::cli::add_ops_command(app, options);
  pcv::cli::add_op_command(app, options);
  pcv::cli::add_run_command(app, options);
  pcv::cli::add_classify_command(app, options);
  pcv::cli::add_segment_command(app, options);
  pcv::cli::add_eval_command(app, options);
  pcv::cli::add_train_command(app, options);
  pcv::cli::add_rf_command(app, options);
  pcv::cli::add_verify_command(app, options);
  pcv::cli::add_faces_command(app, options);
  pcv::cli::add_label_command(app, options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pcv: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
