# Sources of the matrix products (<simdiff/gemm.h>), added to target simdiff.
target_sources(simdiff PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/gemm.cc
  ${CMAKE_CURRENT_LIST_DIR}/cblas_gemm.cc
  ${CMAKE_CURRENT_LIST_DIR}/../highway/highway_gemm.cc
  ${CMAKE_CURRENT_LIST_DIR}/../scalar/scalar_gemm.cc)

# The optional CBLAS provider (GemmProvider::cblas). Off by default: neither the main build nor
# the aarch64 build needs a BLAS.
option(SIMDIFF_WITH_CBLAS "Build the CBLAS provider of gemm (e.g. Debian's libopenblas-dev)" OFF)
if(SIMDIFF_WITH_CBLAS)
  find_library(SIMDIFF_CBLAS_LIBRARY NAMES openblas cblas REQUIRED)
  find_path(SIMDIFF_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas REQUIRED)
  # On the one file that calls CBLAS, so that switching the option rebuilds nothing else.
  set(simdiff_cblas_definitions SIMDIFF_HAVE_CBLAS)
  if(SIMDIFF_CBLAS_LIBRARY MATCHES "openblas")
    list(APPEND simdiff_cblas_definitions SIMDIFF_CBLAS_IS_OPENBLAS)
  endif()
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/cblas_gemm.cc PROPERTIES
    COMPILE_DEFINITIONS "${simdiff_cblas_definitions}"
    INCLUDE_DIRECTORIES "${SIMDIFF_CBLAS_INCLUDE_DIR}")
  target_link_libraries(simdiff PRIVATE ${SIMDIFF_CBLAS_LIBRARY})
  message(STATUS "simdiff: CBLAS provider ${SIMDIFF_CBLAS_LIBRARY}")
endif()
