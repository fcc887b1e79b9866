// accel: zero insertion for hls4ml (io_parallel and io_stream), accel's zero_insert op.
//
// (in_height, in_width, n_chan) -> (out_height, out_width, n_chan) with out = (in - 1) * stride + 1: input pixel
// (y, x) goes to (y * stride_height, x * stride_width), every other output pixel is zero.  This is the first step
// of a transposed convolution, which accel lowers to zero insertion and an ordinary padded Conv2D; hls4ml has no
// such layer.  The config struct is rendered by accel/hls/extensions.py.
#ifndef NNET_ACCEL_ZERO_INSERT_H_
#define NNET_ACCEL_ZERO_INSERT_H_

#include "hls_stream.h"
#include "nnet_common.h"

namespace nnet {

struct accel_zero_insert_config {
    static const unsigned in_height = 1;
    static const unsigned in_width = 1;
    static const unsigned n_chan = 1;
    static const unsigned stride_height = 1;
    static const unsigned stride_width = 1;
    static const unsigned out_height = 1;
    static const unsigned out_width = 1;
};

template <class data_T, class res_T, typename CONFIG_T>
void accel_zero_insert_cl(data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_chan],
                          res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan]) {
    for (unsigned i = 0; i < CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_chan; i++)
        res[i] = 0;
    for (unsigned y = 0; y < CONFIG_T::in_height; y++)
        for (unsigned x = 0; x < CONFIG_T::in_width; x++)
            for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
                res[((y * CONFIG_T::stride_height) * CONFIG_T::out_width + x * CONFIG_T::stride_width) *
                        CONFIG_T::n_chan +
                    c] = data[(y * CONFIG_T::in_width + x) * CONFIG_T::n_chan + c];
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_zero_insert_cl(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    static_assert(data_T::size == CONFIG_T::n_chan, "accel_zero_insert_cl expects one pack per pixel");
    static_assert(res_T::size == CONFIG_T::n_chan, "accel_zero_insert_cl expects one pack per pixel");
    for (unsigned y = 0; y < CONFIG_T::out_height; y++) {
        for (unsigned x = 0; x < CONFIG_T::out_width; x++) {
            #pragma HLS PIPELINE
            res_T out;
            PRAGMA_DATA_PACK(out)
            if (y % CONFIG_T::stride_height == 0 && x % CONFIG_T::stride_width == 0) {
                data_T in = data.read();
                for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
                    out[c] = in[c];
            } else {
                for (unsigned c = 0; c < CONFIG_T::n_chan; c++)
                    out[c] = 0;
            }
            res.write(out);
        }
    }
}

} // namespace nnet

#endif
