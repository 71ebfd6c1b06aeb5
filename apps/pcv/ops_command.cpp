// pcv ops [PLUGIN]: every op's inputs, outputs, attributes (with defaults) and capabilities.
#include <pcv/error.hpp>
#include <pcv/types.hpp>

#include <nlohmann/json.hpp>

#include <iostream>

#include "commands.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

nlohmann::json attr_json(const AttrValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

nlohmann::json args_json(const std::vector<ArgInfo>& args) {
  nlohmann::json out = nlohmann::json::array();
  for (const ArgInfo& a : args)
    out.push_back({{"name", a.name},
                   {"doc", a.doc},
                   {"dtypes", a.dtypes},
                   {"optional", a.optional},
                   {"state", a.state},
                   {"variadic", a.variadic},
                   {"no_grad", a.no_grad}});
  return out;
}

nlohmann::json op_json(const OpInfo& op) {
  nlohmann::json attrs = nlohmann::json::array();
  for (const AttrInfo& a : op.attrs) {
    nlohmann::json j = {{"name", a.name},
                        {"type", attr_type_name(a.type)},
                        {"doc", a.doc},
                        {"required", !a.default_value.has_value()}};
    if (a.default_value) j["default"] = attr_json(*a.default_value);
    attrs.push_back(j);
  }
  return {{"name", op.full_name},
          {"plugin", op.plugin},
          {"op", op.name},
          {"version", op.version},
          {"doc", op.doc},
          {"caps", caps_list(op.caps)},
          {"inputs", args_json(op.inputs)},
          {"outputs", args_json(op.outputs)},
          {"attributes", attrs}};
}

void print_args(std::ostream& out, const char* title, const std::vector<ArgInfo>& args) {
  out << "  " << title << ":\n";
  if (args.empty()) out << "    (none)\n";
  Table table;
  for (const ArgInfo& a : args)
    table.add({"    " + a.name, a.dtypes,
               std::string(a.optional ? "(optional) " : "") + (a.state ? "(state) " : "") +
                   (a.variadic ? "(one or more) " : "") + a.doc});
  table.print(out);
}

void print_op(std::ostream& out, const OpInfo& op) {
  out << op.full_name << "  v" << op.version << "  [" << caps_string(op.caps) << "]\n";
  if (!op.doc.empty()) out << "  " << op.doc << "\n";
  print_args(out, "inputs", op.inputs);
  print_args(out, "outputs", op.outputs);
  out << "  attributes:\n";
  if (op.attrs.empty()) out << "    (none)\n";
  Table table;
  for (const AttrInfo& a : op.attrs)
    table.add({"    " + a.name, attr_type_name(a.type),
               a.default_value ? "= " + attr_to_string(*a.default_value) : "(required)", a.doc});
  table.print(out);
}

}  // namespace

void add_ops_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand("ops",
                                 "Describe ops: inputs, outputs, attributes with defaults, "
                                 "capabilities");
  auto plugin = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("plugin", *plugin, "Only the ops of this plugin (e.g. nn)")->type_name("PLUGIN");
  cmd->add_flag("--json", *json, "Print JSON for scripts");
  cmd->callback([&options, plugin, json] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    std::vector<const PluginInfo*> selected;
    if (plugin->empty()) {
      selected = registry.plugins();
    } else if (const PluginInfo* p = registry.find_plugin(*plugin)) {
      selected.push_back(p);
    } else {
      std::string known;
      for (const PluginInfo* p : registry.plugins()) known += (known.empty() ? "" : ", ") + p->name;
      throw Error("no plugin named '" + *plugin + "' is loaded (loaded: " + (known.empty() ? "none" : known) +
                  ")");
    }
    if (*json) {
      nlohmann::json ops = nlohmann::json::array();
      for (const PluginInfo* p : selected)
        for (const OpInfo& op : p->ops) ops.push_back(op_json(op));
      std::cout << nlohmann::json{{"ops", ops}}.dump(2) << "\n";
      return;
    }
    bool first = true;
    for (const PluginInfo* p : selected)
      for (const OpInfo& op : p->ops) {
        if (!first) std::cout << "\n";
        first = false;
        print_op(std::cout, op);
      }
  });
}

}  // namespace pcv::cli
