// pcv rf MODEL | --layers SPEC: receptive field, jump, start and output size of every layer.
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/receptive_field.hpp>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

constexpr const char* kFooter =
    R"(Columns (one value per spatial dimension; a single value when all dimensions agree):
  SIZE   output size
  JUMP   input pixels between adjacent output features (the effective stride; fractional after
         transposed convs and upsampling)
  RF     receptive field: input pixels one feature sees (padding included, not clipped at borders)
  START  input coordinate of the centre of the first feature's RF; feature m is centred at
         START + m*JUMP. Index convention (default): input pixel i is at i, start_0 = 0.
         --pixel-centre: pixel i covers [i, i+1), start_0 = 0.5.
Recurrences, with k_eff = d*(k-1)+1 and j, r, start those of the layer's input:
  conv, pool       n = floor((n+2p-k_eff)/s)+1 (pool ceil=1: ceil), j *= s, r += (k_eff-1)*j,
                   start += ((k_eff-1)/2 - p)*j
  deconv           n = (n-1)*s - 2p + k_eff + op, j /= s, r += (ceil(k_eff/s)-1)*j: the widest
                   output phase (flagged when phases differ, k not divisible by s),
                   start += (p - (k_eff-1)/2)/s * j
  upsample f       n = floor(n*f), j /= f, r += 0 (nearest), j (linear), 3j (cubic),
                   start += (1/f - 1)/2 * j (half-pixel centres, as align_corners=False)
  pixel_shuffle f  n *= f, j /= f, r kept, start as upsample
  After deconv, nearest upsampling and pixel_shuffle, outputs of different phases see different
  inputs: START and JUMP give the regular sub-pixel grid; one output's RF centre may lie off it
  (by less than half the input's jump when d=1).
Layer spec (--layers), layers separated by ';':
  "conv k=5 s=2; conv k=3; pool k=2 s=2; deconv k=4 s=2 p=1; upsample f=2 mode=linear"
  kinds: conv, pool, deconv, upsample, pixel_shuffle, pixel_unshuffle, global_pool, pass
  keys: k, s, p, d, op (output padding), f (factor), size, mode (nearest, linear, cubic),
        align_corners (0/1), ceil (0/1); per dimension: k=3x3x1. Defaults s=1 (pool: s=k), p=0, d=1.
Models: conv, pool, conv_transpose, interpolate and pixel (un)shuffle nodes are layers, other
element-wise nodes keep the geometry; flatten, linear and global pools end the spatial part. Where
branches join (add, concat) the largest RF is shown, flagged when the paths are misaligned.)";

std::vector<std::int64_t> parse_size(const std::string& text) {
  std::vector<std::int64_t> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    std::size_t to = text.find_first_of(",x", from);
    if (to == std::string::npos) to = text.size();
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data() + from, text.data() + to, v);
    if (to == from || ec != std::errc() || end != text.data() + to || v < 1)
      throw Error("--input-size '" + text + "': expected positive sizes such as 32 or 32,32,32");
    out.push_back(v);
    from = to + 1;
  }
  return out;
}

std::string number(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  return s;
}

nlohmann::json json_number(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return static_cast<std::int64_t>(v);
  return v;
}

// "14" when every dimension agrees, else "14x12x6".
template <class Get>
std::string per_dim(const std::vector<RfDim>& dims, Get get) {
  std::string all, first = number(get(dims.at(0)));
  bool same = true;
  for (const RfDim& d : dims) {
    const std::string s = number(get(d));
    same &= s == first;
    all += (all.empty() ? "" : "x") + s;
  }
  return same ? first : all;
}

template <class Get>
nlohmann::json dim_list(const std::vector<RfDim>& dims, Get get) {
  nlohmann::json out = nlohmann::json::array();
  for (const RfDim& d : dims) out.push_back(json_number(get(d)));
  return out;
}

const char* convention_name(RfStart c) { return c == RfStart::index ? "index" : "pixel-centre"; }

nlohmann::json report_json(const RfReport& r, bool graph) {
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const RfRow& row = r.rows[i];
    nlohmann::json j = {{"index", i + 1},
                        {"layer", row.layer},
                        {"size", dim_list(row.dims, [](const RfDim& d) { return double(d.size); })},
                        {"jump", dim_list(row.dims, [](const RfDim& d) { return d.jump; })},
                        {"rf", dim_list(row.dims, [](const RfDim& d) { return d.rf; })},
                        {"start", dim_list(row.dims, [](const RfDim& d) { return d.start; })},
                        {"flags", row.flags}};
    if (graph) {
      j["name"] = row.name;
      j["op"] = row.op;
    }
    layers.push_back(j);
  }
  return {{"input_size", r.input_size},
          {"start_convention", convention_name(r.convention)},
          {"spatial", r.spatial},
          {"layers", layers},
          {"notes", r.notes}};
}

void print_report(const RfReport& r, bool graph) {
  std::string size;
  for (std::int64_t n : r.input_size) size += (size.empty() ? "" : "x") + std::to_string(n);
  std::cout << "input size " << size << ", start convention: "
            << (r.convention == RfStart::index ? "index (input pixel i at i)"
                                               : "pixel-centre (input pixel i covers [i, i+1))")
            << "\n\n";
  bool any_flags = false;
  for (const RfRow& row : r.rows) any_flags |= !row.flags.empty();
  std::vector<std::string> header{"#"};
  if (graph) header.push_back("NODE");
  for (const char* h : {"LAYER", "SIZE", "JUMP", "RF", "START"}) header.push_back(h);
  if (any_flags) header.push_back("NOTE");
  Table table(header);
  std::vector<std::string> input{"0"};
  if (graph) input.push_back("");
  std::vector<RfDim> input_dims;
  for (std::int64_t n : r.input_size) input_dims.push_back({n, 1, 1, 0});
  const std::string input_size = per_dim(input_dims, [](const RfDim& d) { return double(d.size); });
  for (const std::string& s : {std::string("input"), input_size, std::string("1"), std::string("1"),
                               number(r.convention == RfStart::index ? 0.0 : 0.5)})
    input.push_back(s);
  table.add(input);
  std::vector<std::string> footnotes;
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const RfRow& row = r.rows[i];
    std::vector<std::string> line{std::to_string(i + 1)};
    if (graph) line.push_back(row.name);
    line.push_back(row.op.empty() ? row.layer : row.layer + " (" + row.op + ")");
    line.push_back(per_dim(row.dims, [](const RfDim& d) { return double(d.size); }));
    line.push_back(per_dim(row.dims, [](const RfDim& d) { return d.jump; }));
    line.push_back(per_dim(row.dims, [](const RfDim& d) { return d.rf; }));
    line.push_back(per_dim(row.dims, [](const RfDim& d) { return d.start; }));
    if (!row.flags.empty()) {  // rows without flags stop at START: no trailing blanks
      std::string marks;
      for (const std::string& f : row.flags) {
        footnotes.push_back(f);
        marks += "[" + std::to_string(footnotes.size()) + "]";
      }
      line.push_back(marks);
    }
    table.add(line);
  }
  table.print(std::cout);
  if (!footnotes.empty()) std::cout << "\n";
  for (std::size_t i = 0; i < footnotes.size(); ++i)
    std::cout << "[" << i + 1 << "] " << footnotes[i] << "\n";
  if (!r.notes.empty()) std::cout << "\n";
  for (const std::string& n : r.notes) std::cout << "note: " << n << "\n";
}

}  // namespace

void add_rf_command(CLI::App& app, const PluginOptions& /*options*/) {
  auto* cmd = app.add_subcommand("rf",
                                 "Receptive field, jump (effective stride), start and output size of every\n"
                                 "layer of a model file or of a layer list (--layers).");
  auto model_path = std::make_shared<std::string>();
  auto layers = std::make_shared<std::string>();
  auto size = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto pixel_centre = std::make_shared<bool>(false);
  auto* model_opt =
      cmd->add_option("model", *model_path, "Model file (.safetensors)")->check(CLI::ExistingFile);
  cmd->add_option("--layers", *layers, "A layer list instead of a model: \"conv k=5 s=2; pool k=2\"")
      ->type_name("SPEC")
      ->excludes(model_opt);
  cmd->add_option(
         "--input-size", *size,
         "Input size: 32 (every spatial dimension) or 32,32,32; for a model, default: its input shape")
      ->type_name("N[,N...]");
  cmd->add_flag("--json", *json,
                "Print {\"input_size\", \"layers\": [{\"size\", \"jump\", \"rf\", \"start\", ...}]}");
  cmd->add_flag("--pixel-centre,--pixel-center", *pixel_centre,
                "START in the pixel-centre convention (start_0 = 0.5) instead of the index one (0)");
  cmd->footer(kFooter);
  cmd->callback([model_path, layers, size, json, pixel_centre] {
    const RfStart convention = *pixel_centre ? RfStart::pixel_centre : RfStart::index;
    const std::vector<std::int64_t> input_size =
        size->empty() ? std::vector<std::int64_t>{} : parse_size(*size);
    RfReport report;
    const bool graph = !model_path->empty();
    if (graph) {
      report = receptive_field(Model::load(*model_path), input_size, convention);
    } else if (!layers->empty()) {
      if (input_size.empty()) throw Error("--layers needs --input-size (e.g. --input-size 32)");
      report = receptive_field(parse_rf_layers(*layers), input_size, convention);
    } else {
      throw Error("give a model file or --layers \"SPEC\" (see pcv rf --help)");
    }
    if (*json) {
      std::cout << report_json(report, graph).dump(2) << "\n";
      return;
    }
    if (!report.spatial) {
      std::cout << *model_path << ": nothing to compute: no spatial layers\n";
      for (const std::string& n : report.notes) std::cout << "note: " << n << "\n";
      return;
    }
    print_report(report, graph);
  });
}

}  // namespace pcv::cli
