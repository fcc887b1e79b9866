// accel_skid: the output register of a block, with a spare register so that s_axis_tready is a flip-flop
//
// A block that computes a beat and hands it on (add, concat, requantiser, pool core) needs its input ready to
// follow its output ready; written as one output register, that is a combinational path from m_axis_tready
// to s_axis_tready, and across a chain of such blocks one long path.  Here the output register A drives
// m_axis and a spare register B takes a beat that arrives while A is held, so s_axis_tready = !B_valid is a
// register: m_axis_tready reaches only A and B.  A beat offered while A is free (empty or handed over this
// cycle) goes straight into A, so the latency is one cycle, as a plain output register's, and the
// throughput one beat per cycle.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_skid #(
    parameter WIDTH = 8   // TDATA width in bits (>= 1)
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] s_axis_tdata,
    input  wire             s_axis_tvalid,
    output wire             s_axis_tready,
    input  wire             s_axis_tlast,
    output wire [WIDTH-1:0] m_axis_tdata,
    output wire             m_axis_tvalid,
    input  wire             m_axis_tready,
    output wire             m_axis_tlast
);

reg [WIDTH:0] a, b;   // {tlast, tdata}
reg a_valid, b_valid;

wire in_fire = s_axis_tvalid && !b_valid;
wire a_free = !a_valid || m_axis_tready;

assign s_axis_tready = !b_valid;
assign m_axis_tvalid = a_valid;
assign m_axis_tdata = a[WIDTH-1:0];
assign m_axis_tlast = a[WIDTH];

always @(posedge clk) begin
    if (a_free) begin
        a <= b_valid ? b : {s_axis_tlast, s_axis_tdata};
    end else if (in_fire) begin
        b <= {s_axis_tlast, s_axis_tdata};
    end
    if (rst) begin
        a_valid <= 1'b0;
        b_valid <= 1'b0;
    end else if (a_free) begin
        a_valid <= b_valid || in_fire;
        b_valid <= 1'b0;
    end else if (in_fire) begin
        b_valid <= 1'b1;
    end
end

endmodule

`resetall
