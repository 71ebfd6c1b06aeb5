#include "runtime/memory_plan.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace pcv::detail {
namespace {

constexpr std::uint64_t kSlotAlignment = 64;

std::uint64_t aligned_bytes(const Tensor& t) {
  const std::uint64_t bytes = t.nbytes();
  return (bytes + kSlotAlignment - 1) / kSlotAlignment * kSlotAlignment;
}

bool has_open_dims(const Tensor& t) {
  return std::any_of(t.shape().begin(), t.shape().end(), [](std::int64_t d) { return d < 0; });
}

}  // namespace

MemoryPlan::MemoryPlan(const std::vector<PlannedNode>& nodes, const std::vector<std::string>& graph_outputs) {
  const std::set<std::string> kept(graph_outputs.begin(), graph_outputs.end());
  std::map<std::string, std::size_t> last_reader;
  for (std::size_t k = 0; k < nodes.size(); ++k)
    for (const std::string& in : nodes[k].inputs)
      if (!in.empty()) last_reader[in] = k;

  std::vector<std::uint64_t> capacity;  // per slot
  std::vector<int> free_slots;
  std::map<std::string, int> slot_holding;
  std::set<std::string> intermediates;
  for (const PlannedNode& node : nodes) intermediates.insert(node.outputs.begin(), node.outputs.end());
  slot_of_.resize(nodes.size());
  released_.resize(nodes.size());
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const PlannedNode& node = nodes[k];
    for (std::size_t i = 0; i < node.outputs.size(); ++i) {
      const Tensor& shape = node.output_shapes[i];
      int slot = -1;
      if (!kept.count(node.outputs[i]) && !has_open_dims(shape)) {
        const std::uint64_t need = aligned_bytes(shape);
        // Best fit among free slots; else grow the largest free one; else a new slot.
        auto best = free_slots.end();
        for (auto it = free_slots.begin(); it != free_slots.end(); ++it) {
          const bool fits = capacity[*it] >= need;
          if (best == free_slots.end() ||
              (fits && (capacity[*best] < need || capacity[*it] < capacity[*best])) ||
              (!fits && capacity[*best] < need && capacity[*it] > capacity[*best]))
            best = it;
        }
        if (best != free_slots.end()) {
          slot = *best;
          free_slots.erase(best);
          capacity[slot] = std::max(capacity[slot], need);
        } else {
          slot = static_cast<int>(capacity.size());
          capacity.push_back(need);
        }
        slot_holding[node.outputs[i]] = slot;
      }
      slot_of_[k].push_back(slot);
    }
    // After node k: whatever it was the last to read, and outputs nobody reads, are done.
    const auto release = [&](const std::string& name) {
      if (kept.count(name)) return;
      released_[k].push_back(name);
      if (auto it = slot_holding.find(name); it != slot_holding.end()) {
        free_slots.push_back(it->second);
        slot_holding.erase(it);
      }
    };
    for (const std::string& in : node.inputs)
      if (!in.empty() && last_reader[in] == k && intermediates.count(in)) release(in);
    for (const std::string& out : node.outputs)
      if (!last_reader.count(out)) release(out);
  }
  for (std::uint64_t c : capacity) {
    slot_offsets_.push_back(arena_bytes_);
    arena_bytes_ += c;
  }
  if (arena_bytes_ > 0) arena_ = Tensor::empty(kUInt8, {static_cast<std::int64_t>(arena_bytes_)});
}

std::vector<Tensor> MemoryPlan::outputs(std::size_t k, const std::vector<Tensor>& shapes) const {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const int slot = slot_of_[k][i];
    if (slot >= 0) {
      auto* base = static_cast<std::uint8_t*>(arena_.raw_data()) + slot_offsets_[slot];
      out.push_back(
          Tensor::wrap(base, shapes[i].dtype(), shapes[i].shape(), std::make_shared<Tensor>(arena_)));
    } else if (has_open_dims(shapes[i])) {
      out.emplace_back();
    } else {
      out.push_back(Tensor::empty(shapes[i].dtype(), shapes[i].shape()));
    }
  }
  return out;
}

}  // namespace pcv::detail
