# Instrumentation for every target of this build tree (never exported to the
# users of an installed tree): SIMULACRA_SANITIZE, a -fsanitize= list such as
# address,undefined, and SIMULACRA_BUILD_FUZZERS, libFuzzer's coverage
# (clang only; the harnesses in fuzz/ link libFuzzer itself).
if(SIMULACRA_SANITIZE)
  add_compile_options(-fsanitize=${SIMULACRA_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${SIMULACRA_SANITIZE})
endif()
if(SIMULACRA_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SIMULACRA_BUILD_FUZZERS needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(NOT SIMULACRA_SANITIZE)
    message(FATAL_ERROR "SIMULACRA_BUILD_FUZZERS needs a sanitizer: configure with -DSIMULACRA_SANITIZE=address,undefined")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
