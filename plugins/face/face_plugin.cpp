// The face plugin's entry point: the list of its ops.
#include <pcv/sdk.hpp>

#include "align.hpp"
#include "detect.hpp"
#include "landmarks.hpp"

PCV_PLUGIN("face", "0.1.0",
           "Face detection (dlib HOG, OpenCV cascades), 68-point landmarks (dlib) and alignment to canonical "
           "crops (insightface's ArcFace template)",
           pcv::face::Detect, pcv::face::Landmarks, pcv::face::Align)
