// The upsample plugin's entry point: the list of its ops (one header per op family).
#include <pcv/sdk.hpp>

#include "conv_transpose.hpp"
#include "interpolate.hpp"
#include "pixel_shuffle.hpp"

PCV_PLUGIN("upsample", "0.1.0", "Learned and fixed upsampling with forward and backward (PyTorch semantics)",
           pcv::upsample::ConvTranspose1d, pcv::upsample::ConvTranspose2d, pcv::upsample::ConvTranspose3d,
           pcv::upsample::PixelShuffle, pcv::upsample::PixelUnshuffle, pcv::upsample::VoxelShuffle,
           pcv::upsample::VoxelUnshuffle, pcv::upsample::Interpolate)
