// Google Benchmark timings of ops through the plugin ABI, on the shapes listed in a cases file
// (tools/bench/<family>_cases.json; tools/bench/<family>_bench.py runs PyTorch on the same shapes
// and prints the comparison), plus, when the file asks for it, the per-call cost of going
// through the ABI at all.
//
//   pcv_bench_ops CASES.json [Google Benchmark flags]
#include <pcv/graph.hpp>
#include <pcv/registry.hpp>
#include <pcv/threads.hpp>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <immintrin.h>

#include <fstream>
#include <iostream>
#include <random>
#include <thread>

namespace pcv {
namespace {

Registry& registry() {
  static Registry r;
  static const bool loaded = [] {
    for (const LoadFailure& f : r.load_all(Registry::default_search_path()))
      std::cerr << "warning: " << f.message() << "\n";
    return true;
  }();
  (void)loaded;
  return r;
}

Tensor random_tensor(const Shape& shape, bool positive, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  Tensor t(kFloat32, shape);
  float* p = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = positive ? 0.5f + std::abs(normal(rng)) : normal(rng);
  return t;
}

struct Case {
  std::string name, op;
  AttrMap attrs;
  std::vector<Tensor> inputs;
  bool training = false;
};

// Class indices: int64 uniform in [0, classes).
Tensor random_labels(const Shape& shape, std::int64_t classes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, classes - 1);
  Tensor t(kInt64, shape);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<std::int64_t>()[i] = pick(rng);
  return t;
}

// "positive": input indices drawn positive (variances); "labels": {"index": classes} for int64
// class-index inputs.
Case read_case(const nlohmann::json& j) {
  Case c{j.at("name"), j.at("op"), {}, {}, j.value("training", false)};
  for (const auto& [k, v] : j.at("attrs").items()) c.attrs[k] = parse_attr_value(v.dump());
  const auto positive = j.value("positive", std::vector<std::size_t>{});
  const auto labels = j.value("labels", nlohmann::json::object());
  for (std::size_t i = 0; i < j.at("inputs").size(); ++i) {
    const Shape shape = j.at("inputs")[i].get<Shape>();
    if (labels.contains(std::to_string(i)))
      c.inputs.push_back(random_labels(shape, labels.at(std::to_string(i)).get<std::int64_t>(), i + 1));
    else
      c.inputs.push_back(
          random_tensor(shape, std::find(positive.begin(), positive.end(), i) != positive.end(), i + 1));
  }
  return c;
}

// Peak resident memory of this process since reset_peak_memory(), in MB (Linux), or -1.
bool reset_peak_memory() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  return static_cast<bool>(clear.flush());
}
double status_mb(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  return -1;
}

void forward(benchmark::State& state, const Case& c) {
  const Kernel k = registry().create_kernel(c.op, c.attrs);
  RunOptions options;
  options.training = c.training;
  // Into the same outputs every time, as the graph runtime's memory plan does: the kernel's
  // time, not the page faults of fresh buffers (which glibc may or may not give PyTorch).
  std::vector<Tensor> outputs;
  k.forward_into(c.inputs, outputs, options);
  for (auto _ : state) {
    k.forward_into(c.inputs, outputs, options);
    benchmark::DoNotOptimize(outputs.data());
  }
}

// Forward then backward with every input gradient: what one training step of the op costs.
void forward_backward(benchmark::State& state, const Case& c) {
  // Memory the op needs above what was resident before (inputs, weights): the peak of the
  // process's resident set from here on. Meaningful when this case runs alone in its process.
  const bool measured = reset_peak_memory();
  const double before = status_mb("VmRSS");
  const Kernel k = registry().create_kernel(c.op, c.attrs);
  RunOptions options;
  options.training = c.training;
  const OpInfo& op = k.op();
  std::vector<bool> wanted;
  for (std::size_t i = 0; i < c.inputs.size(); ++i) {
    const ArgInfo& spec = op.inputs[std::min(i, op.inputs.size() - 1)];
    wanted.push_back(!spec.state && !spec.no_grad && !same_dtype(c.inputs[i].dtype(), kInt64));
  }
  std::vector<Tensor> grad_outputs;
  for (const Tensor& y : k.forward(c.inputs, options))
    grad_outputs.push_back(random_tensor(y.shape(), false, 99));
  for (auto _ : state) {
    const auto outputs = k.forward(c.inputs, options);
    const auto grads = k.backward(c.inputs, outputs, grad_outputs, wanted, options);
    benchmark::DoNotOptimize(grads.data());
  }
  if (measured && before >= 0) state.counters["peak_mb"] = status_mb("VmHWM") - before;
}

// The ABI's cost per call: nn.add on one-element tensors through Kernel (allocating the output,
// or into a preallocated one as the graph runtime does), against the same addition called directly.
__attribute__((noinline)) void add_direct(const float* a, const float* b, float* y, std::int64_t n) {
  for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void dispatch_direct(benchmark::State& state) {
  const Tensor a = random_tensor({1}, false, 1), b = random_tensor({1}, false, 2);
  Tensor y(kFloat32, {1});
  for (auto _ : state) {
    add_direct(a.data<float>(), b.data<float>(), y.data<float>(), 1);
    benchmark::DoNotOptimize(y.data<float>());
  }
}

void dispatch_kernel_forward(benchmark::State& state) {
  const Kernel k = registry().create_kernel("nn.add");
  const std::vector<Tensor> in{random_tensor({1}, false, 1), random_tensor({1}, false, 2)};
  for (auto _ : state) benchmark::DoNotOptimize(k.forward(in));
}

void dispatch_kernel_forward_into(benchmark::State& state) {
  const Kernel k = registry().create_kernel("nn.add");
  const std::vector<Tensor> in{random_tensor({1}, false, 1), random_tensor({1}, false, 2)};
  std::vector<Tensor> out{Tensor(kFloat32, {1})};
  for (auto _ : state) {
    k.forward_into(in, out);
    benchmark::DoNotOptimize(out.data());
  }
}

// This CPU's float32 peak, measured: every thread runs chains of independent vector FMAs on
// registers (12 accumulators hide the FMA latency), with the widest vectors the CPU has. The
// clock a VM reports is nominal, so a peak computed from it can be exceeded; this one cannot.
constexpr int kPeakRounds = 1 << 20;
constexpr int kPeakChains = 12;

// The same loop for each vector width (intrinsics need their target on the function itself).
#define PCV_FMA_CHAINS(Vec, set1, fmadd, store, lanes)                                           \
  Vec acc[kPeakChains];                                                                          \
  for (int c = 0; c < kPeakChains; ++c) acc[c] = set1(0.001f * c);                               \
  const Vec a = set1(0.999f), b = set1(0.0001f);                                                 \
  for (int r = 0; r < kPeakRounds; ++r)                                                          \
    _Pragma("GCC unroll 12") for (int c = 0; c < kPeakChains; ++c) acc[c] = fmadd(acc[c], a, b); \
  float total = 0;                                                                               \
  for (int c = 0; c < kPeakChains; ++c) {                                                        \
    alignas(64) float f[lanes];                                                                  \
    store(f, acc[c]);                                                                            \
    for (float v : f) total += v;                                                                \
  }                                                                                              \
  return total

__attribute__((target("avx512f"))) float fma_chains_avx512() {
  PCV_FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_store_ps, 16);
}

__attribute__((target("avx2,fma"))) float fma_chains_avx2() {
  PCV_FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_store_ps, 8);
}

// FLOPs of one fma_chains call, or 0 when the CPU has neither AVX-512 nor AVX2 with FMA.
double peak_flops_per_call() {
  const int lanes = __builtin_cpu_supports("avx512f") ? 16 : __builtin_cpu_supports("fma") ? 8 : 0;
  return 2.0 * lanes * kPeakChains * kPeakRounds;
}

void fma_peak(benchmark::State& state) {
  const int threads = num_threads();
  const bool avx512 = __builtin_cpu_supports("avx512f");
  std::vector<float> sink(static_cast<std::size_t>(threads));
  for (auto _ : state) {
    std::vector<std::thread> team;
    for (int t = 0; t < threads; ++t)
      team.emplace_back([&, t] { sink[t] = avx512 ? fma_chains_avx512() : fma_chains_avx2(); });
    for (auto& thread : team) thread.join();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["gflops"] = benchmark::Counter(peak_flops_per_call() * threads / 1e9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace
}  // namespace pcv

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::cerr << "usage: pcv_bench_ops CASES.json [Google Benchmark flags]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "pcv_bench_ops: cannot read " << argv[1] << "\n";
    return 2;
  }
  const auto file = nlohmann::json::parse(in);
  const auto& cases = file.at("cases");
  static std::vector<pcv::Case> loaded;
  loaded.reserve(cases.size());
  for (const auto& j : cases) loaded.push_back(pcv::read_case(j));
  for (const pcv::Case& c : loaded) {
    benchmark::RegisterBenchmark((c.name + "/forward").c_str(), pcv::forward, std::cref(c))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.5);
    benchmark::RegisterBenchmark((c.name + "/forward+backward").c_str(), pcv::forward_backward, std::cref(c))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.5);
  }
  if (pcv::peak_flops_per_call() > 0)
    benchmark::RegisterBenchmark("peak/fma float32", pcv::fma_peak)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  if (file.value("dispatch", false)) {
    benchmark::RegisterBenchmark("dispatch/direct C++ call", pcv::dispatch_direct);
    benchmark::RegisterBenchmark("dispatch/Kernel::forward", pcv::dispatch_kernel_forward);
    benchmark::RegisterBenchmark("dispatch/Kernel::forward_into", pcv::dispatch_kernel_forward_into);
  }
  argv[1] = argv[0];  // Google Benchmark parses the rest
  --argc;
  ++argv;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
