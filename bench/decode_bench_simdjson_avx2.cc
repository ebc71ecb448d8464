// bench/decode_bench_simdjson.cc again, built with -march=haswell: the
// best simdjson can do on this host, beside the baseline build's fallback.
#define LITEPOOL_SIMDJSON_DECODER SimdjsonAvx2Decoder
#include "bench/decode_bench_simdjson.cc"
