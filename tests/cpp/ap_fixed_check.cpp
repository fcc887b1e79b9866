// Exhaustive ap_fixed conversion table: the authority that accel.fixed.quantize is checked against.
//
// For every case listed in the file named by AP_CHECK_CASES (written by tests/test_fixed_ap_types.py,
// one `CASE(id, W1, I1, S1, W2, I2, S2, Q, O)` per line) this program sets every raw bit pattern of the
// source type ap_[u]fixed<W1,I1>, assigns it to ap_[u]fixed<W2,I2,Q,O> and prints
//     id raw_dst_0 raw_dst_1 ... raw_dst_(2^W1 - 1)
// (or only the case whose id is given as the first argument), where raw_dst_k is the destination's bit pattern (as an unsigned integer) for source pattern k.
// Build: g++ -O1 -std=c++14 -I <hls4ml>/templates/vivado/ap_types -DAP_CHECK_CASES='"cases.inc"' ap_fixed_check.cpp
#include <cstdio>
#include <cstdlib>
#include <type_traits>

#include "ap_fixed.h"

template <int W, int I, bool S, ap_q_mode Q = AP_TRN, ap_o_mode O = AP_WRAP>
using fixed_t = typename std::conditional<S, ap_fixed<W, I, Q, O>, ap_ufixed<W, I, Q, O>>::type;

template <int W1, int I1, bool S1, int W2, int I2, bool S2, ap_q_mode Q, ap_o_mode O>
void run(int id) {
    std::printf("%d", id);
    for (unsigned long long bits = 0; bits < (1ULL << W1); ++bits) {
        fixed_t<W1, I1, S1> x;
        x.range(W1 - 1, 0) = bits;
        fixed_t<W2, I2, S2, Q, O> y = x;
        std::printf(" %llu", (unsigned long long)y.range(W2 - 1, 0).to_uint64());
    }
    std::printf("\n");
}

int main(int argc, char** argv) {
    // With an argument, run only the case with that id (for debugging one case).
    const int only = argc > 1 ? std::atoi(argv[1]) : -1;
#define CASE(id, W1, I1, S1, W2, I2, S2, Q, O) \
    if (only < 0 || only == (id)) run<W1, I1, S1, W2, I2, S2, Q, O>(id);
#include AP_CHECK_CASES
#undef CASE
    return 0;
}
