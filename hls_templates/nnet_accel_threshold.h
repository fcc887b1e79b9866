// accel: elementwise step function for hls4ml (io_parallel and io_stream), accel's threshold op.
//
// res = level(k) where k is the number of thresholds at or below x, all as raw integers: thresholds on the
// input type's grid (in_frac fractional bits), levels on the result type's grid (out_frac).  This is how accel
// states QKeras's power-of-two and sign activations (quantized_relu_po2, quantized_po2, binary, ternary), which
// are not roundings onto a uniform grid.  The tables have n_tab rows: one (the same step function for every
// element) or n_chan (one per channel, a batch normalization folded into the step function); a row with fewer
// steps repeats a threshold.  The config struct (with the tables) is rendered by accel/hls/extensions.py.
#ifndef NNET_ACCEL_THRESHOLD_H_
#define NNET_ACCEL_THRESHOLD_H_

#include "ap_fixed.h"
#include "hls_stream.h"
#include "nnet_common.h"

namespace nnet {

struct accel_threshold_config {
    static const unsigned n_elem = 1; // elements per frame
    static const unsigned n_chan = 1; // elements per stream pack (channels)
    static const unsigned n_thr = 1;  // thresholds per row
    static const unsigned n_tab = 1;  // table rows: 1 or n_chan
    static const int in_frac = 0;
    static const int out_frac = 0;
};

// the level of x in table row `row` (the element's channel modulo n_tab)
template <class in_t, class out_t, typename CONFIG_T> out_t accel_step(in_t x, unsigned row) {
    ap_fixed<64, 64 - CONFIG_T::in_frac> wide = x;
    ap_uint<64> bits = wide.range(63, 0);
    long long raw = (long long)bits.to_uint64();
    unsigned k = 0;
    for (unsigned t = 0; t < CONFIG_T::n_thr; t++)
        if (raw >= CONFIG_T::threshold(row, t))
            k++;
    ap_fixed<64, 64 - CONFIG_T::out_frac> exact;
    exact.range(63, 0) = ap_uint<64>((unsigned long long)CONFIG_T::level(row, k));
    out_t res = exact; // the level is a value of out_t: the conversion is exact
    return res;
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_threshold_cl(data_T data[CONFIG_T::n_elem], res_T res[CONFIG_T::n_elem]) {
    for (unsigned i = 0; i < CONFIG_T::n_elem; i++)
        res[i] = accel_step<data_T, res_T, CONFIG_T>(data[i], (i % CONFIG_T::n_chan) % CONFIG_T::n_tab);
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_threshold_cl(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    static_assert(data_T::size == CONFIG_T::n_chan, "accel_threshold_cl expects one pack per pixel");
    static_assert(res_T::size == CONFIG_T::n_chan, "accel_threshold_cl expects one pack per pixel");
    for (unsigned p = 0; p < CONFIG_T::n_elem / CONFIG_T::n_chan; p++) {
        data_T in = data.read();
        res_T out;
        PRAGMA_DATA_PACK(out)
        for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
            out[c] = accel_step<in_t, out_t, CONFIG_T>(in[c], c % CONFIG_T::n_tab);
        res.write(out);
    }
}

} // namespace nnet

#endif
