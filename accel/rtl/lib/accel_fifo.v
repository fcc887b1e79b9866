// accel_fifo: AXI-Stream FIFO (data + tlast) with a registered output; BRAM-inferable memory.
// Unlike the computing blocks it passes s_axis_tlast through unchanged: a FIFO never reshapes frames.
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_fifo #(
    parameter DEPTH = 16,  // entries in the memory (>= 2); one more beat sits in the output register
    parameter WIDTH = 8    // TDATA width in bits (>= 1)
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

    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;  // address bits
    localparam CW = $clog2(DEPTH + 1);                // count bits

    initial begin
        if (DEPTH < 2 || WIDTH < 1) begin
            $error("%m: accel_fifo needs DEPTH >= 2 and WIDTH >= 1 (DEPTH=%0d WIDTH=%0d)", DEPTH, WIDTH);
            $finish;
        end
    end

    reg [WIDTH:0] mem [0:DEPTH-1];  // {tlast, tdata}
    reg [AW-1:0] wr_addr, rd_addr;
    reg [CW-1:0] count;             // beats held in mem (not counting the output register)
    reg [WIDTH:0] out_reg;
    reg out_valid;

    wire do_write = s_axis_tvalid && s_axis_tready;
    wire out_free = !out_valid || m_axis_tready;
    wire do_read = (count != {CW{1'b0}}) && out_free;

    assign s_axis_tready = (count != DEPTH[CW-1:0]);
    assign m_axis_tvalid = out_valid;
    assign m_axis_tdata = out_reg[WIDTH-1:0];
    assign m_axis_tlast = out_reg[WIDTH];

    always @(posedge clk) begin
        if (do_write) mem[wr_addr] <= {s_axis_tlast, s_axis_tdata};
        if (do_read) out_reg <= mem[rd_addr];  // reads an older entry than any write of this cycle
    end

    always @(posedge clk) begin
        if (rst) begin
            wr_addr <= {AW{1'b0}};
            rd_addr <= {AW{1'b0}};
            count <= {CW{1'b0}};
            out_valid <= 1'b0;
        end else begin
            if (do_write) wr_addr <= (wr_addr == DEPTH[AW-1:0] - 1'b1) ? {AW{1'b0}} : wr_addr + 1'b1;
            if (do_read) rd_addr <= (rd_addr == DEPTH[AW-1:0] - 1'b1) ? {AW{1'b0}} : rd_addr + 1'b1;
            if (do_write && !do_read) count <= count + 1'b1;
            else if (!do_write && do_read) count <= count - 1'b1;
            if (do_read) out_valid <= 1'b1;
            else if (m_axis_tready) out_valid <= 1'b0;
        end
    end

endmodule

`resetall
