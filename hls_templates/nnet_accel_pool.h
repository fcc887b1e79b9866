// accel: exact average pooling and general max pooling for hls4ml (io_parallel and io_stream).
//
// Max pooling: hls4ml's io_stream pooling only supports pool == stride without padding;
// accel_maxpool_cl takes any window, stride and padding, and padded positions never win
// (TensorFlow 'same' semantics, as accel's reference defines them).
//
// Average pooling:
// hls4ml's own pooling divides an accumulator by the pixel count with ap_fixed
// division (truncated to the accumulator's grid) and then rounds again when the
// quotient is assigned to the result type: two roundings, so round(sum / N) is
// wrong whenever N is not a power of two.  accel's Graph defines the average as
// ONE rounding of the exact quotient (accel.fixed.round_divide), optionally after
// a ReLU, followed by the result type's own overflow mode.  These kernels compute
// exactly that with integer arithmetic on raw values:
//
//   num = max(sum, 0 if relu) * 2^max(out_frac - in_frac, 0)
//   den = count * 2^max(in_frac - out_frac, 0)
//   q   = floor(num / den), corrected by the rounding mode (0 AP_TRN, 1 AP_RND, 2 AP_RND_CONV)
//   res = q as a raw value of res_T's grid; res_T's overflow mode (AP_SAT, AP_WRAP, ...) then applies.
//
// The config struct is rendered by accel/hls/extensions.py.
#ifndef NNET_ACCEL_POOL_H_
#define NNET_ACCEL_POOL_H_

#include "ap_fixed.h"
#include "hls_stream.h"
#include "nnet_common.h"

namespace nnet {

struct accel_pool_config {
    static const unsigned in_height = 1;
    static const unsigned in_width = 1;
    static const unsigned n_filt = 1;
    static const unsigned pool_height = 1;
    static const unsigned pool_width = 1;
    static const unsigned stride_height = 1;
    static const unsigned stride_width = 1;
    static const unsigned out_height = 1;
    static const unsigned out_width = 1;
    static const unsigned pad_top = 0; // max pooling only
    static const unsigned pad_left = 0;
    static const int in_frac = 0;    // fractional bits of the input type
    static const int out_frac = 0;   // fractional bits of the result type
    static const unsigned rounding = 2; // 0 truncate (floor), 1 half up, 2 half to even
    static const bool relu = false;
};

// Raw integer of a fixed-point value with FRAC fractional bits (exact: the value lies on that grid).
template <int FRAC, class T> long long accel_raw(T x) {
    ap_fixed<64, 64 - FRAC> wide = x;
    ap_uint<64> bits = wide.range(63, 0);
    return (long long)bits.to_uint64();
}

// round(sum_raw * 2^-in_frac / count) onto res_T's grid, one rounding, then res_T's overflow mode.
template <class res_T, typename CONFIG_T> res_T accel_round_average(long long sum_raw) {
    const unsigned count = CONFIG_T::pool_height * CONFIG_T::pool_width;
    const int up = CONFIG_T::out_frac - CONFIG_T::in_frac;
    long long num = sum_raw;
    if (CONFIG_T::relu && num < 0)
        num = 0;
    long long den = count;
    if (up >= 0)
        num = num * (1LL << up);
    else
        den = den * (1LL << (-up));
    long long q = num / den; // C++ truncates towards zero: make it floor
    long long rem = num - q * den;
    if (rem < 0) {
        q -= 1;
        rem += den;
    }
    if (CONFIG_T::rounding == 1) {
        if (2 * rem >= den)
            q += 1;
    } else if (CONFIG_T::rounding == 2) {
        if (2 * rem > den || (2 * rem == den && (q & 1)))
            q += 1;
    }
    ap_fixed<64, 64 - CONFIG_T::out_frac> exact;
    exact.range(63, 0) = ap_uint<64>((unsigned long long)q);
    res_T res = exact; // same grid: only res_T's overflow mode acts
    return res;
}

// io_parallel: data is (in_height, in_width, n_filt) row-major, res is (out_height, out_width, n_filt).
template <class data_T, class res_T, typename CONFIG_T>
void accel_avgpool_cl(data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_filt],
                      res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt]) {
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            for (unsigned c = 0; c < CONFIG_T::n_filt; c++) {
                long long sum = 0;
                for (unsigned ph = 0; ph < CONFIG_T::pool_height; ph++) {
                    for (unsigned pw = 0; pw < CONFIG_T::pool_width; pw++) {
                        unsigned h = oh * CONFIG_T::stride_height + ph;
                        unsigned w = ow * CONFIG_T::stride_width + pw;
                        sum += accel_raw<CONFIG_T::in_frac>(data[(h * CONFIG_T::in_width + w) * CONFIG_T::n_filt + c]);
                    }
                }
                res[(oh * CONFIG_T::out_width + ow) * CONFIG_T::n_filt + c] =
                    accel_round_average<res_T, CONFIG_T>(sum);
            }
        }
    }
}

// io_stream: one pack of n_filt channels per pixel.  The frame is buffered, then every window is
// averaged exactly as in io_parallel (simple and exact; a line-buffered version would save memory).
template <class data_T, class res_T, typename CONFIG_T>
void accel_avgpool_cl(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    static_assert(data_T::size == CONFIG_T::n_filt, "accel_avgpool_cl expects one pack per pixel");
    static_assert(res_T::size == CONFIG_T::n_filt, "accel_avgpool_cl expects one pack per pixel");
    in_t frame[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_filt];
    for (unsigned p = 0; p < CONFIG_T::in_height * CONFIG_T::in_width; p++) {
        data_T pack = data.read();
        for (unsigned c = 0; c < CONFIG_T::n_filt; c++)
            frame[p * CONFIG_T::n_filt + c] = pack[c];
    }
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            res_T out;
            PRAGMA_DATA_PACK(out)
            for (unsigned c = 0; c < CONFIG_T::n_filt; c++) {
                long long sum = 0;
                for (unsigned ph = 0; ph < CONFIG_T::pool_height; ph++) {
                    for (unsigned pw = 0; pw < CONFIG_T::pool_width; pw++) {
                        unsigned h = oh * CONFIG_T::stride_height + ph;
                        unsigned w = ow * CONFIG_T::stride_width + pw;
                        sum += accel_raw<CONFIG_T::in_frac>(frame[(h * CONFIG_T::in_width + w) * CONFIG_T::n_filt + c]);
                    }
                }
                out[c] = accel_round_average<out_t, CONFIG_T>(sum);
            }
            res.write(out);
        }
    }
}

// Max over the window's in-range pixels (padding never wins); the result type holds the input type.
template <class in_t, class out_t, typename CONFIG_T> out_t accel_window_max(in_t *frame, unsigned oh, unsigned ow,
                                                                             unsigned c) {
    bool any = false;
    in_t best = 0;
    for (unsigned ph = 0; ph < CONFIG_T::pool_height; ph++) {
        for (unsigned pw = 0; pw < CONFIG_T::pool_width; pw++) {
            int h = int(oh * CONFIG_T::stride_height + ph) - int(CONFIG_T::pad_top);
            int w = int(ow * CONFIG_T::stride_width + pw) - int(CONFIG_T::pad_left);
            if (h < 0 || w < 0 || h >= int(CONFIG_T::in_height) || w >= int(CONFIG_T::in_width))
                continue;
            in_t v = frame[(h * CONFIG_T::in_width + w) * CONFIG_T::n_filt + c];
            if (!any || v > best)
                best = v;
            any = true;
        }
    }
    out_t res = best;
    return res;
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_maxpool_cl(data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_filt],
                      res_T res[CONFIG_T::out_height * CONFIG_T::out_width * CONFIG_T::n_filt]) {
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++)
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++)
            for (unsigned c = 0; c < CONFIG_T::n_filt; c++)
                res[(oh * CONFIG_T::out_width + ow) * CONFIG_T::n_filt + c] =
                    accel_window_max<data_T, res_T, CONFIG_T>(data, oh, ow, c);
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_maxpool_cl(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    static_assert(data_T::size == CONFIG_T::n_filt, "accel_maxpool_cl expects one pack per pixel");
    static_assert(res_T::size == CONFIG_T::n_filt, "accel_maxpool_cl expects one pack per pixel");
    in_t frame[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_filt];
    for (unsigned p = 0; p < CONFIG_T::in_height * CONFIG_T::in_width; p++) {
        data_T pack = data.read();
        for (unsigned c = 0; c < CONFIG_T::n_filt; c++)
            frame[p * CONFIG_T::n_filt + c] = pack[c];
    }
    for (unsigned oh = 0; oh < CONFIG_T::out_height; oh++) {
        for (unsigned ow = 0; ow < CONFIG_T::out_width; ow++) {
            res_T out;
            PRAGMA_DATA_PACK(out)
            for (unsigned c = 0; c < CONFIG_T::n_filt; c++)
                out[c] = accel_window_max<in_t, out_t, CONFIG_T>(frame, oh, ow, c);
            res.write(out);
        }
    }
}

// Arg-max over the channels of each pixel: the index of the first largest value (ties to the lowest index, as
// np.argmax), written to res_T as an integer.  Only in_height, in_width and n_filt of the config are used.
template <class in_t, class idx_t, typename CONFIG_T> idx_t accel_argmax_of(const in_t *pixel) {
    unsigned best = 0;
    for (unsigned c = 1; c < CONFIG_T::n_filt; c++)
        if (pixel[c] > pixel[best])
            best = c;
    idx_t res = best;
    return res;
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_argmax_cl(data_T data[CONFIG_T::in_height * CONFIG_T::in_width * CONFIG_T::n_filt],
                     res_T res[CONFIG_T::in_height * CONFIG_T::in_width]) {
    for (unsigned p = 0; p < CONFIG_T::in_height * CONFIG_T::in_width; p++)
        res[p] = accel_argmax_of<data_T, res_T, CONFIG_T>(&data[p * CONFIG_T::n_filt]);
}

template <class data_T, class res_T, typename CONFIG_T>
void accel_argmax_cl(hls::stream<data_T> &data, hls::stream<res_T> &res) {
    typedef typename data_T::value_type in_t;
    typedef typename res_T::value_type out_t;
    static_assert(data_T::size == CONFIG_T::n_filt, "accel_argmax_cl expects one pack per pixel");
    static_assert(res_T::size == 1, "accel_argmax_cl writes one index per pixel");
    for (unsigned p = 0; p < CONFIG_T::in_height * CONFIG_T::in_width; p++) {
        data_T pack = data.read();
        in_t pixel[CONFIG_T::n_filt];
        for (unsigned c = 0; c < CONFIG_T::n_filt; c++)
            pixel[c] = pack[c];
        res_T out;
        out[0] = accel_argmax_of<in_t, out_t, CONFIG_T>(pixel);
        res.write(out);
    }
}

} // namespace nnet

#endif
