// accel_mvu: matrix-vector unit: y = (x . Wmat) << PSHIFT + bias for every pixel, PE x SIMD folded.
//
// Input: frames of PIXELS pixels with CIN channels, SIMD channels per beat (accel stream order).  For a
// 1x1 conv or dense layer this is the activation stream itself; for a KxK conv it is accel_window's
// output (CIN = KH*KW*C in (ky, kx, c) order, SIMD = the window's lanes).
// Output: frames of PIXELS pixels with COUT channels, PE channels per beat; each element is the exact
// accumulator (OUT_WIDTH bits, two's complement), i.e. accel.reference.kernels.conv2d.
//
// Folding: SF = CIN/SIMD input folds, NF = COUT/PE output folds; one SIMD x PE multiply-accumulate step
// per cycle, SF*NF cycles per pixel.  The first output fold consumes the input beats and keeps them in a
// SF-entry buffer that the other NF-1 folds reuse.
// Weight ROM (WEIGHT_FILE, $readmemh): NF*SF words, word nf*SF+sf holds W[sf*SIMD+s][nf*PE+p] at
// bits [(p*SIMD+s)*W_WIDTH +: W_WIDTH].  Bias ROM (BIAS_FILE): NF words, word nf holds
// (bias[nf*PE+p] << bias_shift) at bits [p*OUT_WIDTH +: OUT_WIDTH].
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_mvu #(
    parameter CIN = 8,             // input channels (multiple of SIMD)
    parameter COUT = 4,            // output channels (multiple of PE)
    parameter SIMD = 2,            // input channels per beat / multipliers per PE
    parameter PE = 2,              // output channels per beat / parallel dot products
    parameter PIXELS = 1,          // pixels per frame (H*W of the output)
    parameter IN_WIDTH = 4,        // input element width
    parameter IN_SIGNED = 1,       // 1: input two's complement
    parameter W_WIDTH = 4,         // weight width (two's complement when W_SIGNED)
    parameter W_SIGNED = 1,        // 1: weights two's complement
    parameter SUM_WIDTH = 16,      // signed width holding every partial dot product exactly
    parameter OUT_WIDTH = 16,      // output (accumulator type) width
    parameter PSHIFT = 0,          // left shift of the dot product onto the accumulator grid
    parameter WEIGHT_FILE = "weights.mem",  // weight ROM image
    parameter BIAS_FILE = "bias.mem"        // bias ROM image (already shifted onto the accumulator grid)
) (
    input  wire                       clk,
    input  wire                       rst,
    input  wire [SIMD*IN_WIDTH-1:0]   s_axis_tdata,
    input  wire                       s_axis_tvalid,
    output wire                       s_axis_tready,
    input  wire                       s_axis_tlast,
    output wire [PE*OUT_WIDTH-1:0]    m_axis_tdata,
    output wire                       m_axis_tvalid,
    input  wire                       m_axis_tready,
    output wire                       m_axis_tlast
);

    localparam SF = CIN / SIMD;
    localparam NF = COUT / PE;
    localparam SFW = (SF > 1) ? $clog2(SF) : 1;
    localparam NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam PXW = (PIXELS > 1) ? $clog2(PIXELS) : 1;
    localparam WAW = (NF * SF > 1) ? $clog2(NF * SF) : 1;
    localparam TW = ((SUM_WIDTH + PSHIFT > OUT_WIDTH) ? SUM_WIDTH + PSHIFT : OUT_WIDTH);  // final sum width (low OUT_WIDTH bits are exact)

    initial begin
        if (CIN < 1 || COUT < 1 || SIMD < 1 || PE < 1 || CIN % SIMD != 0 || COUT % PE != 0 || PIXELS < 1 ||
            IN_WIDTH < 1 || W_WIDTH < 1 || SUM_WIDTH < 2 || OUT_WIDTH < 1 || PSHIFT < 0) begin
            $error("%m: accel_mvu parameters are illegal (SIMD must divide CIN, PE must divide COUT)");
            $finish;
        end
    end

    reg [PE*SIMD*W_WIDTH-1:0] wrom [0:NF*SF-1];
    reg [PE*OUT_WIDTH-1:0] brom [0:NF-1];
    initial begin
        $readmemh(WEIGHT_FILE, wrom);
        $readmemh(BIAS_FILE, brom);
    end

    reg [SIMD*IN_WIDTH-1:0] ibuf [0:SF-1];
    reg [SFW-1:0] sf;
    reg [NFW-1:0] nf;
    reg [PXW-1:0] px;
    reg [PE*SUM_WIDTH-1:0] acc;
    reg [PE*OUT_WIDTH-1:0] out_data;
    reg out_valid, out_last;

    wire first = (nf == {NFW{1'b0}});
    /* verilator lint_off WIDTH */
    wire last_sf = (sf == SF - 1);
    wire last_nf = (nf == NF - 1);
    wire last_px = (px == PIXELS - 1);
    /* verilator lint_on WIDTH */
    wire out_free = !out_valid || m_axis_tready;
    wire [SIMD*IN_WIDTH-1:0] x = first ? s_axis_tdata : ibuf[sf];
    wire have_x = first ? s_axis_tvalid : 1'b1;
    wire step = have_x && (!last_sf || out_free);
    wire [WAW-1:0] waddr;
    generate
        if (NF > 1) begin : wa_nf
            /* verilator lint_off WIDTH */
            assign waddr = nf * SF + sf;
            /* verilator lint_on WIDTH */
        end else begin : wa_sf
            assign waddr = sf;
        end
    endgenerate
    wire [PE*SIMD*W_WIDTH-1:0] wv = wrom[waddr];
    wire [PE*OUT_WIDTH-1:0] bv = brom[nf];
    wire unused_tlast = s_axis_tlast;

    assign s_axis_tready = first && (!last_sf || out_free);
    assign m_axis_tvalid = out_valid;
    assign m_axis_tdata = out_data;
    assign m_axis_tlast = out_last;

    wire [PE*SUM_WIDTH-1:0] acc_next;
    wire [PE*OUT_WIDTH-1:0] result;

    genvar p;
    generate
        for (p = 0; p < PE; p = p + 1) begin : pe
            reg signed [SUM_WIDTH-1:0] dot;
            integer s;
            always @* begin
                dot = sf == {SFW{1'b0}} ? {SUM_WIDTH{1'b0}} : acc[p*SUM_WIDTH +: SUM_WIDTH];
                for (s = 0; s < SIMD; s = s + 1) begin
                    dot = dot + $signed({IN_SIGNED != 0 && x[s*IN_WIDTH + IN_WIDTH - 1], x[s*IN_WIDTH +: IN_WIDTH]}) *
                                $signed({W_SIGNED != 0 && wv[(p*SIMD+s)*W_WIDTH + W_WIDTH - 1],
                                         wv[(p*SIMD+s)*W_WIDTH +: W_WIDTH]});
                end
            end
            assign acc_next[p*SUM_WIDTH +: SUM_WIDTH] = dot;
            wire signed [TW-1:0] dot_ext = {{(TW-SUM_WIDTH){dot[SUM_WIDTH-1]}}, dot};
            wire signed [OUT_WIDTH-1:0] b = bv[p*OUT_WIDTH +: OUT_WIDTH];
            wire signed [TW-1:0] b_ext = {{(TW-OUT_WIDTH){b[OUT_WIDTH-1]}}, b};
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [TW-1:0] total = (dot_ext <<< PSHIFT) + b_ext;  // fits OUT_WIDTH by construction
            /* verilator lint_on UNUSEDSIGNAL */
            assign result[p*OUT_WIDTH +: OUT_WIDTH] = total[OUT_WIDTH-1:0];
        end
    endgenerate

    always @(posedge clk) begin
        if (step) begin
            acc <= acc_next;
            if (first) ibuf[sf] <= s_axis_tdata;
            if (last_sf) begin
                out_data <= result;
                out_last <= last_nf && last_px;
            end
        end
    end

    always @(posedge clk) begin
        if (rst) begin
            sf <= {SFW{1'b0}};
            nf <= {NFW{1'b0}};
            px <= {PXW{1'b0}};
            out_valid <= 1'b0;
        end else begin
            if (step && last_sf) out_valid <= 1'b1;
            else if (m_axis_tready) out_valid <= 1'b0;
            if (step) begin
                if (!last_sf) begin
                    sf <= sf + 1'b1;
                end else begin
                    sf <= {SFW{1'b0}};
                    if (!last_nf) begin
                        nf <= nf + 1'b1;
                    end else begin
                        nf <= {NFW{1'b0}};
                        px <= last_px ? {PXW{1'b0}} : px + 1'b1;
                    end
                end
            end
        end
    end

endmodule

`resetall
