// The losses plugin's entry point: the list of its ops.
#include <pcv/sdk.hpp>

#include "margin_softmax.hpp"

PCV_PLUGIN("losses", "0.1.0", "Normalised and margin-based softmax losses for face and metric learning",
           pcv::losses::MarginSoftmax)
