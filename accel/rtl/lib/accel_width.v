// accel_width: stream width converter, P_IN elements per input beat -> P_OUT elements per output beat
//
// Elements keep their order (the stream order of accel.deploy.stream); both lane counts divide C, so
// L = lcm(P_IN, P_OUT) divides C too and every group of L elements holds elements of one pixel.  Built
// like hardware: no element is ever selected by a computed position, only shifted.
//   * a gather register collects KI = L/P_IN input beats, shifting each new beat in at the top;
//   * a scatter register holds one full group and shifts P_OUT elements out per output beat (its low
//     lanes drive m_axis_tdata directly, so the output is a register);
//   * a full group moves from gather to scatter when the scatter register has sent its last beat; the
//     last input beat of a group goes straight into the scatter register when it is free at that edge
//     (so the input side, when it is the busier one, never waits a cycle for the hand-over).
// s_axis_tready is a register (the gather register is not holding a full group): no combinational path
// from m_axis_tready to s_axis_tready.  Throughput: one beat per cycle on the side with more beats.
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

// greatest common divisor by Euclid at elaboration (constant function)
function integer gcd(input integer a, input integer b);
    integer x, y, t;
    begin
        x = a;
        y = b;
        while (y != 0) begin
            t = x % y;
            x = y;
            y = t;
        end
        gcd = x;
    end
endfunction

localparam L = P_IN / gcd(P_IN, P_OUT) * P_OUT;  // elements per group
localparam KI = L / P_IN;                         // input beats per group
localparam KO = L / P_OUT;                        // output beats per group
localparam GW = L * DATA_W;
localparam KIW = $clog2(KI + 1);
localparam KOW = $clog2(KO + 1);
localparam BEATS = H * W * C / P_OUT;             // output beats per frame
localparam NW = $clog2(BEATS + 1);
/* verilator lint_off WIDTH */
localparam [KIW-1:0] KI_LAST = KI - 1;
localparam [KOW-1:0] KO_LAST = KO - 1;
localparam [NW-1:0] N_LAST = BEATS - 1;
/* verilator lint_on WIDTH */

initial begin
    if (P_IN < 1 || P_OUT < 1 || C % P_IN != 0 || C % P_OUT != 0) begin
        $error("%m: illegal parameters (C=%0d P_IN=%0d P_OUT=%0d)", C, P_IN, P_OUT);
        $finish;
    end
end

reg [GW-1:0] gather;      // input beats of the group being collected, oldest in the low lanes
reg [KIW-1:0] gi;         // input beats collected in it
reg g_full;               // it holds a whole group that waits for the scatter register
reg [GW-1:0] scatter;     // the group being sent, next output beat in the low lanes
reg [KOW-1:0] so;         // output beats sent from it
reg s_valid;              // it holds unsent beats
reg [NW-1:0] count;       // output beats of the frame sent

wire in_fire = s_axis_tvalid && s_axis_tready;
wire out_fire = s_valid && m_axis_tready;
wire s_free = !s_valid || (out_fire && so == KO_LAST);  // the scatter register may load at this edge
wire in_group_end = in_fire && gi == KI_LAST;
// the gather register shifted by the incoming beat (the newest beat enters at the top)
wire [GW-1:0] gathered;
generate
    if (KI > 1) begin : shift_in
        assign gathered = {s_axis_tdata, gather[GW-1:P_IN*DATA_W]};
    end else begin : whole
        assign gathered = s_axis_tdata;
    end
endgenerate

assign s_axis_tready = !g_full;
assign m_axis_tvalid = s_valid;
assign m_axis_tdata = scatter[P_OUT*DATA_W-1:0];
assign m_axis_tlast = (count == N_LAST);

always @(posedge clk) begin
    if (in_fire && !(in_group_end && s_free)) begin
        gather <= gathered;
    end
    if (in_fire) begin
        gi <= in_group_end ? {KIW{1'b0}} : gi + 1'b1;
    end
    // hand-over: a waiting full group, or the group completed by this edge's input beat
    if (g_full && s_free) begin
        scatter <= gather;
        g_full <= 1'b0;
    end else if (in_group_end && s_free) begin
        scatter <= gathered;
    end else begin
        if (in_group_end) begin
            g_full <= 1'b1;
        end
        if (out_fire) begin
            scatter <= scatter >> (P_OUT * DATA_W);
        end
    end
    if ((g_full || in_group_end) && s_free) begin
        s_valid <= 1'b1;
        so <= {KOW{1'b0}};
    end else if (out_fire) begin
        so <= so + 1'b1;
        if (so == KO_LAST) begin
            s_valid <= 1'b0;
        end
    end
    if (out_fire) begin
        count <= (count == N_LAST) ? {NW{1'b0}} : count + 1'b1;
    end
    if (rst) begin
        gi <= {KIW{1'b0}};
        g_full <= 1'b0;
        so <= {KOW{1'b0}};
        s_valid <= 1'b0;
        count <= {NW{1'b0}};
    end
end

/* verilator lint_off UNUSEDSIGNAL */
wire unused_last = s_axis_tlast;
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
