// The face plugin's entry point: the list of its ops.
#include <pcv/sdk.hpp>

#include "align.hpp"

PCV_PLUGIN("face", "0.1.0", "Face alignment: landmarks to canonical crops (insightface's ArcFace template)",
           pcv::face::Align)
