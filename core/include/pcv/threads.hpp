// How many CPU threads pcv's kernels use. Every forward and backward call passes this number to
// the plugin (pcv_forward_args::num_threads), which keeps to it.
#pragma once

namespace pcv {

// The current setting: set_num_threads(), else $PCV_NUM_THREADS, else the number of CPUs.
int num_threads();
// n >= 1; 0 returns to the default.
void set_num_threads(int n);

}  // namespace pcv
