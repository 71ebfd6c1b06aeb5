// Receptive-field calculator (pcv/receptive_field.hpp). Three parts: the layer text form
// (describe / parse), the calculator on a chain, and the mapping from a model's graph nodes to
// layers (the only part that knows op names).
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/receptive_field.hpp>
#include <pcv/types.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace pcv {
namespace {

// ------------------------------------------------------------------------------------------
// Small helpers
// ------------------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& message) { throw Error(message, PCV_ERR_INVALID_ARGUMENT); }

std::string number(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

template <class T>
std::string list_string(const std::vector<T>& v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? "x" : "") + number(static_cast<double>(v[i]));
  return out;
}

template <class T>
bool all_equal_to(const std::vector<T>& v, T value) {
  return std::all_of(v.begin(), v.end(), [&](T x) { return x == value; });
}

template <class T>
bool all_same(const std::vector<T>& v) {
  return std::all_of(v.begin(), v.end(), [&](T x) { return x == v.front(); });
}

// A list written in a description: "3" when every dimension has the same value, else "3x3x1".
template <class T>
std::string compact(const std::vector<T>& v) {
  if (!v.empty() && all_same(v)) return number(static_cast<double>(v.front()));
  return list_string(v);
}

template <class T>
T at(const std::vector<T>& v, std::size_t dim) {
  return v.size() == 1 ? v[0] : v[dim];
}

const char* kind_name(RfKind kind) {
  switch (kind) {
    case RfKind::conv:
      return "conv";
    case RfKind::pool:
      return "pool";
    case RfKind::deconv:
      return "deconv";
    case RfKind::upsample:
      return "upsample";
    case RfKind::pixel_shuffle:
      return "pixel_shuffle";
    case RfKind::pixel_unshuffle:
      return "pixel_unshuffle";
    case RfKind::global_pool:
      return "global_pool";
    case RfKind::pass:
      return "pass";
  }
  return "?";
}

const char* mode_name(RfUpsampleMode mode) {
  switch (mode) {
    case RfUpsampleMode::nearest:
      return "nearest";
    case RfUpsampleMode::linear:
      return "linear";
    case RfUpsampleMode::cubic:
      return "cubic";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------
// Part 1: the text form
// ------------------------------------------------------------------------------------------

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (true) {
    const std::size_t to = s.find(sep, from);
    out.emplace_back(s.substr(from, to == std::string_view::npos ? std::string_view::npos : to - from));
    if (to == std::string_view::npos) return out;
    from = to + 1;
  }
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::string word;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::map<std::string, RfKind, std::less<>>& kind_names() {
  static const std::map<std::string, RfKind, std::less<>> names{
      {"conv", RfKind::conv},
      {"pool", RfKind::pool},
      {"maxpool", RfKind::pool},
      {"avgpool", RfKind::pool},
      {"deconv", RfKind::deconv},
      {"conv_transpose", RfKind::deconv},
      {"upsample", RfKind::upsample},
      {"interpolate", RfKind::upsample},
      {"pixel_shuffle", RfKind::pixel_shuffle},
      {"pixel_unshuffle", RfKind::pixel_unshuffle},
      {"global_pool", RfKind::global_pool},
      {"pass", RfKind::pass},
      {"id", RfKind::pass},
      {"act", RfKind::pass},
      {"relu", RfKind::pass},
      {"bn", RfKind::pass},
      {"dropout", RfKind::pass},
      {"add", RfKind::pass},
  };
  return names;
}

// The keys each kind takes.
std::vector<std::string> keys_of(RfKind kind) {
  switch (kind) {
    case RfKind::conv:
      return {"k", "s", "p", "d"};
    case RfKind::pool:
      return {"k", "s", "p", "d", "ceil"};
    case RfKind::deconv:
      return {"k", "s", "p", "d", "op"};
    case RfKind::upsample:
      return {"f", "size", "mode", "align_corners"};
    case RfKind::pixel_shuffle:
    case RfKind::pixel_unshuffle:
      return {"f"};
    case RfKind::global_pool:
    case RfKind::pass:
      return {};
  }
  return {};
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// "3" or "3x3x1": non-negative (or positive) integers.
bool parse_int_list(const std::string& text, std::int64_t min, std::vector<std::int64_t>& out) {
  out.clear();
  for (const std::string& part : split(text, 'x')) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || v < min) return false;
    out.push_back(v);
  }
  return true;
}

// "2" or "1.5" or "2x2x1": positive numbers.
bool parse_number_list(const std::string& text, std::vector<double>& out) {
  out.clear();
  for (const std::string& part : split(text, 'x')) {
    if (part.empty() || part.find_first_not_of("0123456789.") != std::string::npos) return false;
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (end != part.c_str() + part.size() || !(v > 0) || !std::isfinite(v)) return false;
    out.push_back(v);
  }
  return true;
}

bool parse_bool(const std::string& text, bool& out) {
  if (text == "1" || text == "true") return out = true, true;
  if (text == "0" || text == "false") return out = false, true;
  return false;
}

RfLayer parse_layer(const std::string& text, std::size_t number) {
  const std::string at = "layer " + std::to_string(number) + " (\"" + text + "\")";
  const std::vector<std::string> tokens = words(text);
  const std::string kind_word = lower(tokens.at(0));
  const auto kind = kind_names().find(kind_word);
  if (kind == kind_names().end()) {
    std::vector<std::string> known;
    for (RfKind k : {RfKind::conv, RfKind::pool, RfKind::deconv, RfKind::upsample, RfKind::pixel_shuffle,
                     RfKind::pixel_unshuffle, RfKind::global_pool, RfKind::pass})
      known.push_back(kind_name(k));
    fail(at + ": unknown layer kind '" + tokens[0] + "' (expected " + joined(known) + ")");
  }
  RfLayer layer;
  layer.kind = kind->second;
  const std::vector<std::string> allowed = keys_of(layer.kind);
  std::set<std::string> seen;
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const std::size_t eq = token.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(at + ": bad token '" + token + "': expected key=value (keys for " + kind_name(layer.kind) + ": " +
           (allowed.empty() ? "none" : joined(allowed)) + ")");
    const std::string key = lower(token.substr(0, eq));
    const std::string value = token.substr(eq + 1);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(at + ": bad token '" + token + "': " + kind_name(layer.kind) + " takes " +
           (allowed.empty() ? "no keys" : "the keys " + joined(allowed)));
    if (!seen.insert(key).second) fail(at + ": bad token '" + token + "': " + key + " is given twice");
    const auto bad = [&](const std::string& expected) {
      fail(at + ": bad token '" + token + "': " + key + " must be " + expected);
    };
    constexpr const char* kPerDim = " (per dimension: 3x3x1)";
    if (key == "k" || key == "s" || key == "d") {
      std::vector<std::int64_t> v;
      if (!parse_int_list(value, 1, v)) bad(std::string("a positive integer") + kPerDim);
      (key == "k" ? layer.kernel : key == "s" ? layer.stride : layer.dilation) = v;
    } else if (key == "p" || key == "op") {
      std::vector<std::int64_t> v;
      if (!parse_int_list(value, 0, v)) bad(std::string("a non-negative integer") + kPerDim);
      (key == "p" ? layer.padding : layer.output_padding) = v;
    } else if (key == "size") {
      if (!parse_int_list(value, 1, layer.size)) bad(std::string("a positive integer") + kPerDim);
    } else if (key == "f") {
      if (!parse_number_list(value, layer.factor)) bad(std::string("a positive number") + kPerDim);
      if (layer.kind != RfKind::upsample)
        for (double f : layer.factor)
          if (f != std::floor(f)) bad(std::string("a positive integer") + kPerDim);
    } else if (key == "mode") {
      const std::string m = lower(value);
      if (m == "nearest" || m == "nearest-exact")
        layer.mode = RfUpsampleMode::nearest;
      else if (m == "linear" || m == "bilinear" || m == "trilinear")
        layer.mode = RfUpsampleMode::linear;
      else if (m == "cubic" || m == "bicubic")
        layer.mode = RfUpsampleMode::cubic;
      else
        bad("nearest, linear or cubic");
    } else if (key == "align_corners" || key == "ceil") {
      if (!parse_bool(value, key == "ceil" ? layer.ceil_mode : layer.align_corners)) bad("0 or 1");
    }
  }
  const bool needs_k =
      layer.kind == RfKind::conv || layer.kind == RfKind::pool || layer.kind == RfKind::deconv;
  if (needs_k && !seen.count("k")) fail(at + ": k= (kernel size) is missing");
  const bool needs_f = layer.kind == RfKind::pixel_shuffle || layer.kind == RfKind::pixel_unshuffle;
  if (needs_f && !seen.count("f")) fail(at + ": f= (factor) is missing");
  if (layer.kind == RfKind::upsample && seen.count("f") == seen.count("size"))
    fail(at + ": give either f= (factor) or size= (output size)");
  if (layer.align_corners && layer.mode == RfUpsampleMode::nearest)
    fail(at + ": align_corners applies to linear and cubic modes only");
  return layer;
}

// ------------------------------------------------------------------------------------------
// Part 2: the calculator
// ------------------------------------------------------------------------------------------

using Dims = std::vector<RfDim>;

std::size_t dims_wanted(const RfLayer& l) {
  std::size_t d = 1;
  for (std::size_t n : {l.kernel.size(), l.stride.size(), l.padding.size(), l.dilation.size(),
                        l.output_padding.size(), l.factor.size(), l.size.size()})
    d = std::max(d, n);
  return d;
}

void check_lengths(const RfLayer& l, std::size_t dims, const std::string& where) {
  const auto check = [&](const char* key, const auto& values, bool may_be_empty) {
    const std::size_t n = values.size();
    if ((n == 0 && !may_be_empty) || (n > 1 && n != dims))
      fail(where + ": " + key + " has " + std::to_string(n) + " values (" + list_string(values) + ") for " +
           std::to_string(dims) + " spatial dimension" + (dims == 1 ? "" : "s"));
  };
  const bool upsample = l.kind == RfKind::upsample;
  check("k", l.kernel, false);
  check("s", l.stride, true);
  check("p", l.padding, false);
  check("d", l.dilation, false);
  check("op", l.output_padding, false);
  check("f", l.factor, l.kind != RfKind::pixel_shuffle && l.kind != RfKind::pixel_unshuffle);
  check("size", l.size, true);
  if (upsample && l.factor.empty() == l.size.empty()) fail(where + ": upsample needs a factor or a size");
}

// Applies one layer to every dimension. `where` names the layer in errors; flags go to row.
Dims apply(const RfLayer& l, const Dims& in, const std::string& where, std::vector<std::string>& flags) {
  const std::size_t D = in.size();
  check_lengths(l, D, where);
  const auto flag = [&](const std::string& f) {
    if (std::find(flags.begin(), flags.end(), f) == flags.end()) flags.push_back(f);
  };
  Dims out(D);
  for (std::size_t i = 0; i < D; ++i) {
    const RfDim& a = in[i];
    RfDim& b = out[i];
    const std::string in_dim = D > 1 ? " in dimension " + std::to_string(i + 1) : "";
    const auto empty = [&] {
      fail(where + ": output would be empty for input " + std::to_string(a.size) + in_dim);
    };
    const std::int64_t k = at(l.kernel, i), p = at(l.padding, i), d = at(l.dilation, i);
    if (k < 1 || d < 1 || p < 0) fail(where + ": kernel and dilation must be positive, padding non-negative");
    const std::int64_t k_eff = d * (k - 1) + 1;
    switch (l.kind) {
      case RfKind::conv:
      case RfKind::pool:
      case RfKind::pixel_unshuffle:
      case RfKind::global_pool: {
        std::int64_t kk = k_eff, s = 1, pp = p;
        if (l.kind == RfKind::pixel_unshuffle) {
          kk = s = static_cast<std::int64_t>(at(l.factor, i));
          pp = 0;
          if (a.size % s != 0)
            fail(where + ": input " + std::to_string(a.size) + in_dim + " is not divisible by the factor " +
                 std::to_string(s));
        } else if (l.kind == RfKind::global_pool) {
          kk = s = a.size;
          pp = 0;
        } else {
          s = l.stride.empty() ? (l.kind == RfKind::pool ? k : 1) : at(l.stride, i);
        }
        if (s < 1) fail(where + ": stride must be positive");
        const std::int64_t span = a.size + 2 * pp - kk;
        if (span < 0) empty();
        if (l.kind == RfKind::pool && l.ceil_mode) {
          // PyTorch: ceil, then drop a last window that would start in the right padding.
          b.size = (span + s - 1) / s + 1;
          if ((b.size - 1) * s >= a.size + pp) --b.size;
        } else {
          b.size = span / s + 1;
        }
        b.jump = a.jump * static_cast<double>(s);
        b.rf = a.rf + static_cast<double>(kk - 1) * a.jump;
        b.start = a.start + (static_cast<double>(kk - 1) / 2 - static_cast<double>(pp)) * a.jump;
        if (l.kind == RfKind::global_pool) flag("global pool: sees every position of its input");
        break;
      }
      case RfKind::deconv: {
        const std::int64_t s = l.stride.empty() ? 1 : at(l.stride, i);
        const std::int64_t op = at(l.output_padding, i);
        if (s < 1) fail(where + ": stride must be positive");
        if (op >= std::max(s, d))
          fail(where + ": output padding " + std::to_string(op) +
               " must be smaller than the stride or the dilation");
        b.size = (a.size - 1) * s - 2 * p + k_eff + op;
        if (b.size < 1) empty();
        // Output o receives input i through tap t when o = i·s − p + t·d: the taps in one output
        // phase (o mod s) reach inputs (their offsets t·d) / s apart. The RF grows by the widest
        // phase's span, which is ceil(k_eff/s) − 1 without dilation.
        std::vector<std::int64_t> lo(s, -1), hi(s, -1);
        for (std::int64_t t = 0; t < k; ++t) {
          const std::int64_t off = t * d, phase = off % s;
          if (lo[phase] < 0) lo[phase] = off;
          hi[phase] = off;
        }
        std::int64_t widest = 0, narrowest = -1;
        bool empty_phase = false;
        for (std::int64_t c = 0; c < s; ++c) {
          if (lo[c] < 0) {
            empty_phase = true;
            continue;
          }
          const std::int64_t w = (hi[c] - lo[c]) / s;
          widest = std::max(widest, w);
          narrowest = narrowest < 0 ? w : std::min(narrowest, w);
        }
        if (empty_phase)
          flag("transposed conv with k_eff=" + std::to_string(k_eff) + " and s=" + std::to_string(s) +
               ": some output phases receive no input (bias only)");
        else if (widest != narrowest)
          flag("transposed conv with k_eff=" + std::to_string(k_eff) + " not divisible by s=" +
               std::to_string(s) + ": the RF alternates between output phases (max shown)");
        b.jump = a.jump / static_cast<double>(s);
        b.rf = a.rf + static_cast<double>(widest) * a.jump;
        b.start = a.start + (static_cast<double>(p) - static_cast<double>(k_eff - 1) / 2) /
                                static_cast<double>(s) * a.jump;
        break;
      }
      case RfKind::upsample: {
        double scale = 0;  // input pixels per output pixel
        if (!l.size.empty()) {
          b.size = at(l.size, i);
          scale = static_cast<double>(a.size) / static_cast<double>(b.size);
        } else {
          const double f = at(l.factor, i);
          b.size = static_cast<std::int64_t>(std::floor(static_cast<double>(a.size) * f));
          scale = 1 / f;
        }
        if (b.size < 1) empty();
        const double taps = l.mode == RfUpsampleMode::nearest ? 0 : l.mode == RfUpsampleMode::linear ? 1 : 3;
        b.rf = a.rf + taps * a.jump;
        if (l.align_corners) {
          // src = dst·(n−1)/(n'−1): output 0 is input 0.
          b.jump = b.size > 1 ? a.jump * static_cast<double>(a.size - 1) / static_cast<double>(b.size - 1)
                              : a.jump * static_cast<double>(a.size);
          b.start = a.start;
        } else {
          b.jump = l.size.empty() ? a.jump / at(l.factor, i) : a.jump * scale;
          b.start = a.start + (scale - 1) / 2 * a.jump;
        }
        if (l.mode == RfUpsampleMode::nearest && b.size > a.size)
          flag("nearest: output o copies input floor(o/f); jump and start give the sub-pixel grid");
        break;
      }
      case RfKind::pixel_shuffle: {
        const double f = at(l.factor, i);
        b.size = a.size * static_cast<std::int64_t>(f);
        b.jump = a.jump / f;
        b.rf = a.rf;
        b.start = a.start + (1 / f - 1) / 2 * a.jump;
        break;
      }
      case RfKind::pass:
        b = a;
        break;
    }
  }
  return out;
}

Dims initial_dims(const std::vector<std::int64_t>& size, RfStart convention) {
  Dims dims;
  for (std::int64_t n : size) dims.push_back({n, 1.0, 1.0, convention == RfStart::pixel_centre ? 0.5 : 0.0});
  return dims;
}

void check_input_size(const std::vector<std::int64_t>& size) {
  if (size.empty()) fail("the input size is missing");
  for (std::int64_t n : size)
    if (n < 1) fail("input sizes must be positive, got " + list_string(size));
}

// ------------------------------------------------------------------------------------------
// Part 3: graph nodes → layers. Attribute names and defaults follow plugins/nn/README.md
// (nn.*) and PyTorch's functional API (upsample.*).
// ------------------------------------------------------------------------------------------

enum class NodeRole { layer, global_pool, end, pass };

struct Mapped {
  NodeRole role = NodeRole::pass;
  RfLayer layer;
  bool known = true;             // false: an op we know nothing about, assumed to keep the geometry
  std::size_t spatial_dims = 0;  // from the op name (conv3d → 3), 0 when it does not say
};

std::string node_where(const GraphNode& n) { return "node '" + n.name + "' (" + n.op + ")"; }

std::vector<std::int64_t> int_list(const GraphNode& n, const std::string& key,
                                   std::vector<std::int64_t> def) {
  const auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return def;
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return {*v};
  if (const auto* v = std::get_if<std::vector<std::int64_t>>(&it->second)) return v->empty() ? def : *v;
  fail(node_where(n) + ": attribute " + key + " must be an integer or a list of integers, is " +
       attr_to_string(it->second));
}

std::vector<double> number_list(const GraphNode& n, const std::string& key) {
  const auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return {};
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return {static_cast<double>(*v)};
  if (const auto* v = std::get_if<double>(&it->second)) return {*v};
  if (const auto* v = std::get_if<std::vector<double>>(&it->second)) return *v;
  if (const auto* v = std::get_if<std::vector<std::int64_t>>(&it->second))
    return std::vector<double>(v->begin(), v->end());
  fail(node_where(n) + ": attribute " + key + " must be a number or a list of numbers, is " +
       attr_to_string(it->second));
}

bool bool_attr(const GraphNode& n, const std::string& key, bool def) {
  const auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return def;
  if (const auto* v = std::get_if<bool>(&it->second)) return *v;
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return *v != 0;
  fail(node_where(n) + ": attribute " + key + " must be true or false");
}

std::string string_attr(const GraphNode& n, const std::string& key, const std::string& def) {
  const auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return def;
  if (const auto* v = std::get_if<std::string>(&it->second)) return *v;
  fail(node_where(n) + ": attribute " + key + " must be a string");
}

std::int64_t factor_attr(const GraphNode& n, const std::string& key) {
  const std::vector<std::int64_t> v = int_list(n, key, {});
  if (v.size() != 1 || v[0] < 1)
    fail(node_where(n) + ": attribute " + key + " (a positive integer) is missing");
  return v[0];
}

// "conv3d" → 3, "max_pool2d" → 2, else 0.
std::size_t dims_in_name(const std::string& op) {
  if (op.size() >= 2 && op.back() == 'd' && op[op.size() - 2] >= '1' && op[op.size() - 2] <= '3')
    return static_cast<std::size_t>(op[op.size() - 2] - '0');
  return 0;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

// The kernel of a conv / transposed conv: the weight's dimensions after the first two.
std::vector<std::int64_t> kernel_of(const GraphNode& n, const Model& model) {
  if (n.inputs.size() < 2 || n.inputs[1].empty()) fail(node_where(n) + ": has no weight input");
  const auto it = model.tensors.find(n.inputs[1]);
  if (it == model.tensors.end())
    fail(node_where(n) + ": its weight '" + n.inputs[1] +
         "' is not a stored tensor, so the kernel size is unknown");
  const Shape& shape = it->second.shape();
  if (shape.size() < 3)
    fail(node_where(n) + ": weight '" + n.inputs[1] + "' has shape " + shape_string(shape) +
         ", expected [C_out, C_in/groups, k...]");
  return Shape(shape.begin() + 2, shape.end());
}

Mapped map_node(const GraphNode& n, const Model& model) {
  Mapped m;
  const std::size_t dot = n.op.find('.');
  const std::string plugin = n.op.substr(0, dot), op = n.op.substr(dot + 1);
  m.spatial_dims = dims_in_name(op);
  RfLayer& l = m.layer;
  if (plugin == "nn") {
    if (starts_with(op, "conv") && m.spatial_dims) {
      m.role = NodeRole::layer;
      l.kind = RfKind::conv;
      l.kernel = kernel_of(n, model);
      l.stride = int_list(n, "stride", {1});
      l.padding = int_list(n, "padding", {0});
      l.dilation = int_list(n, "dilation", {1});
    } else if ((starts_with(op, "max_pool") || starts_with(op, "avg_pool")) && m.spatial_dims) {
      m.role = NodeRole::layer;
      l.kind = RfKind::pool;
      l.kernel = int_list(n, "kernel_size", {});
      if (l.kernel.empty()) fail(node_where(n) + ": attribute kernel_size is missing");
      l.stride = int_list(n, "stride", l.kernel);  // empty = kernel_size
      l.padding = int_list(n, "padding", {0});
      l.dilation = starts_with(op, "max_pool") ? int_list(n, "dilation", {1}) : std::vector<std::int64_t>{1};
      l.ceil_mode = bool_attr(n, "ceil_mode", false);
    } else if (op == "global_max_pool" || op == "global_avg_pool") {
      m.role = NodeRole::global_pool;
      l.kind = RfKind::global_pool;
    } else if (op == "linear" || op == "matmul" || op == "flatten" || op == "reshape" || op == "permute" ||
               op == "transpose" || op == "cross_entropy" || op == "nll_loss") {
      m.role = NodeRole::end;
    } else {
      static const std::set<std::string> kPass{"batch_norm", "relu",   "leaky_relu", "gelu",
                                               "sigmoid",    "tanh",   "dropout",    "add",
                                               "mul",        "concat", "softmax",    "log_softmax"};
      m.known = kPass.count(op) > 0;
    }
  } else if (plugin == "upsample") {
    if (starts_with(op, "conv_transpose") && m.spatial_dims) {
      m.role = NodeRole::layer;
      l.kind = RfKind::deconv;
      l.kernel = kernel_of(n, model);  // weight [C_in, C_out/groups, k...]
      l.stride = int_list(n, "stride", {1});
      l.padding = int_list(n, "padding", {0});
      l.output_padding = int_list(n, "output_padding", {0});
      l.dilation = int_list(n, "dilation", {1});
    } else if (op == "interpolate") {
      m.role = NodeRole::layer;
      l.kind = RfKind::upsample;
      const std::string mode = string_attr(n, "mode", "nearest");
      if (mode == "nearest" || mode == "nearest-exact")
        l.mode = RfUpsampleMode::nearest;
      else if (mode == "linear" || mode == "bilinear" || mode == "trilinear")
        l.mode = RfUpsampleMode::linear;
      else if (mode == "bicubic" || mode == "cubic")
        l.mode = RfUpsampleMode::cubic;
      else
        fail(node_where(n) + ": interpolation mode '" + mode + "' is not supported (nearest, linear, cubic)");
      l.size = int_list(n, "size", {});
      if (l.size.empty()) l.factor = number_list(n, "scale_factor");
      if (l.size.empty() && l.factor.empty()) fail(node_where(n) + ": needs a size or a scale_factor");
      for (double f : l.factor)
        if (!(f > 0)) fail(node_where(n) + ": scale_factor must be positive");
      l.align_corners = l.mode != RfUpsampleMode::nearest && bool_attr(n, "align_corners", false);
    } else if (op == "pixel_shuffle") {
      m.role = NodeRole::layer;
      l.kind = RfKind::pixel_shuffle;
      l.factor = {static_cast<double>(factor_attr(n, "upscale_factor"))};
    } else if (op == "pixel_unshuffle") {
      m.role = NodeRole::layer;
      l.kind = RfKind::pixel_unshuffle;
      l.factor = {static_cast<double>(factor_attr(n, "downscale_factor"))};
    } else {
      m.known = false;
    }
  } else {
    m.known = false;
  }
  return m;
}

struct Joined {
  Dims dims;
  std::vector<std::string> flags;
};

// Paths meeting at one node: per dimension the path with the largest RF wins; differing jumps,
// starts or sizes are flagged.
Joined join(const std::vector<const Dims*>& paths) {
  Joined out{*paths[0], {}};
  const auto differ = [](double a, double b) { return std::abs(a - b) > 1e-9 * std::max(1.0, std::abs(a)); };
  std::vector<std::string> jumps, starts, sizes;
  bool jump_differs = false, start_differs = false, size_differs = false;
  for (const Dims* p : paths) {
    std::vector<double> j, s, n;
    for (std::size_t i = 0; i < p->size(); ++i) {
      const RfDim& a = (*p)[i];
      j.push_back(a.jump);
      s.push_back(a.start);
      n.push_back(static_cast<double>(a.size));
      const RfDim& first = (*paths[0])[i];
      jump_differs |= differ(a.jump, first.jump);
      start_differs |= differ(a.start, first.start);
      size_differs |= a.size != first.size;
      if (a.rf > out.dims[i].rf) out.dims[i] = a;
    }
    jumps.push_back(compact(j));
    starts.push_back(compact(s));
    sizes.push_back(compact(n));
  }
  if (jump_differs || start_differs) {
    std::string what;
    if (jump_differs) what = "jumps (" + joined(jumps) + ")";
    if (start_differs) what += (what.empty() ? "" : " and ") + std::string("starts (") + joined(starts) + ")";
    out.flags.push_back("misaligned join: the paths' " + what +
                        " differ; the path with the largest RF is shown");
  }
  if (size_differs) out.flags.push_back("the joined paths' sizes differ (" + joined(sizes) + ")");
  return out;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Public API
// ------------------------------------------------------------------------------------------

std::string RfLayer::describe() const {
  std::string out = kind_name(kind);
  const auto add = [&](const std::string& key, const std::string& value) { out += " " + key + "=" + value; };
  switch (kind) {
    case RfKind::conv:
    case RfKind::pool:
    case RfKind::deconv:
      add("k", compact(kernel));
      if (!stride.empty()) {
        bool is_default = true;  // 1, or the kernel for pools
        for (std::size_t i = 0; i < std::max(stride.size(), kernel.size()); ++i)
          is_default &= at(stride, i) == (kind == RfKind::pool ? at(kernel, i) : 1);
        if (!is_default) add("s", compact(stride));
      }
      if (!all_equal_to<std::int64_t>(padding, 0)) add("p", compact(padding));
      if (!all_equal_to<std::int64_t>(dilation, 1)) add("d", compact(dilation));
      if (kind == RfKind::deconv && !all_equal_to<std::int64_t>(output_padding, 0))
        add("op", compact(output_padding));
      if (kind == RfKind::pool && ceil_mode) add("ceil", "1");
      break;
    case RfKind::upsample:
      if (!size.empty())
        add("size", compact(size));
      else
        add("f", compact(factor));
      if (mode != RfUpsampleMode::nearest) add("mode", mode_name(mode));
      if (align_corners) add("align_corners", "1");
      break;
    case RfKind::pixel_shuffle:
    case RfKind::pixel_unshuffle:
      add("f", compact(factor));
      break;
    case RfKind::global_pool:
    case RfKind::pass:
      break;
  }
  return out;
}

std::vector<RfLayer> parse_rf_layers(std::string_view spec) {
  std::vector<std::string> parts = split(spec, ';');
  if (parts.size() > 1 && trim(parts.back()).empty()) parts.pop_back();  // a trailing ';'
  std::vector<RfLayer> layers;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string text = trim(parts[i]);
    if (text.empty()) {
      if (parts.size() == 1) fail("the layer list is empty");
      fail("layer " + std::to_string(i + 1) + " is empty (two ';' in a row?)");
    }
    layers.push_back(parse_layer(text, i + 1));
  }
  return layers;
}

RfReport receptive_field(const std::vector<RfLayer>& layers, std::vector<std::int64_t> input_size,
                         RfStart convention) {
  check_input_size(input_size);
  std::size_t D = input_size.size();
  if (D == 1)
    for (const RfLayer& l : layers) D = std::max(D, dims_wanted(l));
  if (input_size.size() == 1) input_size.assign(D, input_size[0]);
  RfReport report;
  report.input_size = input_size;
  report.convention = convention;
  Dims dims = initial_dims(input_size, convention);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    RfRow row;
    row.layer = layers[i].describe();
    dims = apply(layers[i], dims, "layer " + std::to_string(i + 1) + " (" + row.layer + ")", row.flags);
    row.dims = dims;
    report.rows.push_back(std::move(row));
  }
  return report;
}

RfReport receptive_field(const Model& model, std::vector<std::int64_t> input_size, RfStart convention) {
  const Graph& g = model.graph;
  if (!input_size.empty()) check_input_size(input_size);
  RfReport report;
  report.convention = convention;

  // Spatial graph inputs: rank ≥ 3 ([N, C, *S]), or a shape left open.
  std::vector<const GraphInput*> inputs;
  for (const GraphInput& in : g.inputs)
    if (in.shape.empty() || in.shape.size() >= 3) inputs.push_back(&in);
  const auto not_spatial = [&](const std::string& why) {
    report.spatial = false;
    report.notes.push_back(why);
    return report;
  };
  if (inputs.empty()) return not_spatial("no graph input has spatial dimensions ([N, C, *S])");

  // The number of spatial dimensions: --input-size, else the input's shape, else the first
  // conv or pool node's op name.
  std::size_t D = input_size.size() > 1 ? input_size.size() : 0;
  for (const GraphInput* in : inputs)
    if (!D && !in->shape.empty()) D = in->shape.size() - 2;
  for (const GraphNode& n : g.nodes)
    if (!D) D = dims_in_name(n.op);
  if (!D) D = 1;

  std::map<std::string, Dims> tracked;  // tensors on a path from a spatial input
  for (const GraphInput* in : inputs) {
    if (!in->shape.empty() && in->shape.size() - 2 != D)
      fail("graph input '" + in->name + "' has shape " + shape_string(in->shape) + ": " +
           std::to_string(in->shape.size() - 2) + " spatial dimensions, but the input size has " +
           std::to_string(D));
    std::vector<std::int64_t> size = input_size;
    if (size.empty()) {
      if (in->shape.empty())
        fail("graph input '" + in->name + "' has no shape: give the input size (--input-size)");
      size.assign(in->shape.begin() + 2, in->shape.end());
      for (std::int64_t n : size)
        if (n < 1)
          fail("graph input '" + in->name + "' has shape " + shape_string(in->shape) +
               ", its spatial size is open: give the input size (--input-size)");
    } else if (size.size() == 1) {
      size.assign(D, size[0]);
    }
    if (report.input_size.empty()) report.input_size = size;
    tracked[in->name] = initial_dims(size, convention);
  }

  std::set<std::string> unknown_ops, ends;
  for (const GraphNode& n : g.nodes) {
    std::vector<const Dims*> paths;
    for (const std::string& name : n.inputs)
      if (const auto it = tracked.find(name); !name.empty() && it != tracked.end())
        paths.push_back(&it->second);
    if (paths.empty()) continue;  // not on a path from a spatial input
    const Mapped m = map_node(n, model);
    RfRow row;
    row.name = n.name;
    row.op = n.op;
    Dims out;
    if (m.role == NodeRole::layer || m.role == NodeRole::global_pool) {
      const auto data = tracked.find(n.inputs.at(0));
      if (data == tracked.end()) continue;  // the spatial path enters through a non-data input
      if (m.spatial_dims && m.spatial_dims != D)
        fail(node_where(n) + ": has " + std::to_string(m.spatial_dims) + " spatial dimensions, its input " +
             std::to_string(D));
      row.layer = m.layer.describe();
      out = apply(m.layer, data->second, node_where(n) + " [" + row.layer + "]", row.flags);
    } else if (m.role == NodeRole::end) {
      ends.insert("'" + n.name + "' (" + n.op + ")");
      continue;
    } else {
      if (!m.known) unknown_ops.insert(n.op);
      if (paths.size() == 1) {
        for (const std::string& o : n.outputs) tracked[o] = *paths[0];
        continue;
      }
      Joined j = join(paths);
      row.layer = "join";
      row.flags = std::move(j.flags);
      out = std::move(j.dims);
    }
    row.dims = out;
    report.rows.push_back(std::move(row));
    if (m.role == NodeRole::global_pool) {
      ends.insert("'" + n.name + "' (" + n.op + ")");
      continue;
    }
    for (const std::string& o : n.outputs) tracked[o] = out;
  }
  if (!unknown_ops.empty()) {
    std::string list;
    for (const auto& op : unknown_ops) list += (list.empty() ? "" : ", ") + op;
    report.notes.push_back("assumed to keep the geometry (unknown ops): " + list);
  }
  if (!ends.empty()) {
    std::string list;
    for (const auto& e : ends) list += (list.empty() ? "" : ", ") + e;
    report.notes.push_back("the spatial part ends at " + list);
  }
  if (std::none_of(report.rows.begin(), report.rows.end(),
                   [](const RfRow& r) { return r.layer != "join"; })) {
    report.rows.clear();
    report.spatial = false;
    report.notes.insert(
        report.notes.begin(),
        "no spatial layers (conv, pool, transposed conv, upsampling) on a path from the input");
  }
  return report;
}

}  // namespace pcv
