// accel_fork: broadcast one stream to N consumers (a tensor read by several nodes: residual and Inception forks)
//
// Each beat is offered to every output; an output that has taken the beat is masked off (done flag) until
// all outputs have taken it, then the input beat is consumed.  So consumers may accept in different
// cycles and no beat is duplicated or lost.  Data and TLAST pass through combinationally (no storage);
// the network generator puts FIFOs behind the outputs.  Valid never waits on ready.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_fork #(
    parameter WIDTH = 8,  // TDATA width in bits (>= 1)
    parameter N = 2       // number of outputs (>= 2)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire [WIDTH-1:0]   s_axis_tdata,
    input  wire               s_axis_tvalid,
    output wire               s_axis_tready,
    input  wire               s_axis_tlast,
    output wire [N*WIDTH-1:0] m_axis_tdata,   // output k at bits [k*WIDTH +: WIDTH]
    output wire [N-1:0]       m_axis_tvalid,
    input  wire [N-1:0]       m_axis_tready,
    output wire [N-1:0]       m_axis_tlast
);

    initial begin
        if (WIDTH < 1 || N < 2) begin
            $error("%m: accel_fork needs WIDTH >= 1 and N >= 2 (WIDTH=%0d N=%0d)", WIDTH, N);
            $finish;
        end
    end

    reg [N-1:0] done;  // outputs that already took the current beat

    assign m_axis_tvalid = {N{s_axis_tvalid}} & ~done;
    assign m_axis_tdata = {N{s_axis_tdata}};
    assign m_axis_tlast = {N{s_axis_tlast}};
    assign s_axis_tready = &(done | m_axis_tready);

    always @(posedge clk) begin
        if (rst) begin
            done <= {N{1'b0}};
        end else if (s_axis_tvalid) begin
            if (s_axis_tready) done <= {N{1'b0}};
            else done <= done | (m_axis_tready & m_axis_tvalid);
        end
    end

endmodule

`resetall
