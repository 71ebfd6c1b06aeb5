// Loads the plugin given on the command line through the installed libpcv and runs mylib.clamp.
#include <pcv/registry.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: run_clamp PLUGIN.so\n");
    return 2;
  }
  try {
    pcv::Registry registry;
    registry.load(argv[1]);
    pcv::Kernel clamp = registry.create_kernel("mylib.clamp", {{"lo", -1.0}, {"hi", 1.0}});
    const auto y = clamp.forward({pcv::Tensor::from<float>({4}, {-3.f, -0.5f, 0.25f, 2.f})});
    for (float v : y[0].to_vector<float>()) std::printf("%g ", v);
    std::printf("\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "run_clamp: %s\n", e.what());
    return 1;
  }
  return 0;
}
