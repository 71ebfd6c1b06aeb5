// A kernel: one op instantiated with its attributes, ready to run forward and backward.
#pragma once

#include <pcv/tensor.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pcv {

struct OpInfo;

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

  // Runs the op. An absent optional input is a default-constructed Tensor.
  std::vector<Tensor> forward(const std::vector<Tensor>& inputs) const;

  // Gradients of the inputs given the gradients of the outputs. wanted[i] == false skips
  // input i (its entry in the result is then an absent Tensor); empty means all.
  std::vector<Tensor> backward(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                               const std::vector<Tensor>& grad_outputs,
                               const std::vector<bool>& wanted = {}) const;

 private:
  friend class Registry;
  Kernel(std::shared_ptr<const OpInfo> op, void* state);
  std::unique_lock<std::mutex> take_turn() const;
  std::vector<std::pair<pcv_dtype, Shape>> infer_shapes_locked(
      const std::vector<const pcv_tensor*>& inputs) const;

  std::shared_ptr<const OpInfo> op_;
  void* state_;
  std::unique_ptr<std::mutex> serial_;  // set when the op is not thread-safe: calls take turns
};

}  // namespace pcv
