// accel_fork: broadcast one stream to N consumers (a tensor read by several nodes: residual and Inception forks)
//
// Each beat is offered to every output; an output that has taken the beat is masked off (done flag) until
// all outputs have taken it, then the beat is consumed.  So consumers may accept in different cycles and no
// beat is duplicated or lost.  The beat is held in an accel_skid (one register stage, latency 1), so that
// s_axis_tready is a flip-flop: the outputs' readies, which all must be seen before a beat is consumed,
// reach no input ready (the network generator puts FIFOs behind the outputs).  Valid never waits on ready.
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
    wire [WIDTH-1:0] b_data;
    wire b_valid, b_last;
    wire b_ready = &(done | m_axis_tready);  // every output has the beat: it is consumed

    accel_skid #(.WIDTH(WIDTH)) beat (
        .clk(clk), .rst(rst),
        .s_axis_tdata(s_axis_tdata), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
        .s_axis_tlast(s_axis_tlast),
        .m_axis_tdata(b_data), .m_axis_tvalid(b_valid), .m_axis_tready(b_ready), .m_axis_tlast(b_last)
    );

    assign m_axis_tvalid = {N{b_valid}} & ~done;
    assign m_axis_tdata = {N{b_data}};
    assign m_axis_tlast = {N{b_last}};

    always @(posedge clk) begin
        if (rst) begin
            done <= {N{1'b0}};
        end else if (b_valid) begin
            if (b_ready) done <= {N{1'b0}};
            else done <= done | (m_axis_tready & m_axis_tvalid);
        end
    end

endmodule

`resetall
