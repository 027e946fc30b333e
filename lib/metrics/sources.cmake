# Sources of the metrics (<simdiff/metrics.h>), added to target simdiff.
