// The nn plugin's entry point: the list of its ops.
#include <pcv/sdk.hpp>

#include "elementwise.hpp"

PCV_PLUGIN("nn", "0.1.0", "Neural-network building blocks", pcv::nn::Relu, pcv::nn::Add)
