// The nn plugin's entry point: the list of its ops (one header per op family).
#include <pcv/sdk.hpp>

#include "elementwise.hpp"

PCV_PLUGIN("nn", "0.2.0", "Neural-network building blocks with forward and backward (PyTorch semantics)",
           pcv::nn::Add, pcv::nn::Mul)
