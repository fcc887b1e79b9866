// accel_width: stream width converter, P_IN elements per input beat -> P_OUT elements per output beat
//
// Elements keep their order (the stream order of accel.deploy.stream); both lane counts divide C, so
// every output beat still holds elements of one pixel.  A small element queue of CAP entries lets the
// faster side run every cycle: the throughput is one beat per cycle on the side with more beats.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_width #(
    parameter H = 2,        // height (for counting frames)
    parameter W = 2,        // width
    parameter C = 4,        // channels
    parameter DATA_W = 8,   // element width (elements are only moved)
    parameter P_IN = 1,     // elements per input beat (divides C)
    parameter P_OUT = 4     // elements per output beat (divides C)
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire [P_IN*DATA_W-1:0]  s_axis_tdata,
    input  wire                    s_axis_tvalid,
    output wire                    s_axis_tready,
    input  wire                    s_axis_tlast,   // ignored: frames are counted
    output wire [P_OUT*DATA_W-1:0] m_axis_tdata,
    output wire                    m_axis_tvalid,
    input  wire                    m_axis_tready,
    output wire                    m_axis_tlast
);

localparam PMAX = P_IN > P_OUT ? P_IN : P_OUT;
localparam CAP = P_IN + P_OUT + PMAX;     // queue entries: enough that neither side waits for the other
localparam KW = $clog2(CAP + 1);
localparam BEATS = H * W * C / P_OUT;     // output beats per frame
localparam NW = $clog2(BEATS + 1);
/* verilator lint_off WIDTH */
localparam [KW-1:0] P_IN_C = P_IN;
localparam [KW-1:0] P_OUT_C = P_OUT;
localparam [KW-1:0] IN_MAX = CAP - P_IN;  // accept while at most this many entries are held
localparam [NW-1:0] N_LAST = BEATS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P_IN < 1 || P_OUT < 1 || C % P_IN != 0 || C % P_OUT != 0) begin
        $error("%m: illegal parameters (C=%0d P_IN=%0d P_OUT=%0d)", C, P_IN, P_OUT);
        $finish;
    end
end

reg [CAP*DATA_W-1:0] q;
reg [KW-1:0] cnt;
reg [NW-1:0] count;
wire [CAP*DATA_W-1:0] q_next;
reg [KW-1:0] cnt_out;

wire in_fire = s_axis_tvalid && s_axis_tready;
wire out_fire = m_axis_tvalid && m_axis_tready;
assign s_axis_tready = (cnt <= IN_MAX);
assign m_axis_tvalid = (cnt >= P_OUT_C);
assign m_axis_tdata = q[P_OUT*DATA_W-1:0];
assign m_axis_tlast = (count == N_LAST);

always @* begin
    cnt_out = out_fire ? cnt - P_OUT_C : cnt;
end

// next queue contents per entry: the entry P_OUT places up (after a read) or itself, unless the input beat
// lands on it (lane j goes to entry cnt_out + j); per-entry muxes instead of a variable part-select shifter
genvar i;
generate
    for (i = 0; i < CAP; i = i + 1) begin : ent
        wire [DATA_W-1:0] kept;
        if (i + P_OUT < CAP) begin : up
            assign kept = out_fire ? q[(i + P_OUT)*DATA_W +: DATA_W] : q[i*DATA_W +: DATA_W];
        end else begin : top
            assign kept = out_fire ? {DATA_W{1'b0}} : q[i*DATA_W +: DATA_W];
        end
        reg [DATA_W-1:0] v;
        integer j;
        always @* begin
            v = kept;
            for (j = 0; j < P_IN; j = j + 1) begin
                /* verilator lint_off WIDTH */
                if (in_fire && (cnt_out + j == i)) begin
                /* verilator lint_on WIDTH */
                    v = s_axis_tdata[j*DATA_W +: DATA_W];
                end
            end
        end
        assign q_next[i*DATA_W +: DATA_W] = v;
    end
endgenerate

always @(posedge clk) begin
    q <= q_next;
    cnt <= cnt_out + (in_fire ? P_IN_C : {KW{1'b0}});
    if (out_fire) begin
        count <= (count == N_LAST) ? {NW{1'b0}} : count + 1'b1;
    end
    if (rst) begin
        cnt <= {KW{1'b0}};
        count <= {NW{1'b0}};
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
