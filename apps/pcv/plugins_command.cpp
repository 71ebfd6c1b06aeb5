// pcv plugins: which plugins are loaded, from where, with which ABI.
#include <pcv/plugin.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "commands.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

std::uint32_t plugin_caps(const PluginInfo& p) {
  std::uint32_t caps = 0;
  for (const OpInfo& op : p.ops) caps |= op.caps;
  return caps;
}

std::string abi(const PluginInfo& p) {
  return std::to_string(p.abi_major) + "." + std::to_string(p.abi_minor);
}

nlohmann::json to_json(const Registry& registry, const std::vector<LoadFailure>& failures) {
  nlohmann::json out = {{"plugins", nlohmann::json::array()}, {"failures", nlohmann::json::array()}};
  for (const PluginInfo* p : registry.plugins()) {
    nlohmann::json ops = nlohmann::json::array();
    for (const OpInfo& op : p->ops) ops.push_back(op.full_name);
    out["plugins"].push_back({{"name", p->name},
                              {"version", p->version},
                              {"abi", abi(*p)},
                              {"description", p->description},
                              {"caps", caps_list(plugin_caps(*p))},
                              {"path", p->path.string()},
                              {"ops", ops}});
  }
  for (const LoadFailure& f : failures)
    out["failures"].push_back({{"path", f.path.string()}, {"reason", f.reason}});
  return out;
}

void print_table(const Registry& registry) {
  Table table({"PLUGIN", "VERSION", "ABI", "OPS", "CAPS", "PATH"});
  for (const PluginInfo* p : registry.plugins())
    table.add({p->name, p->version, abi(*p), std::to_string(p->ops.size()), caps_string(plugin_caps(*p)),
               p->path.string()});
  table.print(std::cout);
  if (registry.plugins().empty())
    std::cout << "(no plugins found: add --plugin-path DIR or set PCV_PLUGIN_PATH)\n";
}

}  // namespace

void add_plugins_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand("plugins",
                                 "List the loaded plugins: name, version, ABI version, "
                                 "capabilities and file");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print JSON for scripts (includes plugins that failed to load)");
  cmd->callback([&options, json] {
    Registry registry;
    const auto failures = load_plugins(registry, options, /*quiet=*/*json);
    if (*json)
      std::cout << to_json(registry, failures).dump(2) << "\n";
    else
      print_table(registry);
  });
}

}  // namespace pcv::cli
