// A C++ plugin whose op declaration throws while the entry point builds its descriptors:
// the SDK's catch-all must turn that into a status and a message, never an escaping exception.
#include <pcv/sdk.hpp>

#include <stdexcept>

class Exploding {
 public:
  static pcv::sdk::OpSpec spec() { throw std::runtime_error("the op table could not be built"); }
  explicit Exploding(const pcv::sdk::Attributes&) {}
  void infer_shapes(pcv::sdk::ShapeContext&) const {}
  void forward(pcv::sdk::ForwardContext&) const {}
};

PCV_PLUGIN("zoo_entry_throws", "1.0", "throws in its entry point", Exploding)
