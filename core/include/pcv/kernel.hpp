// A kernel: one op instantiated with its attributes, ready to run forward and backward.
#pragma once

#include <pcv/tensor.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace pcv {

struct OpInfo;

// How a forward or backward call runs (pcv_forward_args: run_flags, num_threads, seed).
struct RunOptions {
  bool training = false;   // batch statistics, dropout and state updates on
  int num_threads = 0;     // 0: pcv::num_threads()
  std::uint64_t seed = 0;  // for random ops; the same seed gives the same result
};

// Movable, not copyable. Safe to call from several threads: calls into an op without
// PCV_CAP_THREADSAFE_COMPUTE take turns. (Plugins are never unloaded, so a kernel cannot
// outlive its code.)
class Kernel {
 public:
  Kernel(Kernel&&) noexcept;
  Kernel& operator=(Kernel&&) noexcept;
  ~Kernel();

  const OpInfo& op() const;

  // Output dtypes and shapes for inputs of these dtypes and shapes (data is not read).
  // A dimension known only after forward is -1. Returned tensors have no memory.
  std::vector<std::pair<pcv_dtype, Shape>> infer_shapes(const std::vector<Tensor>& inputs) const;

  // Runs the op. An absent optional input is a default-constructed Tensor. A variadic last
  // input takes every tensor from its position on.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs, const RunOptions& options = {}) const;

  // Runs the op into outputs the caller allocated with the shapes infer_shapes gave (the graph
  // runtime's planned buffers). An output left undefined (a shape known only after computing)
  // is set to the tensor the op allocates. Inputs of ops with state inputs may be updated.
  void forward_into(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs,
                    const RunOptions& options = {}) const;

  // Gradients of the inputs given the gradients of the outputs. wanted[i] == false skips
  // input i (its entry in the result is then an absent Tensor); empty means all.
  std::vector<Tensor> backward(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                               const std::vector<Tensor>& grad_outputs, const std::vector<bool>& wanted = {},
                               const RunOptions& options = {}) const;

 private:
  friend class Registry;
  Kernel(std::shared_ptr<const OpInfo> op, void* state);
  std::unique_lock<std::mutex> take_turn() const;
  std::vector<std::pair<pcv_dtype, Shape>> infer_shapes_locked(
      std::span<const pcv_tensor* const> inputs) const;

  std::shared_ptr<const OpInfo> op_;
  void* state_;
  std::unique_ptr<std::mutex> serial_;  // set when the op is not thread-safe: calls take turns
};

}  // namespace pcv
