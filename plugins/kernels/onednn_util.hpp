// Shared oneDNN helpers: the CPU engine, a stream per thread, thread count, and moving tensors
// between PyTorch's plain layouts and the (possibly blocked) layouts a primitive chooses.
#pragma once

#include <omp.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <vector>

namespace pcv::kernels::onednn {

inline const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Streams are cheap but not meant to be shared between threads that execute concurrently.
inline dnnl::stream& thread_stream() {
  thread_local dnnl::stream stream(cpu_engine());
  return stream;
}

// oneDNN's CPU runtime is OpenMP: it runs on the calling thread's OpenMP thread count.
inline void use_threads(int threads) {
  if (omp_get_max_threads() != threads) omp_set_num_threads(threads);
}

// True when a layout the primitive chose pads a dim (e.g. 1 input channel blocked by 16): the
// padding is computed as if it were data, so a plain layout is usually faster then.
inline bool pads_any_dim(const dnnl::memory::desc& md) {
  for (int i = 0; i < md.data.ndims; ++i)
    if (md.data.padded_dims[i] != md.data.dims[i]) return true;
  return false;
}

// Per-thread buffers for reordered copies and primitive scratchpads, kept between calls: freshly
// allocated buffers of several MB would page-fault on every call, which costs as much as a small
// convolution. A call uses numbered slots, one per tensor it reorders; calls on one thread never
// overlap.
class ScratchArena {
 public:
  // The slot of primitive scratchpads. Primitives on a stream run one after another, so all of a
  // call's primitives (reorders included) can share it.
  static constexpr std::size_t kScratchpadSlot = 0;
  // The first slot free for reordered copies.
  static constexpr std::size_t kFirstCopySlot = 1;

  static ScratchArena& for_this_thread() {
    thread_local ScratchArena arena;
    return arena;
  }
  void* slot(std::size_t index, std::size_t bytes) {
    if (index >= blocks_.size()) blocks_.resize(index + 1);
    Block& b = blocks_[index];
    if (b.bytes < bytes || !b.data) {  // never null, even for an empty scratchpad
      const std::size_t rounded =
          std::max<std::size_t>(1, (bytes + kAlignment - 1) / kAlignment) * kAlignment;
      b.data.reset(static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded)));
      if (!b.data) throw std::bad_alloc();
      b.bytes = rounded;
    }
    return b.data.get();
  }

 private:
  static constexpr std::size_t kAlignment = 64;  // a cache line, what oneDNN's kernels expect
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  struct Block {
    std::unique_ptr<std::byte, Free> data;
    std::size_t bytes = 0;
  };
  std::vector<Block> blocks_;
};

// Primitives get their scratchpad from the caller (ScratchArena), per call. oneDNN's default
// ("library") scratchpad is bound to the thread that created the primitive, which breaks when
// another thread runs it.
inline dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The scratchpad argument for a primitive made with user_scratchpad().
inline dnnl::memory scratchpad_for(const dnnl::memory::desc& scratchpad_desc) {
  void* data =
      ScratchArena::for_this_thread().slot(ScratchArena::kScratchpadSlot, scratchpad_desc.get_size());
  return dnnl::memory(scratchpad_desc, cpu_engine(), data);
}

// A tensor at the boundary of a primitive: the user's plain layout and the layout the primitive
// works in, with the reorder between them when they differ.
class Bridge {
 public:
  Bridge() = default;
  // For an input: reorders user → inner before the primitive runs. `index` numbers the tensor's
  // reordered copy, distinct for the tensors of one primitive.
  static Bridge input(const dnnl::memory::desc& user, const dnnl::memory::desc& inner, std::size_t index) {
    return Bridge(user, inner, user, inner, index);
  }
  // For an output: reorders inner → user after the primitive ran.
  static Bridge output(const dnnl::memory::desc& user, const dnnl::memory::desc& inner, std::size_t index) {
    return Bridge(user, inner, inner, user, index);
  }

  // Memory in the inner layout holding the user's data: the user's buffer itself, or a copy.
  dnnl::memory read(const void* data, dnnl::stream& stream) const {
    dnnl::memory user(user_, cpu_engine(), const_cast<void*>(data));
    if (!reorder_) return user;
    dnnl::memory inner = copy();
    run_reorder(user, inner, stream);
    return inner;
  }
  // Memory in the inner layout for the primitive to write: the user's buffer, or a copy that
  // finish_write() moves back.
  dnnl::memory write_target(void* data) const {
    return reorder_ ? copy() : dnnl::memory(user_, cpu_engine(), data);
  }
  void finish_write(const dnnl::memory& target, void* data, dnnl::stream& stream) const {
    if (reorder_) run_reorder(target, dnnl::memory(user_, cpu_engine(), data), stream);
  }

 private:
  Bridge(const dnnl::memory::desc& user, const dnnl::memory::desc& inner, const dnnl::memory::desc& from,
         const dnnl::memory::desc& to, std::size_t index)
      : user_(user), inner_(inner), slot_(ScratchArena::kFirstCopySlot + index) {
    if (from == to) return;
    pd_ = dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to, user_scratchpad());
    reorder_ = dnnl::reorder(pd_);
  }
  dnnl::memory copy() const {
    return dnnl::memory(inner_, cpu_engine(), ScratchArena::for_this_thread().slot(slot_, inner_.get_size()));
  }
  void run_reorder(const dnnl::memory& from, const dnnl::memory& to, dnnl::stream& stream) const {
    reorder_->execute(stream, {{DNNL_ARG_FROM, from},
                               {DNNL_ARG_TO, to},
                               {DNNL_ARG_SCRATCHPAD, scratchpad_for(pd_.scratchpad_desc())}});
  }

  dnnl::memory::desc user_, inner_;
  std::size_t slot_ = 0;
  dnnl::reorder::primitive_desc pd_;
  std::optional<dnnl::reorder> reorder_;
};

}  // namespace pcv::kernels::onednn
