// accel_rom: a constant table from a $readmemh image, read synchronously (q <= mem[addr] every cycle)
//
// One block for every ROM of the library (the MVU's and DWU's weights and biases).  The read is registered
// so that synthesis may use block RAM; BLOCK = 1 asks for it (rom_style "block", honoured by yosys'
// memory_libmap and by Vivado), BLOCK = 0 leaves the choice to synthesis (yosys 0.23 keeps a ROM in LUT
// logic unless its own costs make block RAM cheaper; it cannot put a ROM in LUT-RAM).  The generator sets
// BLOCK from a size threshold (accel.rtl.blocks.cost.BLOCK_ROM_BITS), which a folding file overrides per
// layer ("ram_style").
`resetall
`timescale 1ns / 1ps
`default_nettype none

module accel_rom #(
    parameter WIDTH = 8,             // word width
    parameter DEPTH = 2,             // words
    parameter FILE = "rom.mem",      // image: DEPTH lines of hexadecimal words
    parameter BLOCK = 0              // 1: block RAM (rom_style "block"), 0: synthesis decides
) (
    input  wire                                      clk,
    input  wire [((DEPTH > 1) ? $clog2(DEPTH) : 1)-1:0] addr,
    output reg  [WIDTH-1:0]                          q
);

generate
    if (BLOCK != 0) begin : bram
        (* rom_style = "block" *) reg [WIDTH-1:0] mem [0:DEPTH-1];
        initial $readmemh(FILE, mem);
        always @(posedge clk) q <= mem[addr];
    end else begin : any
        reg [WIDTH-1:0] mem [0:DEPTH-1];
        initial $readmemh(FILE, mem);
        always @(posedge clk) q <= mem[addr];
    end
endgenerate

endmodule

`resetall
