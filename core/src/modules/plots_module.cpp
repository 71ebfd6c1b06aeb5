// The plots module's entry point (see plots.hpp).
#include "modules/drawing.hpp"

extern "C" __attribute__((visibility("default"))) const pcv::detail::PlotsApi* pcv_plots_api() {
  namespace d = pcv::detail::drawing;
  static const pcv::detail::PlotsApi api{&d::curves, &d::confusion, &d::roc};
  return &api;
}
