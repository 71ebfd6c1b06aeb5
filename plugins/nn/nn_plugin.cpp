// The nn plugin's entry point: the list of its ops (one header per op family).
#include <pcv/sdk.hpp>

#include "activation.hpp"
#include "batch_norm.hpp"
#include "conv.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "elementwise.hpp"
#include "loss.hpp"
#include "pool.hpp"
#include "shape_ops.hpp"
#include "softmax.hpp"

PCV_PLUGIN("nn", "0.2.0", "Neural-network building blocks with forward and backward (PyTorch semantics)",
           pcv::nn::Add, pcv::nn::Mul, pcv::nn::Concat, pcv::nn::Reshape, pcv::nn::Flatten, pcv::nn::Permute,
           pcv::nn::Transpose, pcv::nn::Narrow, pcv::nn::Softmax, pcv::nn::LogSoftmax, pcv::nn::CrossEntropy,
           pcv::nn::NllLoss, pcv::nn::Conv1d, pcv::nn::Conv2d, pcv::nn::Conv3d, pcv::nn::Linear,
           pcv::nn::Matmul, pcv::nn::BatchNorm, pcv::nn::Relu, pcv::nn::LeakyRelu, pcv::nn::Gelu,
           pcv::nn::Sigmoid, pcv::nn::Tanh, pcv::nn::Dropout, pcv::nn::MaxPool1d, pcv::nn::MaxPool2d,
           pcv::nn::MaxPool3d, pcv::nn::AvgPool1d, pcv::nn::AvgPool2d, pcv::nn::AvgPool3d,
           pcv::nn::GlobalMaxPool, pcv::nn::GlobalAvgPool)
