// accel_dwu: depthwise vector unit: per-channel KxK dot products (depth multiplier M), PE channels at once, pipelined.
//
// Input: accel_window's stream with P = PE lanes: per output pixel, KK = KH*KW taps in (ky, kx) order,
// each tap as CG = C/PE beats of PE channels.  Output: frames of PIXELS pixels with C*M channels
// (channel c*M + m), PE*M per beat (beat g holds channels g*PE .. g*PE+PE-1, m inner); each element is
// the exact accumulator (OUT_WIDTH bits), i.e. accel.reference.kernels.depthwise_conv2d.
// One beat per cycle: PIXELS*KK*CG cycles per frame.  Partial sums of the CG channel groups are kept in
// a CG-entry accumulator memory because the window interleaves the groups within each tap.
// Pipeline (a beat enters every cycle; the stages add latency, never cycles per frame):
//   1  the beat (xr) and its weight word, read synchronously from the ROM (wv): the DSP48E1 A/B registers;
//   2  the PE*M products (accel_mul: DSP48E1 M registers; MULT 2: the LUT multipliers' digit sums);
//   3  the products again (DSP48E1 P registers; MULT 2: the LUT multipliers' sums), so the accumulation starts
//      from a register's clock-to-out;
//   4  the group's partial sums updated in the accumulator memory (read, add, write in one stage, so a group
//      met again CG cycles later always sees its update), the new sums also in a register, and the group's
//      bias word;
//   5  (sum << PSHIFT) + bias, written into the output queue at a pixel's last tap;
//   6  the queue's output register, which drives m_axis.
// Backpressure: the output queue (accel_result_queue, QDEPTH = 6 words and an output register) has room for
// every result in flight: a beat of a pixel's last tap is taken only while it says so (its count of results
// owed is a register, so m_axis_tready reaches no ready output); the other beats never wait, and with m_axis
// always ready neither does a last-tap beat.  ``step`` is high on every cycle a beat is taken (the
// co-simulation's progress wire).
// Multiplier styles (MULT, see accel_mul.v): 0 one product per DSP48E1, 2 LUT multipliers (use_dsp = "no");
// both take two register stages, so the pipeline is the same.  (Packing two products into one DSP48E1 needs
// a shared operand; a depthwise beat's products share none.)
// Weight ROM (WEIGHT_FILE): KK*CG words, word t*CG+g holds w[ky][kx][g*PE+p][m] at bits
// [(p*M+m)*W_WIDTH +: W_WIDTH] (t = ky*KW+kx).  Bias ROM (BIAS_FILE): CG words, word g holds
// (bias[(g*PE+p)*M+m] << bias_shift) at bits [(p*M+m)*OUT_WIDTH +: OUT_WIDTH].
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_dwu #(
    parameter C = 4,               // input channels (multiple of PE)
    parameter M = 1,               // depth multiplier (outputs per input channel)
    parameter KK = 9,              // taps per window (KH*KW)
    parameter PE = 2,              // channels per input beat
    parameter PIXELS = 1,          // output pixels per frame
    parameter IN_WIDTH = 4,        // input element width
    parameter IN_SIGNED = 1,       // 1: input two's complement
    parameter W_WIDTH = 4,         // weight width
    parameter W_SIGNED = 1,        // 1: weights two's complement
    parameter SUM_WIDTH = 16,      // signed width holding every partial dot product exactly
    parameter OUT_WIDTH = 16,      // output (accumulator type) width
    parameter PSHIFT = 0,          // left shift of the dot product onto the accumulator grid
    parameter WEIGHT_FILE = "weights.mem",  // weight ROM image
    parameter BIAS_FILE = "bias.mem",        // bias ROM image (already shifted)
    parameter WEIGHT_BRAM = 0,     // 1: the weight ROM in block RAM (accel_rom BLOCK), 0: synthesis decides
    parameter BIAS_BRAM = 0,       // 1: the bias ROM in block RAM
    parameter MULT = 0             // multiplier style: 0 DSP48E1, 2 LUTs
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire [PE*IN_WIDTH-1:0]    s_axis_tdata,
    input  wire                      s_axis_tvalid,
    output wire                      s_axis_tready,
    input  wire                      s_axis_tlast,
    output wire [PE*M*OUT_WIDTH-1:0] m_axis_tdata,
    output wire                      m_axis_tvalid,
    input  wire                      m_axis_tready,
    output wire                      m_axis_tlast
);

    localparam CG = C / PE;
    localparam GW = (CG > 1) ? $clog2(CG) : 1;
    localparam TKW = (KK > 1) ? $clog2(KK) : 1;
    localparam PXW = (PIXELS > 1) ? $clog2(PIXELS) : 1;
    localparam WAW = (KK * CG > 1) ? $clog2(KK * CG) : 1;
    localparam TW = (SUM_WIDTH + PSHIFT > OUT_WIDTH) ? SUM_WIDTH + PSHIFT : OUT_WIDTH;
    localparam PW = IN_WIDTH + W_WIDTH + 2;           // product width (both operands extended by a sign bit)
    localparam TDW = GW + 3;                          // tag data: {group, frame's last, pixel's last tap, first tap}
    localparam TS = 3;                                // tag stages from the issue to the accumulator
    localparam QDEPTH = 6;                            // accel_result_queue DEPTH (stages from issue to result + 2)

    initial begin
        if (C < 1 || M < 1 || KK < 1 || PE < 1 || C % PE != 0 || PIXELS < 1 || IN_WIDTH < 1 || W_WIDTH < 1 ||
            SUM_WIDTH < 2 || OUT_WIDTH < 1 || PSHIFT < 0 || (MULT != 0 && MULT != 2)) begin
            $error("%m: accel_dwu parameters are illegal (PE must divide C, sizes >= 1, MULT 0 or 2)");
            $finish;
        end
    end


    // ---- beat loop: one beat per cycle -------------------------------------------------------------------
    reg [GW-1:0] g;
    reg [TKW-1:0] t;
    reg [PXW-1:0] px;
    reg [WAW-1:0] wa;              // weight address of the next beat: t*CG + g

    /* verilator lint_off WIDTH */
    wire last_g = (g == CG - 1);
    wire last_t = (t == KK - 1);
    wire last_px = (px == PIXELS - 1);
    /* verilator lint_on WIDTH */
    wire first_t = (t == {TKW{1'b0}});
    wire room;                     // accel_result_queue: a result may be issued (a register)
    wire step = s_axis_tvalid && (!last_t || room);
    wire unused_tlast = s_axis_tlast;

    assign s_axis_tready = !last_t || room;

    always @(posedge clk) begin
        if (rst) begin
            g <= {GW{1'b0}};
            t <= {TKW{1'b0}};
            px <= {PXW{1'b0}};
            wa <= {WAW{1'b0}};
        end else begin
            if (step) begin
                wa <= (last_g && last_t) ? {WAW{1'b0}} : wa + 1'b1;
                if (!last_g) begin
                    g <= g + 1'b1;
                end else begin
                    g <= {GW{1'b0}};
                    if (!last_t) begin
                        t <= t + 1'b1;
                    end else begin
                        t <= {TKW{1'b0}};
                        px <= last_px ? {PXW{1'b0}} : px + 1'b1;
                    end
                end
            end
        end
    end

    // ---- stage 1: beat and weight word; tags follow each beat down the pipeline ---------------------------
    reg [PE*IN_WIDTH-1:0] xr;
    wire [PE*M*W_WIDTH-1:0] wv;         // the step's weight word, read synchronously (accel_rom)
    accel_rom #(.WIDTH(PE*M*W_WIDTH), .DEPTH(KK * CG), .FILE(WEIGHT_FILE), .BLOCK(WEIGHT_BRAM)) wrom (
        .clk(clk), .addr(wa), .q(wv)
    );
    reg [TS-1:0] tv;               // stage k (1..TS) holds a beat: tv[k-1]
    reg [TS*TDW-1:0] td;           // its tag data, stage k at [(k-1)*TDW +: TDW]; reset so that it stays
                                   // flip-flops (an SRL's clock-to-out would start the accumulator's path)

    always @(posedge clk) begin
        xr <= s_axis_tdata;
    end

    wire [TDW-1:0] tag = td[(TS-1)*TDW +: TDW];    // the beat entering the accumulator stage
    wire t_valid = tv[TS-1];
    wire t_first = tag[0];
    wire t_last = tag[1];
    wire t_tlast = tag[2];
    wire [GW-1:0] t_g = tag[3 +: GW];

    // ---- stage 4: accumulator memory, sum register, bias word; stage 5: result into the output queue -------
    reg [PE*M*SUM_WIDTH-1:0] accm [0:CG-1];
    reg [PE*M*SUM_WIDTH-1:0] sum;
    wire [PE*M*OUT_WIDTH-1:0] bv;         // the output's bias word (accel_rom)
    accel_rom #(.WIDTH(PE*M*OUT_WIDTH), .DEPTH(CG), .FILE(BIAS_FILE), .BLOCK(BIAS_BRAM)) brom (
        .clk(clk), .addr(t_g), .q(bv)
    );
    reg r_valid, r_tlast;          // the sum register holds a complete output (and whether it ends the frame)
    wire [PE*M*SUM_WIDTH-1:0] prev = accm[t_g];
    wire [PE*M*SUM_WIDTH-1:0] acc_next;

    always @(posedge clk) begin
        if (t_valid) accm[t_g] <= acc_next;
        sum <= acc_next;
        r_tlast <= t_tlast;
    end

    always @(posedge clk) begin
        if (rst) begin
            tv <= {TS{1'b0}};
            td <= {(TS*TDW){1'b0}};
            r_valid <= 1'b0;
        end else begin
            tv <= {tv[TS-2:0], step};
            td <= {td[(TS-1)*TDW-1:0], g, last_g && last_px, last_t, first_t};
            r_valid <= t_valid && t_last;
        end
    end

    wire [PE*M*OUT_WIDTH-1:0] result;

    genvar p, m;
    generate
        for (p = 0; p < PE; p = p + 1) begin : pe
            for (m = 0; m < M; m = m + 1) begin : mult
                localparam K = p * M + m;
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [PW-1:0] prod;  // stages 2 and 3; bits above SUM_WIDTH are sign copies
                /* verilator lint_on UNUSEDSIGNAL */
                accel_mul #(.STYLE(MULT), .N(1), .STAGES(2), .X_WIDTH(IN_WIDTH), .X_SIGNED(IN_SIGNED),
                            .W_WIDTH(W_WIDTH), .W_SIGNED(W_SIGNED)) mul (
                    .clk(clk), .x(xr[p*IN_WIDTH +: IN_WIDTH]), .w(wv[K*W_WIDTH +: W_WIDTH]), .p(prod)
                );
                wire signed [SUM_WIDTH-1:0] pe_prod;
                if (PW >= SUM_WIDTH) begin : narrow
                    assign pe_prod = prod[SUM_WIDTH-1:0];  // the product is a partial sum: it fits SUM_WIDTH
                end else begin : wide
                    assign pe_prod = {{(SUM_WIDTH-PW){prod[PW-1]}}, prod};
                end
                wire signed [SUM_WIDTH-1:0] sofar = prev[K*SUM_WIDTH +: SUM_WIDTH];
                assign acc_next[K*SUM_WIDTH +: SUM_WIDTH] = t_first ? pe_prod : sofar + pe_prod;
                wire signed [SUM_WIDTH-1:0] dot = sum[K*SUM_WIDTH +: SUM_WIDTH];
                wire signed [TW-1:0] dot_ext = {{(TW-SUM_WIDTH){dot[SUM_WIDTH-1]}}, dot};
                wire signed [OUT_WIDTH-1:0] b = bv[K*OUT_WIDTH +: OUT_WIDTH];
                wire signed [TW-1:0] b_ext = {{(TW-OUT_WIDTH){b[OUT_WIDTH-1]}}, b};
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [TW-1:0] total = (dot_ext <<< PSHIFT) + b_ext;  // fits OUT_WIDTH by construction
                /* verilator lint_on UNUSEDSIGNAL */
                assign result[K*OUT_WIDTH +: OUT_WIDTH] = total[OUT_WIDTH-1:0];
            end
        end
    endgenerate

    // ---- the output queue and its output register, which drives m_axis ---------------------------------
    accel_result_queue #(.WIDTH(PE*M*OUT_WIDTH), .DEPTH(QDEPTH)) outq (
        .clk(clk), .rst(rst), .issue(step && last_t), .room(room),
        .in_valid(r_valid), .in_data(result), .in_last(r_tlast),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );

endmodule

`resetall
