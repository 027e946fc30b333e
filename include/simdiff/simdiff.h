// Everything simdiff offers, in one include.
#pragma once

#include "simdiff/backend.h"
#include "simdiff/data.h"
#include "simdiff/elementwise.h"
#include "simdiff/gemm.h"
#include "simdiff/gradient_check.h"
#include "simdiff/losses.h"
#include "simdiff/matrix_shape.h"
#include "simdiff/metrics.h"
#include "simdiff/model.h"
#include "simdiff/ops.h"
#include "simdiff/optimizers.h"
#include "simdiff/rowwise.h"
#include "simdiff/safetensors.h"
#include "simdiff/tape.h"
#include "simdiff/tensor.h"
#include "simdiff/version.h"
