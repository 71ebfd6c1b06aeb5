// Turning the caller's attributes into the pcv_attrs a plugin's create receives.
#pragma once

#include <pcv/attr.hpp>
#include <pcv/owned_attr.hpp>
#include <pcv/registry.hpp>

#include <vector>

namespace pcv::detail {

// Checks attrs against the op's schema (unknown names, wrong types, missing required ones)
// and converts where it is lossless (an int where a float is declared, ints for floats).
// Throws pcv::Error naming the op and the attribute.
class AttrBinding {
 public:
  AttrBinding(const OpInfo& op, const AttrMap& attrs);
  AttrBinding(const AttrBinding&) = delete;
  AttrBinding& operator=(const AttrBinding&) = delete;

  const pcv_attrs* get() { return &list_; }

 private:
  std::vector<OwnedAttr> values_;
  std::vector<const pcv_attr*> pointers_;
  pcv_attrs list_{};
};

}  // namespace pcv::detail
