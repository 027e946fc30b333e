# Sources of the losses (<simdiff/losses.h>), added to target simdiff.
