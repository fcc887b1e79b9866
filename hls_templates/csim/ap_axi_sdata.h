// Minimal ap_axi_sdata.h for accel's g++ C simulation of accel_top (NOT for Vitis HLS, which has its own).
//
// hls4ml bundles ap_types and hls_stream.h but not ap_axi_sdata.h; this provides the ap_axiu fields
// accel_top uses, with the same names and widths as Xilinx's header (data, keep, strb, last; user, id,
// dest of zero width are given one bit here because ap_uint<0> does not exist in the bundled ap_types).
#ifndef ACCEL_CSIM_AP_AXI_SDATA_H_
#define ACCEL_CSIM_AP_AXI_SDATA_H_

#include "ap_int.h"

template <int D, int U, int TI, int TD> struct ap_axiu {
    ap_uint<D> data;
    ap_uint<(D + 7) / 8> keep;
    ap_uint<(D + 7) / 8> strb;
    ap_uint<(U > 0 ? U : 1)> user;
    ap_uint<1> last;
    ap_uint<(TI > 0 ? TI : 1)> id;
    ap_uint<(TD > 0 ? TD : 1)> dest;
};

#endif
