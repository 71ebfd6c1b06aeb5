// The pointconv plugin's entry point: the list of its ops (one header per op family).
#include <pcv/sdk.hpp>

#include "aggregate.hpp"
#include "density.hpp"
#include "fused_pointconv.hpp"
#include "grouping.hpp"
#include "interpolate.hpp"
#include "sampling.hpp"

PCV_PLUGIN("pointconv", "0.1.0",
           "PointConv (Wu, Qi, Fuxin, CVPR 2019): sampling, neighbours and point convolutions",
           pcv::pointconv::FarthestPointSample, pcv::pointconv::Knn, pcv::pointconv::BallQuery,
           pcv::pointconv::GatherPoints, pcv::pointconv::Group, pcv::pointconv::Centroid,
           pcv::pointconv::Density, pcv::pointconv::DensityScale, pcv::pointconv::Aggregate,
           pcv::pointconv::KnnInterpolate, pcv::pointconv::FusedPointConv)
