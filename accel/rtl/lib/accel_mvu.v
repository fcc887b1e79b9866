// accel_mvu: matrix-vector unit: y = (x . Wmat) << PSHIFT + bias for every pixel, PE x SIMD folded, pipelined.
//
// Input: frames of PIXELS pixels with CIN channels, SIMD channels per beat (accel stream order).  For a
// 1x1 conv or dense layer this is the activation stream itself; for a KxK conv it is accel_window's
// output (CIN = KH*KW*C in (ky, kx, c) order, SIMD = the window's lanes).
// Output: frames of PIXELS pixels with COUT channels, PE channels per beat; each element is the exact
// accumulator (OUT_WIDTH bits, two's complement), i.e. accel.reference.kernels.conv2d.
//
// Folding: SF = CIN/SIMD input folds, NF = COUT/PE output folds; one SIMD x PE multiply-accumulate step
// is issued per cycle, SF*NF cycles per pixel.  The first output fold consumes the input beats and keeps
// them in a SF-entry buffer that the other NF-1 folds reuse.
// Pipeline (a step enters every cycle; the stages add latency, never cycles per frame):
//   1  the step's input beat (xr) and its weight word, read synchronously from the ROM (wv: block RAM for a
//      large ROM, LUTs/registers for a small one): the DSP48E1 A/B input registers;
//   2 .. 1+MS  the PE*SIMD products (accel_mul, MS = 1 register stage for MULT 0, 2 for MULT 1 and 2): the
//      DSP48E1 M registers; for MULT 1 then the split of each packed pair; for MULT 2 the LUT multipliers' two
//      stages (digits, sum);
//   2+MS .. 1+MS+LV  the SIMD products of each PE summed by a registered adder tree, LV = clog2(SIMD) levels;
//   2+MS+LV  the accumulator (per PE, cleared by a pixel's first input fold) and the bias word;
//   3+MS+LV  (accumulator << PSHIFT) + bias, written into the output queue at an output's last input fold;
//   4+MS+LV  the queue's output register, which drives m_axis.
// Multiplier styles (MULT, see accel_mul.v): 0 one product per DSP48E1; 1 output channels 2j and 2j+1 of
// every lane share one DSP48E1 (x times w[2j+1]*2^PACK_SHIFT + w[2j]), an odd PE's last channel one product
// per DSP48E1 (with the same two stages); 2 LUT multipliers (use_dsp = "no").
// Backpressure: the output queue (accel_result_queue, QDEPTH = 4+MS+LV words and an output register) has room
// for every result in flight: a step that completes an output is issued only while it says so (its count of
// results owed is a register, so m_axis_tready reaches no ready output and no step); the other steps never
// wait, and with m_axis always ready neither does a completing step.  ``step`` is high on every cycle a step
// is issued (the co-simulation's progress wire).
// Weight ROM (WEIGHT_FILE, $readmemh): NF*SF words; word nf*SF+sf holds the weights w[p][s] =
// W[sf*SIMD+s][nf*PE+p].  MULT 0 and 2: w[p][s] at bits [(p*SIMD+s)*W_WIDTH +: W_WIDTH].  MULT 1: pair j
// (channels p = 2j, 2j+1, j < PE/2) of lane s is a field of 2*W_WIDTH+1 bits at [(j*SIMD+s)*(2*W_WIDTH+1) +:
// 2*W_WIDTH+1], holding w[2j][s] in its low W_WIDTH bits and w[2j+1][s] - (w[2j][s] < 0) (W_WIDTH+1 bits, two's
// complement) above; an odd PE's last channel follows, w[PE-1][s] at [(PE/2)*SIMD*(2*W_WIDTH+1) + s*W_WIDTH +:
// W_WIDTH].  Bias ROM (BIAS_FILE): NF words, word nf holds
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
    parameter BIAS_FILE = "bias.mem",        // bias ROM image (already shifted onto the accumulator grid)
    parameter WEIGHT_BRAM = 0,     // 1: the weight ROM in block RAM (accel_rom BLOCK), 0: synthesis decides
    parameter BIAS_BRAM = 0,       // 1: the bias ROM in block RAM
    parameter MULT = 0,            // multiplier style: 0 DSP48E1, 1 two products per DSP48E1, 2 LUTs
    parameter PACK_SHIFT = 16      // MULT 1: offset of the second product (Mvu.pack_shift), else unused
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

    // nodes of adder-tree level l (level 0: the SIMD products of one PE)
    function integer level_nodes(input integer l);
        level_nodes = (SIMD + (1 << l) - 1) >> l;
    endfunction

    // index of the first node of level l in a PE's flat node vector (levels 0, 1, ... one after another)
    function integer level_base(input integer l);
        integer k;
        begin
            level_base = 0;
            for (k = 0; k < l; k = k + 1) level_base = level_base + ((SIMD + (1 << k) - 1) >> k);
        end
    endfunction

    localparam SF = CIN / SIMD;
    localparam NF = COUT / PE;
    localparam SFW = (SF > 1) ? $clog2(SF) : 1;
    localparam NFW = (NF > 1) ? $clog2(NF) : 1;
    localparam PXW = (PIXELS > 1) ? $clog2(PIXELS) : 1;
    localparam WAW = (NF * SF > 1) ? $clog2(NF * SF) : 1;
    localparam TW = ((SUM_WIDTH + PSHIFT > OUT_WIDTH) ? SUM_WIDTH + PSHIFT : OUT_WIDTH);  // final sum width (low OUT_WIDTH bits are exact)
    localparam PW = IN_WIDTH + W_WIDTH + 2;           // product width (both operands extended by a sign bit)
    localparam LV = (SIMD > 1) ? $clog2(SIMD) : 0;    // adder-tree levels
    localparam NT = level_base(LV + 1);               // tree nodes per PE, products included
    localparam MS = (MULT == 0) ? 1 : 2;              // product register stages (accel_mul STAGES)
    localparam TS = 1 + MS + LV;                      // tag stages from the issue to the accumulator
    localparam TDW = NFW + 3;                         // tag data: {output fold, frame's last, output's last, clear}
    localparam QDEPTH = 4 + MS + LV;                  // accel_result_queue DEPTH (stages from issue to result + 2)
    localparam NPAIR = (MULT == 1) ? PE / 2 : 0;      // packed channel pairs
    localparam PFW = 2 * W_WIDTH + 1;                 // a packed pair's field
    localparam WWORD = (MULT == 1) ? NPAIR * SIMD * PFW + (PE % 2) * SIMD * W_WIDTH : PE * SIMD * W_WIDTH;

    initial begin
        if (CIN < 1 || COUT < 1 || SIMD < 1 || PE < 1 || CIN % SIMD != 0 || COUT % PE != 0 || PIXELS < 1 ||
            IN_WIDTH < 1 || W_WIDTH < 1 || SUM_WIDTH < 2 || OUT_WIDTH < 1 || PSHIFT < 0 || MULT < 0 || MULT > 2 ||
            (MULT == 1 && PE < 2)) begin
            $error("%m: accel_mvu parameters are illegal (SIMD must divide CIN, PE must divide COUT, MULT 0..2, PE >= 2 for MULT 1)");
            $finish;
        end
    end


    // ---- step loop: one step issued per cycle --------------------------------------------------------
    reg [SIMD*IN_WIDTH-1:0] ibuf [0:SF-1];
    reg [SFW-1:0] sf;
    reg [NFW-1:0] nf;
    reg [PXW-1:0] px;
    reg [WAW-1:0] wa;              // weight address of the next step: nf*SF + sf

    // first (nf == 0) and last_sf (sf == SF-1) are flip-flops kept with the counters, so that s_axis_tready
    // leaves registers through one LUT (a path into the producer's ready logic starts short)
    reg first;
    reg last_sf;
    /* verilator lint_off WIDTH */
    wire next_last_sf = (SF == 1) || (sf == SF - 2);  // sf + 1 == SF - 1, when sf advances
    wire last_nf = (nf == NF - 1);
    wire last_px = (px == PIXELS - 1);
    /* verilator lint_on WIDTH */
    wire room;                     // accel_result_queue: a result may be issued (a register)
    wire [SIMD*IN_WIDTH-1:0] x = first ? s_axis_tdata : ibuf[sf];
    wire have_x = first ? s_axis_tvalid : 1'b1;
    wire step = have_x && (!last_sf || room);
    wire unused_tlast = s_axis_tlast;

    assign s_axis_tready = first && (!last_sf || room);

    always @(posedge clk) begin
        if (step && first) ibuf[sf] <= s_axis_tdata;
    end

    always @(posedge clk) begin
        if (rst) begin
            sf <= {SFW{1'b0}};
            nf <= {NFW{1'b0}};
            px <= {PXW{1'b0}};
            wa <= {WAW{1'b0}};
            first <= 1'b1;
            last_sf <= (SF == 1);
        end else begin
            if (step) begin
                wa <= (last_sf && last_nf) ? {WAW{1'b0}} : wa + 1'b1;
                if (!last_sf) begin
                    sf <= sf + 1'b1;
                    last_sf <= next_last_sf;
                end else begin
                    sf <= {SFW{1'b0}};
                    last_sf <= (SF == 1);
                    first <= last_nf;
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

    // ---- stage 1: input beat and weight word; tags follow each step down the pipeline ----------------
    reg [SIMD*IN_WIDTH-1:0] xr;
    wire [WWORD-1:0] wv;                   // the step's weight word, read synchronously (accel_rom)
    accel_rom #(.WIDTH(WWORD), .DEPTH(NF * SF), .FILE(WEIGHT_FILE), .BLOCK(WEIGHT_BRAM)) wrom (
        .clk(clk), .addr(wa), .q(wv)
    );
    reg [TS-1:0] tv;               // stage k (1..TS) holds a step: tv[k-1]
    reg [TS*TDW-1:0] td;           // its tag data, stage k at [(k-1)*TDW +: TDW]; reset so that it stays
                                   // flip-flops (an SRL's clock-to-out would start the accumulator's path)
    wire [TDW-1:0] tag_in = {nf, last_nf && last_px, last_sf, sf == {SFW{1'b0}}};

    always @(posedge clk) begin
        xr <= x;
    end

    wire [TDW-1:0] tag = td[(TS-1)*TDW +: TDW];    // the step entering the accumulator
    wire t_valid = tv[TS-1];
    wire t_clear = tag[0];
    wire t_last = tag[1];
    wire t_tlast = tag[2];
    wire [NFW-1:0] t_nf = tag[3 +: NFW];

    // ---- stage 2+MS+LV: bias word; stage 3+MS+LV: result into the output queue ------------------------------
    wire [PE*OUT_WIDTH-1:0] bv;         // the output's bias word (accel_rom)
    accel_rom #(.WIDTH(PE*OUT_WIDTH), .DEPTH(NF), .FILE(BIAS_FILE), .BLOCK(BIAS_BRAM)) brom (
        .clk(clk), .addr(t_nf), .q(bv)
    );
    reg r_valid, r_tlast;          // the accumulator holds a complete output (and whether it ends the frame)
    always @(posedge clk) begin
        r_tlast <= t_tlast;
    end

    always @(posedge clk) begin
        if (rst) begin
            tv <= {TS{1'b0}};
            td <= {(TS*TDW){1'b0}};
            r_valid <= 1'b0;
        end else begin
            tv <= {tv[TS-2:0], step};
            td <= {td[(TS-1)*TDW-1:0], tag_in};
            r_valid <= t_valid && t_last;
        end
    end

    wire [PE*OUT_WIDTH-1:0] result;

    // ---- stage 2 .. 1+MS: the products, prod[(p*SIMD+s)*PW +: PW] = x[s] * w[p][s] ---------------------------
    /* verilator lint_off UNUSEDSIGNAL */
    wire [PE*SIMD*PW-1:0] prod;    // bits above SUM_WIDTH are sign copies
    /* verilator lint_on UNUSEDSIGNAL */
    genvar p, s, l, n;
    generate
        for (s = 0; s < SIMD; s = s + 1) begin : lane
            wire [IN_WIDTH-1:0] xs = xr[s*IN_WIDTH +: IN_WIDTH];
            if (MULT == 1) begin : dsp2
                for (p = 0; p < NPAIR; p = p + 1) begin : pair
                    accel_mul #(.STYLE(1), .N(2), .STAGES(MS), .X_WIDTH(IN_WIDTH), .X_SIGNED(IN_SIGNED),
                                .W_WIDTH(W_WIDTH), .W_SIGNED(W_SIGNED), .SHIFT(PACK_SHIFT)) mul (
                        .clk(clk), .x(xs), .w(wv[(p*SIMD+s)*PFW +: PFW]),
                        .p({prod[((2*p+1)*SIMD+s)*PW +: PW], prod[(2*p*SIMD+s)*PW +: PW]})
                    );
                end
                if (PE % 2 == 1) begin : odd
                    accel_mul #(.STYLE(0), .N(1), .STAGES(MS), .X_WIDTH(IN_WIDTH), .X_SIGNED(IN_SIGNED),
                                .W_WIDTH(W_WIDTH), .W_SIGNED(W_SIGNED)) mul (
                        .clk(clk), .x(xs), .w(wv[NPAIR*SIMD*PFW + s*W_WIDTH +: W_WIDTH]),
                        .p(prod[((PE-1)*SIMD+s)*PW +: PW])
                    );
                end
            end else begin : one
                for (p = 0; p < PE; p = p + 1) begin : ch
                    accel_mul #(.STYLE(MULT), .N(1), .STAGES(MS), .X_WIDTH(IN_WIDTH), .X_SIGNED(IN_SIGNED),
                                .W_WIDTH(W_WIDTH), .W_SIGNED(W_SIGNED)) mul (
                        .clk(clk), .x(xs), .w(wv[(p*SIMD+s)*W_WIDTH +: W_WIDTH]), .p(prod[(p*SIMD+s)*PW +: PW])
                    );
                end
            end
        end

        for (p = 0; p < PE; p = p + 1) begin : pe
            wire [NT*SUM_WIDTH-1:0] node;  // adder tree: level 0 the products, the last node the PE's sum
            for (s = 0; s < SIMD; s = s + 1) begin : lane
                /* verilator lint_off UNUSEDSIGNAL */
                wire signed [PW-1:0] m = prod[(p*SIMD+s)*PW +: PW];
                /* verilator lint_on UNUSEDSIGNAL */
                if (PW >= SUM_WIDTH) begin : narrow
                    assign node[s*SUM_WIDTH +: SUM_WIDTH] = m[SUM_WIDTH-1:0];  // every subset sum fits SUM_WIDTH
                end else begin : wide
                    assign node[s*SUM_WIDTH +: SUM_WIDTH] = {{(SUM_WIDTH-PW){m[PW-1]}}, m};
                end
            end
            for (l = 1; l <= LV; l = l + 1) begin : lv
                for (n = 0; n < level_nodes(l); n = n + 1) begin : nd
                    localparam IA = level_base(l - 1) + 2 * n;  // its first input node
                    localparam IO = level_base(l) + n;          // this node
                    reg signed [SUM_WIDTH-1:0] r;               // stage 1+MS+l
                    if (2 * n + 1 < level_nodes(l - 1)) begin : add
                        always @(posedge clk) r <= $signed(node[IA*SUM_WIDTH +: SUM_WIDTH]) +
                                                   $signed(node[(IA+1)*SUM_WIDTH +: SUM_WIDTH]);
                    end else begin : pass
                        always @(posedge clk) r <= node[IA*SUM_WIDTH +: SUM_WIDTH];
                    end
                    assign node[IO*SUM_WIDTH +: SUM_WIDTH] = r;
                end
            end

            wire signed [SUM_WIDTH-1:0] sum = node[(NT-1)*SUM_WIDTH +: SUM_WIDTH];
            reg signed [SUM_WIDTH-1:0] acc;  // stage 2+MS+LV (DSP48E1 P register when SIMD = 1)
            always @(posedge clk) begin
                if (t_valid) acc <= t_clear ? sum : acc + sum;  // the clear selects after the adder
            end
            wire signed [TW-1:0] acc_ext = {{(TW-SUM_WIDTH){acc[SUM_WIDTH-1]}}, acc};
            wire signed [OUT_WIDTH-1:0] b = bv[p*OUT_WIDTH +: OUT_WIDTH];
            wire signed [TW-1:0] b_ext = {{(TW-OUT_WIDTH){b[OUT_WIDTH-1]}}, b};
            /* verilator lint_off UNUSEDSIGNAL */
            wire signed [TW-1:0] total = (acc_ext <<< PSHIFT) + b_ext;  // fits OUT_WIDTH by construction
            /* verilator lint_on UNUSEDSIGNAL */
            assign result[p*OUT_WIDTH +: OUT_WIDTH] = total[OUT_WIDTH-1:0];
        end
    endgenerate

    // ---- the output queue and its output register, which drives m_axis ---------------------------------
    accel_result_queue #(.WIDTH(PE*OUT_WIDTH), .DEPTH(QDEPTH)) outq (
        .clk(clk), .rst(rst), .issue(step && last_sf), .room(room),
        .in_valid(r_valid), .in_data(result), .in_last(r_tlast),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );

endmodule

`resetall
