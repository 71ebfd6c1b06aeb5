#include "registry/descriptor_reader.hpp"

#include <pcv/error.hpp>
#include <pcv/types.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace pcv::detail {
namespace {

// Sizes of the structs at ABI 1.0: the least a reader accepts.
template <class T>
constexpr std::size_t kV1Size = 0;
template <>
constexpr std::size_t kV1Size<pcv_plugin_info> = PCV_SIZE_THROUGH(pcv_plugin_info, ops);
template <>
constexpr std::size_t kV1Size<pcv_op_desc> = PCV_SIZE_THROUGH(pcv_op_desc, backward);
template <>
constexpr std::size_t kV1Size<pcv_arg_spec> = PCV_SIZE_THROUGH(pcv_arg_spec, dtypes);
template <>
constexpr std::size_t kV1Size<pcv_attr_spec> = PCV_SIZE_THROUGH(pcv_attr_spec, default_value);
template <>
constexpr std::size_t kV1Size<pcv_attr> = PCV_SIZE_THROUGH(pcv_attr, count);

[[noreturn]] void malformed(const std::string& where, const std::string& what) {
  throw Error("malformed descriptor: " + where + ": " + what);
}

// A zero-filled copy of the part of *p both sides know.
template <class T>
T read_struct(const T* p, const char* type, const std::string& where) {
  if (p == nullptr) malformed(where, std::string(type) + " pointer is NULL");
  if (p->struct_size < kV1Size<T>)
    malformed(where, std::string(type) + ".struct_size is " + std::to_string(p->struct_size) +
                         ", below the " + std::to_string(kV1Size<T>) + " bytes of ABI 1.0");
  T copy{};
  std::memcpy(&copy, p, std::min<std::size_t>(p->struct_size, sizeof(T)));
  return copy;
}

std::string text(const char* s) { return s != nullptr ? s : ""; }

// Plugin and op names become "<plugin>.<op>": lower-case identifiers keep that unambiguous.
void check_name(const char* name, const std::string& where) {
  if (name == nullptr || *name == '\0') malformed(where, "name is empty");
  const bool ok = (*name >= 'a' && *name <= 'z') && std::all_of(name, name + std::strlen(name), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok) malformed(where, "name '" + std::string(name) + "' is not of the form [a-z][a-z0-9_]*");
}

AttrValue read_value(const pcv_attr& a, const std::string& where) {
  switch (a.type) {
    case PCV_ATTR_BOOL:
      return a.i != 0;
    case PCV_ATTR_INT:
      return a.i;
    case PCV_ATTR_FLOAT:
      return a.f;
    case PCV_ATTR_STRING:
      if (a.s == nullptr) malformed(where, "string value is NULL");
      return std::string(a.s);
    case PCV_ATTR_INTS:
      if (a.count > 0 && a.ints == nullptr) malformed(where, "ints is NULL");
      return std::vector<std::int64_t>(a.ints, a.ints + a.count);
    case PCV_ATTR_FLOATS:
      if (a.count > 0 && a.floats == nullptr) malformed(where, "floats is NULL");
      return std::vector<double>(a.floats, a.floats + a.count);
    default:
      malformed(where, "unknown attribute type " + std::to_string(a.type));
  }
}

std::vector<ArgInfo> read_args(const pcv_arg_spec* const* specs, std::uint32_t count,
                               const std::string& where, const char* kind) {
  if (count > 0 && specs == nullptr) malformed(where, std::string(kind) + "s is NULL");
  std::vector<ArgInfo> args;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::string at = where + ", " + kind + " #" + std::to_string(i);
    pcv_arg_spec s = read_struct(specs[i], "pcv_arg_spec", at);
    if (s.name == nullptr || *s.name == '\0') malformed(at, "name is empty");
    if ((s.flags & PCV_ARG_VARIADIC) != 0 && (i + 1 != count || std::string(kind) != "input"))
      malformed(at, "only the last input may be variadic");
    args.push_back({s.name, text(s.doc), text(s.dtypes), (s.flags & PCV_ARG_OPTIONAL) != 0,
                    (s.flags & PCV_ARG_STATE) != 0, (s.flags & PCV_ARG_VARIADIC) != 0,
                    (s.flags & PCV_ARG_NO_GRAD) != 0});
  }
  return args;
}

std::vector<AttrInfo> read_attrs(const pcv_op_desc& d, const std::string& where) {
  if (d.num_attrs > 0 && d.attrs == nullptr) malformed(where, "attrs is NULL");
  std::vector<AttrInfo> attrs;
  for (std::uint32_t i = 0; i < d.num_attrs; ++i) {
    const std::string at = where + ", attribute #" + std::to_string(i);
    pcv_attr_spec s = read_struct(d.attrs[i], "pcv_attr_spec", at);
    if (s.name == nullptr || *s.name == '\0') malformed(at, "name is empty");
    AttrInfo info{s.name, text(s.doc), s.type, std::nullopt};
    if (s.type < PCV_ATTR_INT || s.type > PCV_ATTR_BOOL)
      malformed(at, "unknown attribute type " + std::to_string(s.type));
    if (s.default_value != nullptr) {
      pcv_attr def = read_struct(s.default_value, "pcv_attr", at + " default");
      if (def.type != s.type)
        malformed(at, std::string("default is ") + attr_type_name(def.type) + ", attribute is " +
                          attr_type_name(s.type));
      info.default_value = read_value(def, at + " default");
    }
    attrs.push_back(std::move(info));
  }
  return attrs;
}

OpInfo read_op(const pcv_op_desc* raw, const std::string& plugin, std::uint32_t index) {
  const std::string where = "op #" + std::to_string(index);
  auto binding = std::make_shared<OpBinding>();
  binding->desc = read_struct(raw, "pcv_op_desc", where);
  const pcv_op_desc& d = binding->desc;
  check_name(d.name, where);
  const std::string at = where + " '" + d.name + "'";
  if (d.create == nullptr || d.destroy == nullptr || d.forward == nullptr || d.infer_shapes == nullptr)
    malformed(at, "create, destroy, forward and infer_shapes must all be set");
  const bool has_backward_cap = (d.caps & PCV_CAP_BACKWARD) != 0;
  if (has_backward_cap != (d.backward != nullptr))
    malformed(at, "PCV_CAP_BACKWARD must be set exactly when backward is set");
  OpInfo op;
  op.full_name = plugin + "." + d.name;
  op.name = d.name;
  op.plugin = plugin;
  op.doc = text(d.doc);
  op.version = d.op_version;
  op.caps = d.caps;
  op.inputs = read_args(d.inputs, d.num_inputs, at, "input");
  op.outputs = read_args(d.outputs, d.num_outputs, at, "output");
  op.attrs = read_attrs(d, at);
  op.binding = std::move(binding);
  return op;
}

}  // namespace

PluginInfo read_plugin_info(const pcv_plugin_info& raw) {
  pcv_plugin_info info = read_struct(&raw, "pcv_plugin_info", "plugin info");
  check_name(info.name, "plugin info");
  PluginInfo plugin;
  plugin.name = info.name;
  plugin.version = text(info.version);
  plugin.description = text(info.description);
  plugin.abi_major = info.abi_major;
  plugin.abi_minor = info.abi_minor;
  if (info.num_ops > 0 && info.ops == nullptr) malformed("plugin info", "ops is NULL");
  std::set<std::string> names;
  for (std::uint32_t i = 0; i < info.num_ops; ++i) {
    OpInfo op = read_op(info.ops[i], plugin.name, i);
    if (!names.insert(op.name).second)
      malformed("op #" + std::to_string(i), "duplicate op name '" + op.full_name + "'");
    plugin.ops.push_back(std::move(op));
  }
  return plugin;
}

}  // namespace pcv::detail
