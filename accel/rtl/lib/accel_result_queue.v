// accel_result_queue: the output side of a pipelined compute unit (accel_mvu, accel_dwu)
//
// A unit issues a result-completing step only while `room` is high; the result reaches `in_*` a fixed number
// of stages later and waits here until it is taken: an accel_fifo of DEPTH words (LUT-RAM) and its output
// register, which drives m_axis.  `room` compares the results owed (issued and not yet taken at m_axis) with
// CAP = DEPTH + 1, from a register only: the result m_axis hands over in the same cycle is not credited, so
// no combinational path runs from m_axis_tready to `room` (and on to the unit's s_axis_tready).  The queue is
// written only by results that were owed room, so it never overflows; with m_axis always ready a result is
// owed for DEPTH cycles after its issue when DEPTH = (the unit's stages from issue to `in_valid`) + 2, the
// smallest depth that keeps one issue per cycle.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_result_queue #(
    parameter WIDTH = 8,   // result width (TDATA)
    parameter DEPTH = 6    // queue words (>= 4); its output register holds one more
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             issue,      // a result-completing step is issued this cycle (only while room)
    output wire             room,       // another result may be issued
    input  wire             in_valid,   // a result arrives
    input  wire [WIDTH-1:0] in_data,
    input  wire             in_last,    // it ends the frame
    output wire [WIDTH-1:0] m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready,
    output wire             m_axis_tlast
);

localparam CAP = DEPTH + 1;           // results that can be owed at once
localparam OWW = $clog2(CAP + 1);     // bits of the owed-results count

initial begin
    if (DEPTH < 4 || WIDTH < 1) begin
        $error("%m: illegal parameters (WIDTH=%0d DEPTH=%0d)", WIDTH, DEPTH);
        $finish;
    end
end

reg [OWW-1:0] owed;                   // results issued and not yet taken at m_axis
reg room_r;                           // owed != CAP, kept as a flip-flop so that room leaves a register
wire [OWW-1:0] owed_next = owed + {{(OWW-1){1'b0}}, issue} - {{(OWW-1){1'b0}}, m_axis_tvalid && m_axis_tready};
assign room = room_r;

always @(posedge clk) begin
    if (rst) begin
        owed <= {OWW{1'b0}};
        room_r <= 1'b1;
    end else begin
        owed <= owed_next;
        room_r <= (owed_next != CAP[OWW-1:0]);
    end
end

// the queue itself: an accel_fifo, whose input is never refused (only results owed room arrive)
/* verilator lint_off PINCONNECTEMPTY */
accel_fifo #(.DEPTH(DEPTH), .WIDTH(WIDTH)) q (
    .clk(clk), .rst(rst),
    .s_axis_tdata(in_data), .s_axis_tvalid(in_valid), .s_axis_tready(), .s_axis_tlast(in_last),
    .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
    .m_axis_tlast(m_axis_tlast)
);
/* verilator lint_on PINCONNECTEMPTY */

endmodule

`resetall
